using Spectre.Console;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>
/// Streams the UCI Online Retail purchase log (bundled) in time order through the lifelong tracker and compares the
/// continual-learning strategies month by month; <c>--help</c> lists the options, the run itself is <see cref="StreamingRun"/>.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        // Redirected output has no terminal width; Spectre would wrap every line at 80 columns.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        }

        return StreamingRun.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
    }

    /// <summary>Finds the bundled data by walking up from the working directory and from the executable.</summary>
    internal static string FindBundledData()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, Data.OnlineRetail.SamplePath);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException($"The bundled data '{Data.OnlineRetail.SamplePath}' was not found above the working directory; pass --data PATH.");
    }
}

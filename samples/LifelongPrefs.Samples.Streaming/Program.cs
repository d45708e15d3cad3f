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
}

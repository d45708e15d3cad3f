using Spectre.Console;

namespace LifelongPrefs.Tests.Samples;

/// <summary>Drives a sample's <c>Run</c> in-process on a plain 200-column console and captures what it writes.</summary>
internal static class SampleHarness
{
    /// <summary>A sample's entry point: the command line, the console, standard output and standard error; returns the exit code.</summary>
    internal delegate int Entry(IReadOnlyList<string> args, IAnsiConsole console, TextWriter output, TextWriter error);

    /// <summary>Runs <paramref name="run"/> on <paramref name="args"/>.</summary>
    /// <returns>The exit code, the console followed by standard output, and standard error.</returns>
    internal static (int Code, string Out, string Error) Run(Entry run, string[] args)
    {
        var console = new StringWriter();
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(console),
        });
        ansi.Profile.Width = 200;
        int code = run(args, ansi, output, error);
        return (code, console + output.ToString(), error.ToString());
    }

    /// <summary>Writes <paramref name="text"/> to the file <paramref name="name"/> in <paramref name="folder"/>.</summary>
    /// <returns>The file's path.</returns>
    internal static string WriteFile(string folder, string name, string text)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Asserts that <c>--help</c> among <paramref name="args"/> exits 0 with nothing on stderr and a usage text naming every one of <paramref name="options"/>.</summary>
    internal static void AssertHelpNames(Entry run, string[] args, string[] options)
    {
        var (code, output, error) = Run(run, args);
        Assert.Equal(0, code);
        Assert.Empty(error);
        foreach (string option in options)
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }
    }

    /// <summary>Asserts that <paramref name="error"/> is one line, <c>error: …</c>, naming <paramref name="fragment"/>.</summary>
    internal static void AssertOneErrorLine(string error, string fragment)
    {
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
    }
}

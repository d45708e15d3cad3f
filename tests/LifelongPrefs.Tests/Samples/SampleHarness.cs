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
}

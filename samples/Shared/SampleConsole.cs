using System.Globalization;

namespace LifelongPrefs.Samples;

/// <summary>
/// What both sample apps share, linked into each (so each assembly has its own internal copy): the run harness (parse,
/// help, execute; exit codes 0 done, 2 a bad option or file, 1 an unexpected failure, each failure one line on stderr,
/// never a stack trace), the command-line loop and its number parsers, and the lookup of the bundled data.
/// </summary>
internal static class SampleConsole
{
    /// <summary>The exit code of a bad option or input file.</summary>
    internal const int BadInput = 2;

    // Long enough for any of our messages; a garbled file's header quoted back is cut here.
    private const int MaxMessageLength = 400;

    /// <summary>Runs a sample: parses the command line, prints the usage on <c>--help</c>, else executes.</summary>
    /// <typeparam name="TOptions">The sample's parsed options.</typeparam>
    /// <param name="args">The command line.</param>
    /// <param name="parse">Parses the command line; throws <see cref="ArgumentException"/> on a mistake.</param>
    /// <param name="help">Whether the parsed options ask for the usage text.</param>
    /// <param name="usage">The usage text.</param>
    /// <param name="execute">The run itself.</param>
    /// <param name="output">Where the usage text goes (standard output).</param>
    /// <param name="error">Where the one-line error goes (standard error).</param>
    /// <returns>The exit code.</returns>
    internal static int Run<TOptions>(IReadOnlyList<string> args, Func<IReadOnlyList<string>, TOptions> parse, Func<TOptions, bool> help, string usage,
        Action<TOptions> execute, TextWriter output, TextWriter error)
    {
        TOptions options;
        try
        {
            options = parse(args);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {OneLine(e)} (--help prints the usage)");
            return BadInput;
        }

        if (help(options))
        {
            output.Write(usage);
            output.WriteLine();
            return 0;
        }

        try
        {
            execute(options);
            return 0;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            error.WriteLine($"error: {OneLine(e)}");
            return BadInput;
        }
#pragma warning disable CA1031 // The sample's promise is one line and an exit code, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            error.WriteLine($"unexpected error ({e.GetType().Name}): {OneLine(e)}");
            return 1;
        }
    }

    /// <summary>Failures that come from the user's file or options rather than from the sample.</summary>
    private static bool IsBadInput(Exception e) =>
        e is ArgumentException or FormatException or IOException or UnauthorizedAccessException or InvalidDataException;

    /// <summary>
    /// The message on one printable line: without the "(Parameter 'x')" suffix that means nothing to a user, with
    /// whitespace and control characters (a binary file's header quoted back) folded to single spaces, and cut at
    /// <see cref="MaxMessageLength"/> characters.
    /// </summary>
    internal static string OneLine(Exception e)
    {
        string message = e is ArgumentException { ParamName: string name } ? e.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : e.Message;
        string printable = new([.. message.Select(c => char.IsControl(c) ? ' ' : c)]);
        string line = string.Join(' ', printable.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length > MaxMessageLength ? line[..MaxMessageLength] + "…" : line;
    }

    /// <summary>
    /// Reads a command line of <c>--name value</c>, <c>--name=value</c> and <c>--flag</c> options into a map from option
    /// name to value (null for a flag).
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="valued">The options that take a value.</param>
    /// <param name="flags">The options that take none.</param>
    /// <exception cref="ArgumentException">An argument is not an option, an option is unknown, given twice, lacks its value, or a flag has one.</exception>
    internal static Dictionary<string, string?> ReadOptions(IReadOnlyList<string> args, string[] valued, string[] flags)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{arg}': options start with --.");
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg : arg[..equals];
            bool takesValue = valued.Contains(name);
            if (!takesValue && !flags.Contains(name))
            {
                throw new ArgumentException($"Unknown option '{name}'.");
            }

            string? value = null;
            if (equals >= 0)
            {
                value = takesValue ? arg[(equals + 1)..] : throw new ArgumentException($"Option '{name}' takes no value but got '{arg[(equals + 1)..]}'.");
            }
            else if (takesValue)
            {
                // "-5" (a negative seed) is a value; only "--" starts an option.
                value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                    ? args[++i]
                    : throw new ArgumentException($"Option '{name}' needs a value.");
            }

            if (takesValue && string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException($"Option '{name}' needs a value but got '{value}'.");
            }

            if (!values.TryAdd(name, value))
            {
                throw new ArgumentException($"Option '{name}' is given twice.");
            }
        }

        return values;
    }

    /// <summary>An option's value as a positive integer.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not a positive integer.</exception>
    internal static int ParsePositive(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"Option '{option}' needs a positive integer but got '{text}'.");

    /// <summary>An option's value as an integer.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not an integer.</exception>
    internal static int ParseInt(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ArgumentException($"Option '{option}' needs an integer but got '{text}'.");

    /// <summary>The data file to read: <paramref name="dataPath"/> (<c>--data</c>) or, when null, the bundled copy.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist or is a directory, or the bundled copy is not found.</exception>
    internal static string DataFile(string? dataPath)
    {
        string path = dataPath ?? FindBundledData();
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"'{path}' is a directory; --data needs a .csv or .csv.gz file.");
        }

        return File.Exists(path) ? path : throw new FileNotFoundException($"The data file '{path}' does not exist.");
    }

    /// <summary>Finds the bundled data by walking up from the working directory and from the executable.</summary>
    /// <exception cref="FileNotFoundException">The bundled data is above neither.</exception>
    private static string FindBundledData()
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

namespace LifelongPrefs.Samples.Streaming;

/// <summary>
/// The streaming sample's command line, parsed and checked before any file is opened. Every mistake throws
/// <see cref="ArgumentException"/> with a message that names the option and the bad value; <see cref="StreamingRun"/>
/// prints it on one line and exits with code 2.
/// </summary>
internal sealed record StreamingOptions
{
    /// <summary>The default cap on the epochs of each monthly BPR-MF refit (it stops earlier when validation stops improving).</summary>
    internal const int DefaultEpochs = 60;

    /// <summary>The default output folder, under the working directory.</summary>
    internal const string DefaultOut = "streaming-output";

    internal const string Usage = """
        usage: LifelongPrefs.Samples.Streaming [options]

        Streams a purchase log in time order through a PreferenceTracker (prequential hits, drift detectors, update
        latency, one customer's interest profile month by month), then runs the monthly continual-learning protocol
        for each strategy side by side (retrain, naive, replay, replay+ewc, replay+distill, default, tracker) and
        writes PNG charts. Without options it reads the bundled UCI Online Retail copy (samples/data/uci-online-retail/).

          --data PATH     an Online Retail file, .csv or .csv.gz (default: the bundled copy)
          --out DIR       where the PNG charts go (default: streaming-output under the working directory)
          --epochs N      the epoch cap of each monthly BPR-MF refit ("retrain"; default 60, early stopping on)
          --seed N        seed of every random choice (default: 42)
          --json          end with one line of JSON holding every number (a number without a value is null)
          --help, -h      print this text

        A bad option or file ends the run with one line on stderr and exit code 2.
        """;

    /// <summary>Gets the data file, or null for the bundled Online Retail copy.</summary>
    public string? DataPath { get; init; }

    /// <summary>Gets the output folder (relative to the working directory unless rooted).</summary>
    public string OutDirectory { get; init; } = DefaultOut;

    /// <summary>Gets the epoch cap of each retrain.</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Gets the seed.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Gets whether to end with a JSON line.</summary>
    public bool Json { get; init; }

    /// <summary>Gets whether the user asked for the usage text.</summary>
    public bool Help { get; init; }

    /// <summary>Parses a command line. <c>--name value</c> and <c>--name=value</c> are both accepted.</summary>
    /// <exception cref="ArgumentException">An option is unknown, given twice, lacks its value, or its value is bad.</exception>
    internal static StreamingOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(a => a is "--help" or "-h"))
        {
            return new StreamingOptions { Help = true };
        }

        Dictionary<string, string?> values = SampleConsole.ReadOptions(args, ["--data", "--out", "--epochs", "--seed"], ["--json"]);
        string? Get(string name) => values.GetValueOrDefault(name);
        return new StreamingOptions
        {
            DataPath = Get("--data"),
            OutDirectory = Get("--out") ?? DefaultOut,
            Epochs = Get("--epochs") is string epochs ? SampleConsole.ParsePositive(epochs, "--epochs") : DefaultEpochs,
            Seed = Get("--seed") is string seed ? SampleConsole.ParseInt(seed, "--seed") : 42,
            Json = values.ContainsKey("--json"),
        };
    }
}

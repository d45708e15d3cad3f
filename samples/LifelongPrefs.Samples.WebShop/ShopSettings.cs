using System.Globalization;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// The web shop's command line, parsed and checked before anything starts. Every mistake throws
/// <see cref="ArgumentException"/> naming the option and the bad value; <see cref="Program"/> prints it on one line and
/// exits with code 2.
/// </summary>
internal sealed record ShopSettings
{
    /// <summary>The address the shop listens on when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says otherwise.</summary>
    internal const string DefaultUrl = "http://127.0.0.1:5080";

    internal const string Usage = """
        usage: LifelongPrefs.Samples.WebShop [options]

        A web shop's recommendation service over a PreferenceTracker (ASP.NET Core minimal API). It serves at once
        and, in the background, replays the bundled UCI Online Retail log up to --warm-up-until as warm-up
        (GET /healthz says "warming-up" until it is done). Endpoints: POST /events, GET /users/{id}/recommendations,
        POST /feedback, GET /users/{id}/profile, GET /users/{id}/explain/{item}, GET /healthz, GET /metrics,
        POST /flush (README.md beside the project has a curl call for each).

          --urls URLS             where to listen (default http://127.0.0.1:5080, or ASPNETCORE_URLS)
          --data PATH             an Online Retail file, .csv or .csv.gz (default: the bundled copy)
          --warm-up-until DATE    replay the events before this day as warm-up (default 2011-09-01)
          --warm-up-limit N       replay at most N events (default: all before the day)
          --no-warm-up            start empty
          --seed N                the tracker's seed (default 42)
          --load                  run the bounded load test instead of serving (loopback only, stops by itself)
          --load-events N         events the load test replays from the warm-up day on (default 10000)
          --load-batch N          events per POST /events (default 250)
          --load-requests N       recommendation requests in all, spread over 8 clients (default 1000)
          --load-seconds N        the load test's time limit in seconds (default 20)
          --help, -h              print this text

        A bad option or file ends with one line on stderr and exit code 2.
        """;

    /// <summary>Gets the URLs to listen on, or null for <c>ASPNETCORE_URLS</c> or else <see cref="DefaultUrl"/>.</summary>
    public string? Urls { get; init; }

    /// <summary>Gets the data file, or null for the bundled Online Retail copy.</summary>
    public string? DataPath { get; init; }

    /// <summary>Gets the day before which the log is replayed as warm-up.</summary>
    public DateTimeOffset WarmUpUntil { get; init; } = new(2011, 9, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Gets the most events the warm-up replays.</summary>
    public int WarmUpLimit { get; init; } = int.MaxValue;

    /// <summary>Gets whether the shop starts empty.</summary>
    public bool NoWarmUp { get; init; }

    /// <summary>Gets the tracker's seed.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Gets whether to run the load test instead of serving.</summary>
    public bool Load { get; init; }

    /// <summary>Gets the load test's sizes.</summary>
    public LoadSettings LoadSettings { get; init; } = new();

    /// <summary>Gets whether the user asked for the usage text.</summary>
    public bool Help { get; init; }

    /// <summary>Gets whether the host logs nothing (tests and the load test keep the console for their own report).</summary>
    internal bool Quiet { get; init; }

    /// <summary>Gets the data already loaded (tests share one copy), or null to load <see cref="DataPath"/>.</summary>
    internal ShopData? Data { get; init; }

    /// <summary>Gets a task the warm-up waits for before it starts (tests hold it to see "warming-up"), or null.</summary>
    internal Task? WarmUpGate { get; init; }

    /// <summary>Parses a command line. <c>--name value</c> and <c>--name=value</c> are both accepted.</summary>
    /// <exception cref="ArgumentException">An option is unknown, given twice, lacks its value, or its value is bad.</exception>
    internal static ShopSettings Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(a => a is "--help" or "-h"))
        {
            return new ShopSettings { Help = true };
        }

        Dictionary<string, string?> o = SampleConsole.ReadOptions(args,
            ["--urls", "--data", "--warm-up-until", "--warm-up-limit", "--seed", "--load-events", "--load-batch", "--load-requests", "--load-seconds"],
            ["--no-warm-up", "--load"]);
        string? Get(string name) => o.TryGetValue(name, out string? v) ? v : null;
        var load = new LoadSettings();
        return new ShopSettings
        {
            Urls = Get("--urls"),
            DataPath = Get("--data"),
            WarmUpUntil = Get("--warm-up-until") is { } day ? ParseDay(day, "--warm-up-until") : new ShopSettings().WarmUpUntil,
            WarmUpLimit = Get("--warm-up-limit") is { } limit ? SampleConsole.ParsePositive(limit, "--warm-up-limit") : int.MaxValue,
            NoWarmUp = o.ContainsKey("--no-warm-up"),
            Seed = Get("--seed") is { } seed ? SampleConsole.ParseInt(seed, "--seed") : 42,
            Load = o.ContainsKey("--load"),
            LoadSettings = load with
            {
                Events = Get("--load-events") is { } e ? SampleConsole.ParsePositive(e, "--load-events") : load.Events,
                BatchSize = Get("--load-batch") is { } b ? SampleConsole.ParsePositive(b, "--load-batch") : load.BatchSize,
                Requests = Get("--load-requests") is { } r ? SampleConsole.ParsePositive(r, "--load-requests") : load.Requests,
                TimeLimit = Get("--load-seconds") is { } s ? TimeSpan.FromSeconds(SampleConsole.ParsePositive(s, "--load-seconds")) : load.TimeLimit,
            },
        };
    }

    private static DateTimeOffset ParseDay(string text, string option) =>
        DateTimeOffset.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset day)
            ? day
            : throw new ArgumentException($"Option '{option}' needs a day as yyyy-MM-dd but got '{text}'.");
}

using System.Globalization;
using LifelongPrefs.Data;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// The sample's command line, parsed and checked before any file is opened. Every mistake throws
/// <see cref="ArgumentException"/> with a message that names the option and the bad value; <see cref="SampleRun"/>
/// prints it on one line and exits with code 2.
/// </summary>
internal sealed record SampleOptions
{
    /// <summary>The models in the order the sample runs them.</summary>
    internal static readonly string[] AllModels = ["Popularity", "PersonalPopularity", "ItemKNN", "BPR-MF", "MLP", "GRU4Rec", "SASRec", "RepeatAware", "TIFU-KNN", "UP-CF", "RepeatExplore", "Tracker"];

    /// <summary>The keys of <c>--columns</c>, the three required ones first; "weight" also answers to "rating" and "value".</summary>
    private static readonly string[] ColumnKeys = ["user", "item", "time", "basket", "weight", "quantity", "kind", "text", "category", "price"];

    internal const string Usage = """
        usage: LifelongPrefs.Samples.OnlineRetail [options]

        Trains the recommenders on a purchase log and prints each evaluation protocol's metrics. Without
        options it reads the bundled UCI Online Retail copy (samples/data/uci-online-retail/).

        Data
          --data PATH          a .csv or .csv.gz file (default: the bundled Online Retail copy). A file in the
                               Online Retail layout needs nothing else; any other file needs --columns.
          --columns MAP        which columns hold what, as KEY=COL pairs separated by commas:
                                 user=COL,item=COL,time=COL are required;
                                 basket=COL (invoice, order, session), weight=COL (a rating or weight; also
                                 rating=COL), quantity=COL, kind=COL (view, cart, purchase, ...), text=COL (item
                                 description, printed with the top-10), category=COL, price=COL are optional.
                               COL is a header name (case-insensitive) or a 1-based column number.
          --time-format F      iso (default: 2010-12-01 08:26:00, 2010-12-01T08:26:00Z, with or without an
                               offset), unix-s (seconds since 1970, e.g. 1291191960), unix-ms (milliseconds),
                               or a .NET date pattern such as "dd/MM/yyyy HH:mm". Without an offset, UTC.
          --delimiter D        auto (default: tab, comma, semicolon or pipe, whichever the first line has most
                               of), tab, comma, semicolon, pipe, space, or any single character.
          --no-header          the file has no header line: COL must be column numbers.
          --min-weight X       keep only rows whose weight is at least X (with weight=COL; e.g. 4 makes
                               "rated 4 or more" the positive interactions).
          --lenient            skip malformed rows and report how many, instead of stopping at the first.

        Run
          --models A,B         which models, in this order (default: all): Popularity, PersonalPopularity,
                               ItemKNN, BPR-MF, MLP, GRU4Rec, SASRec, RepeatAware, TIFU-KNN, UP-CF,
                               RepeatExplore, Tracker (case-insensitive).
          --monthly A,B        the models of the monthly protocol (default: ItemKNN, BPR-MF, Tracker, those of
                               --models): batch models retrained every month, the tracker fed month by month;
                               "none" skips it. With Tracker in --models the interest forecast runs too.
          --epochs N           epochs for every learned model (default: each model's own).
          --seed N             seed of every random choice (default: 42).
          --jobs N             how many models train at once, each on one thread (default: the processor
                               count); the numbers are the same for every N, only the wall time changes.
          --user ID            whose top-10 to print at the end (default: the log's first customer).
          --json               end with one line of JSON holding every metric (a metric without a value is null).
          --help, -h           print this text.

        Examples
          --data ratings.tsv --columns user=userId,item=movieId,time=timestamp,weight=rating --time-format unix-s --min-weight 4
          --data orders.csv.gz --columns user=CustomerID,item=StockCode,time=InvoiceDate,basket=InvoiceNo,text=Description
          --data events.txt --no-header --delimiter "|" --columns user=1,item=3,time=2 --time-format "dd/MM/yyyy HH:mm"

        A bad option or file ends the run with one line on stderr and exit code 2.
        """;

    /// <summary>Gets the data file, or null for the bundled Online Retail copy.</summary>
    public string? DataPath { get; init; }

    /// <summary>Gets the column mapping for a file that is not in the Online Retail layout, or null.</summary>
    public CsvColumnMapping? Columns { get; init; }

    /// <summary>Gets how to read a mapped file (delimiter or detection, header, strictness).</summary>
    public CsvReaderOptions Csv { get; init; } = new() { DetectDelimiter = true };

    /// <summary>Gets the models of the monthly protocol (<see langword="null"/>: the default set among <see cref="Models"/>).</summary>
    public IReadOnlyList<string>? Monthly { get; init; }

    /// <summary>Gets the models to run, canonical names, in order.</summary>
    public IReadOnlyList<string> Models { get; init; } = AllModels;

    /// <summary>Gets the epoch count for every learned model, or null for each model's default.</summary>
    public int? Epochs { get; init; }

    /// <summary>Gets how many pieces of work (a model under the holdout protocols, a monthly model, the forecast) run at once.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    /// <summary>Gets the seed.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Gets the external id of the customer whose top-10 ends the run, or null for the log's first.</summary>
    public string? User { get; init; }

    /// <summary>Gets whether to end with a JSON line.</summary>
    public bool Json { get; init; }

    /// <summary>Gets whether the user asked for the usage text.</summary>
    public bool Help { get; init; }

    /// <summary>Gets whether malformed rows are skipped (reported) instead of ending the run.</summary>
    public bool Lenient => Csv.Lenient;

    /// <summary>Parses a command line. <c>--name value</c> and <c>--name=value</c> are both accepted.</summary>
    /// <exception cref="ArgumentException">An option is unknown, given twice, lacks its value, or its value is bad.</exception>
    internal static SampleOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(a => a is "--help" or "-h"))
        {
            return new SampleOptions { Help = true };
        }

        Dictionary<string, string?> values = SampleConsole.ReadOptions(args,
            ["--data", "--columns", "--time-format", "--delimiter", "--min-weight", "--models", "--monthly", "--epochs", "--seed", "--jobs", "--user"],
            ["--no-header", "--lenient", "--json"]);
        return Build(values);
    }

    private static SampleOptions Build(Dictionary<string, string?> values)
    {
        string? Get(string name) => values.GetValueOrDefault(name);

        CsvColumnMapping? columns = Get("--columns") is string map ? ParseColumns(map) : null;
        if (columns is null)
        {
            foreach (string csvOnly in new[] { "--time-format", "--delimiter", "--no-header", "--min-weight" })
            {
                if (values.ContainsKey(csvOnly))
                {
                    throw new ArgumentException($"Option '{csvOnly}' describes a file given with --columns; the Online Retail layout is fixed.");
                }
            }
        }
        else
        {
            columns = columns with { TimestampFormat = ParseTimeFormat(Get("--time-format")) };
            if (Get("--min-weight") is string minimum)
            {
                if (columns.Value is null)
                {
                    throw new ArgumentException("Option '--min-weight' needs a weight column: add weight=COL to --columns.");
                }

                columns = columns with { MinimumValue = ParseFinite(minimum, "--min-weight") };
            }
        }

        var csv = new CsvReaderOptions
        {
            DetectDelimiter = Get("--delimiter") is null or "auto",
            Delimiter = Get("--delimiter") is string d and not "auto" ? ParseDelimiter(d) : ',',
            HasHeader = !values.ContainsKey("--no-header"),
            Lenient = values.ContainsKey("--lenient"),
        };

        return new SampleOptions
        {
            DataPath = Get("--data"),
            Columns = columns,
            Csv = csv,
            Models = Get("--models") is string models ? ParseModels(models) : AllModels,
            Monthly = Get("--monthly") switch
            {
                null => null,
                string m when m.Equals("none", StringComparison.OrdinalIgnoreCase) => [],
                string m => ParseModels(m),
            },
            Epochs = Get("--epochs") is string epochs ? SampleConsole.ParsePositive(epochs, "--epochs") : null,
            Seed = Get("--seed") is string seed ? SampleConsole.ParseInt(seed, "--seed") : 42,
            Jobs = Get("--jobs") is string jobs ? SampleConsole.ParsePositive(jobs, "--jobs") : Environment.ProcessorCount,
            User = Get("--user"),
            Json = values.ContainsKey("--json"),
        };
    }

    private static CsvColumnMapping ParseColumns(string text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string key = (equals < 0 ? pair : pair[..equals]).Trim().ToLowerInvariant();
            string column = equals < 0 ? string.Empty : pair[(equals + 1)..].Trim();
            key = key is "rating" or "value" ? "weight" : key is "description" ? "text" : key;
            if (!ColumnKeys.Contains(key))
            {
                throw new ArgumentException($"--columns: unknown key '{pair}'; the keys are {string.Join(", ", ColumnKeys)} (each as KEY=COL).");
            }

            if (column.Length == 0)
            {
                throw new ArgumentException($"--columns: '{pair}' names no column; write {key}=COL with a header name or a 1-based number.");
            }

            if (!map.TryAdd(key, column))
            {
                throw new ArgumentException($"--columns: the key '{key}' is given twice ('{map[key]}' and '{column}').");
            }
        }

        string[] missing = [.. ColumnKeys[..3].Where(k => !map.ContainsKey(k))];
        if (missing.Length > 0)
        {
            throw new ArgumentException($"--columns needs user=COL, item=COL and time=COL; missing: {string.Join(", ", missing)}.");
        }

        return new CsvColumnMapping
        {
            User = map["user"],
            Item = map["item"],
            Timestamp = map["time"],
            Basket = map.GetValueOrDefault("basket"),
            Value = map.GetValueOrDefault("weight"),
            Quantity = map.GetValueOrDefault("quantity"),
            Kind = map.GetValueOrDefault("kind"),
            Text = map.GetValueOrDefault("text"),
            Category = map.GetValueOrDefault("category"),
            Price = map.GetValueOrDefault("price"),
        };
    }

    /// <summary>The three keywords in any case; anything else is a .NET pattern, checked by the loader before it reads.</summary>
    private static string? ParseTimeFormat(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        CsvColumnMapping.Iso8601 => CsvColumnMapping.Iso8601,
        CsvColumnMapping.UnixSeconds => CsvColumnMapping.UnixSeconds,
        CsvColumnMapping.UnixMilliseconds => CsvColumnMapping.UnixMilliseconds,
        _ => text,
    };

    private static char ParseDelimiter(string text) => text.ToLowerInvariant() switch
    {
        "tab" or "\\t" => '\t',
        "comma" => ',',
        "semicolon" => ';',
        "pipe" => '|',
        "space" => ' ',
        _ when text.Length == 1 && text[0] is not ('"' or '\r' or '\n') => text[0],
        _ => throw new ArgumentException($"Option '--delimiter' needs auto, tab, comma, semicolon, pipe, space or one character (not a quote) but got '{text}'."),
    };

    private static string[] ParseModels(string text)
    {
        var models = new List<string>();
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string known = AllModels.FirstOrDefault(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", AllModels)}.");
            if (!models.Contains(known))
            {
                models.Add(known);
            }
        }

        return models.Count > 0 ? [.. models] : throw new ArgumentException($"Option '--models' names no model but got '{text}'.");
    }

    private static float ParseFinite(string text, string option) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
            ? value
            : throw new ArgumentException($"Option '{option}' needs a number but got '{text}'.");
}

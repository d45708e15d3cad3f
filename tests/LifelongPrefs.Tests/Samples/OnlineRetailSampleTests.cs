using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using LifelongPrefs.Samples.OnlineRetail;
using Spectre.Console;

namespace LifelongPrefs.Tests.Samples;

/// <summary>
/// The sample on a user's own file, driven in-process through <see cref="SampleRun.Run"/>: every bad option or file
/// ends with one line on stderr and exit code 2; small hand-made files run end to end; the JSON line and the
/// progress bars.
/// </summary>
public sealed class OnlineRetailSampleTests : IDisposable
{
    // 6 customers × 3 days × 2 items, tab-separated, Unix seconds, no basket column; ratings 1..5 in a fixed cycle.
    // 1291191960 is 2010-12-01 08:26:00 UTC.
    private static readonly string UnixTsv = BuildUnixTsv();

    private readonly string _folder = Directory.CreateTempSubdirectory("lp-sample-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string BuildUnixTsv()
    {
        var text = new StringBuilder("customer\tsku\twhen\trating\tname\n");
        for (int u = 0; u < 6; u++)
        {
            for (int d = 0; d < 3; d++)
            {
                for (int k = 0; k < 2; k++)
                {
                    int item = (u + (3 * d) + (5 * k)) % 7;
                    text.Append(System.Globalization.CultureInfo.InvariantCulture, $"c{u}\tsku{item}\t{1291191960 + (600 * u) + (86400 * d)}\t{1 + ((u + d + k) % 5)}\titem number {item}\n");
                }
            }
        }

        return text.ToString();
    }

    private string WriteFile(string name, string text) => SampleHarness.WriteFile(_folder, name, text);

    private static (int Code, string Out, string Error) Run(params string[] args) => SampleHarness.Run(SampleRun.Run, args);

    [Fact]
    public void Help_prints_the_usage_with_every_option() =>
        SampleHarness.AssertHelpNames(SampleRun.Run, ["--models", "Nope", "--help"], ["--data", "--columns", "--time-format", "unix-s", "unix-ms", "--delimiter", "--no-header", "--min-weight", "--lenient", "--models", "--epochs", "--seed", "--user", "--json"]);

    /// <summary>Each case: the arguments (FILE is replaced by a file holding the content) and a fragment the message must name.</summary>
    public static TheoryData<string, string[], string> BadInputs => new()
    {
        { "", ["--frobnicate"], "'--frobnicate'" },
        { "", ["--data"], "'--data' needs a value" },
        { "", ["--epochs", "0"], "'0'" },
        { "", ["--seed", "x"], "'x'" },
        { "", ["--json=yes"], "'--json' takes no value" },
        { "", ["stray"], "'stray'" },
        { "", ["--seed", "1", "--seed", "2"], "given twice" },
        { "", ["--models", "Popularity,Nope"], "'Nope'" },
        { "", ["--columns", "user=a,item=b"], "missing: time" },
        { "", ["--columns", "user=a,item=b,time=c,colour=d"], "'colour=d'" },
        { "", ["--delimiter", "ab", "--columns", "user=a,item=b,time=c"], "'ab'" },
        { "", ["--min-weight", "4", "--columns", "user=a,item=b,time=c"], "weight=COL" },
        { "", ["--time-format", "unix-s"], "--columns" },
        { "", ["--data", "/no/such/file.csv"], "'/no/such/file.csv'" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=nope", "--time-format", "unix-s"], "'nope'" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=when"], "use the time format 'unix-s'" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=when", "--time-format", "%"], "'%'" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=when", "--time-format", "unix-s", "--no-header"], "1-based column number" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=when,weight=rating", "--time-format", "unix-s", "--min-weight", "6"], "No events" },
        { UnixTsv, ["--data", "FILE", "--columns", "user=customer,item=sku,time=when", "--time-format", "unix-s", "--user", "nobody"], "'nobody'" },
        { "u,i,t\na,x,2024-01-01\nb,\"y,2024-01-02\n", ["--data", "FILE", "--columns", "user=u,item=i,time=t"], "CSV line 3: unterminated" },
        { "u,i,t\na,x,2024-01-01,extra\n", ["--data", "FILE", "--columns", "user=u,item=i,time=t"], "expected 3 fields but found 4" },
        { "u,i,t\na,x,yesterday\n", ["--data", "FILE", "--columns", "user=u,item=i,time=t"], "'yesterday'" },
        { "Invoice,Stock\n1,2\n", ["--data", "FILE"], "CSV line" },
        { "MZ\0\u0001\u0002,\u0003\r\0\n\0\u0090", ["--data", "FILE"], "CSV line 1" },
        { "", ["--data", "FILE", "--columns", "user=1,item=2,time=3"], "No events" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_options_and_files_end_with_one_line_and_exit_code_2(string content, string[] args, string fragment)
    {
        string path = WriteFile("input.txt", content);
        var (code, _, error) = Run([.. args.Select(a => a == "FILE" ? path : a)]);
        Assert.Equal(SampleRun.BadInput, code);
        SampleHarness.AssertOneErrorLine(error, fragment);
    }

    [Fact]
    public void Garbled_gzip_ends_with_one_line_and_exit_code_2()
    {
        string path = Path.Combine(_folder, "broken.csv.gz");
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes("u,i,t\n" + string.Concat(Enumerable.Repeat("a,x,2024-01-01\n", 2000))));
        }

        // Cut the member short and flip bytes in its body: the magic bytes still say gzip.
        byte[] bytes = File.ReadAllBytes(path);
        for (int i = 20; i < bytes.Length - 8; i += 7)
        {
            bytes[i] ^= 0x5A;
        }

        File.WriteAllBytes(path, bytes[..^10]);
        var (code, _, error) = Run("--data", path, "--columns", "user=u,item=i,time=t", "--models", "Popularity");
        Assert.Equal(SampleRun.BadInput, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unix_second_file_without_baskets_runs_to_the_end_with_ids_and_json()
    {
        string path = WriteFile("unix.tsv", UnixTsv);
        var (code, output, error) = Run("--data", path, "--columns", "USER=customer,item=SKU,time=When", "--time-format", "unix-s", "--models", "Popularity,PersonalPopularity", "--json");
        Assert.True(code == 0, error);
        Assert.Empty(error);

        // 36 rows; the 6 customers and the 7 items of the hand-made file; tab detected; the dates it spans.
        Assert.Contains("loaded 36 events from unix.tsv (delimiter tab, detected; 0 malformed rows skipped)", output, StringComparison.Ordinal);
        Assert.Contains("6 users, 7 items, 36 events, 2010-12-01 to 2010-12-03", output, StringComparison.Ordinal);

        // The closing top-10 names the log's first customer; without a text column it prints ids only.
        Assert.Contains("top 7 for customer c0 (6 events) by", output, StringComparison.Ordinal);
        Assert.DoesNotContain("description", output, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]);
        Assert.Equal("unix.tsv", json.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(6, json.RootElement.GetProperty("users").GetInt32());
        Assert.Equal(7, json.RootElement.GetProperty("items").GetInt32());
        JsonElement protocols = json.RootElement.GetProperty("protocols");
        Assert.True(protocols.GetProperty("next-basket").TryGetProperty("PersonalPopularity", out _));
    }

    [Fact]
    public void Every_number_is_the_same_on_one_thread_and_on_three()
    {
        // 30 customers over four months, two baskets a month, items drifting with the month: enough for every protocol.
        var text = new StringBuilder("user,item,time,invoice\n");
        for (int u = 0; u < 30; u++)
        {
            for (int m = 0; m < 4; m++)
            {
                for (int b = 0; b < 2; b++)
                {
                    for (int k = 0; k < 3; k++)
                    {
                        int item = ((u % 5) * 4) + ((m + b + (k * 3) + u) % 8);
                        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"u{u},i{item},2011-0{m + 1}-{3 + (b * 12) + (u % 7):00} 10:{k:00}:00,{u}-{m}-{b}\n");
                    }
                }
            }
        }

        string path = WriteFile("drift.csv", text.ToString());
        string[] args = ["--data", path, "--columns", "user=user,item=item,time=time,basket=invoice", "--models", "Popularity,ItemKNN,BPR-MF,TIFU-KNN,UP-CF,Tracker",
            "--monthly", "ItemKNN,Tracker", "--epochs", "2", "--json"];
        var (serialCode, serial, serialError) = Run([.. args, "--jobs", "1"]);
        var (parallelCode, parallel, parallelError) = Run([.. args, "--jobs", "3"]);
        Assert.True(serialCode == 0, serialError);
        Assert.True(parallelCode == 0, parallelError);
        string one = WithoutSeconds(serial.TrimEnd().Split('\n')[^1]), three = WithoutSeconds(parallel.TrimEnd().Split('\n')[^1]);
        Assert.Equal(one, three);
        Assert.Contains("\"interest-forecast\":{\"Tracker\":{\"log_loss\":", one, StringComparison.Ordinal);
        Assert.Contains("\"interest-forecast-months\":[{\"month\":\"2011-02\"", one, StringComparison.Ordinal);
        Assert.Contains("\"monthly\":{\"ItemKNN\":", one, StringComparison.Ordinal);
    }

    /// <summary>The JSON line with every <c>train_seconds</c> value (the only timing in it) blanked.</summary>
    private static string WithoutSeconds(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"train_seconds\":[^,}]*", "\"train_seconds\":_");

    [Fact]
    public void Headerless_ratings_with_a_minimum_and_descriptions()
    {
        // Drop the header; columns by number: 1 customer, 2 sku, 3 time, 4 rating, 5 text. Ratings ≥ 3 are kept.
        string body = UnixTsv[(UnixTsv.IndexOf('\n', StringComparison.Ordinal) + 1)..].Replace('\t', ';');
        int kept = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => int.Parse(line.Split(';')[3], System.Globalization.CultureInfo.InvariantCulture) >= 3);
        string path = WriteFile("ratings.csv", body);
        var (code, output, error) = Run("--data", path, "--no-header", "--delimiter", "semicolon", "--columns", "user=1,item=2,time=3,rating=4,text=5",
            "--time-format", "unix-s", "--min-weight", "3", "--models", "Popularity", "--user", "c3");
        Assert.True(code == 0, error);
        Assert.Contains($"loaded {kept} events from ratings.csv (delimiter ';', no header; {36 - kept} rows with weight below 3 dropped; 0 malformed rows skipped)", output, StringComparison.Ordinal);
        Assert.Contains("for customer c3", output, StringComparison.Ordinal);
        Assert.Contains("description", output, StringComparison.Ordinal);
        Assert.Contains("item number ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_parse_keys_aliases_and_both_value_forms()
    {
        SampleOptions options = SampleOptions.Parse(
            ["--data=orders.csv", "--columns", "User=CustomerID, item=StockCode ,TIME=InvoiceDate,basket=InvoiceNo,rating=Stars,description=Title",
             "--time-format", "UNIX-MS", "--delimiter", "tab", "--min-weight", "4.5", "--models", "bpr-mf,popularity,BPR-MF", "--epochs", "3", "--lenient"]);
        Assert.Equal("orders.csv", options.DataPath);
        Assert.Equal(
            new CsvColumnMapping
            {
                User = "CustomerID",
                Item = "StockCode",
                Timestamp = "InvoiceDate",
                Basket = "InvoiceNo",
                Value = "Stars",
                Text = "Title",
                TimestampFormat = CsvColumnMapping.UnixMilliseconds,
                MinimumValue = 4.5f,
            },
            options.Columns);
        Assert.Equal(new CsvReaderOptions { Delimiter = '\t', DetectDelimiter = false, Lenient = true }, options.Csv);
        Assert.Equal(["BPR-MF", "Popularity"], options.Models);
        Assert.Equal(3, options.Epochs);
        Assert.Equal(42, options.Seed);

        // Defaults: the bundled data, every model, delimiter detection, a custom pattern kept verbatim.
        SampleOptions defaults = SampleOptions.Parse([]);
        Assert.Null(defaults.DataPath);
        Assert.Null(defaults.Columns);
        Assert.True(defaults.Csv.DetectDelimiter);
        Assert.Equal(SampleOptions.AllModels, defaults.Models);
        Assert.Equal("dd/MM/yyyy HH:mm", SampleOptions.Parse(["--columns", "user=1,item=2,time=3", "--time-format", "dd/MM/yyyy HH:mm"]).Columns!.TimestampFormat);
    }

    [Fact]
    public void Json_writes_a_missing_metric_as_null()
    {
        var results = new[]
        {
            new ProtocolResult("next-basket", "A", new Dictionary<string, double> { ["NDCG@20"] = 0.25, ["Recall@20"] = double.NaN }, 1.5, 10),
            new ProtocolResult("next-basket-explore", "A", new Dictionary<string, double> { ["NDCG@20"] = double.PositiveInfinity }, 1.5, 0),
        };
        using var json = JsonDocument.Parse(ResultsJson.Write("x.csv", 3, 4, results));
        JsonElement all = json.RootElement.GetProperty("protocols").GetProperty("next-basket").GetProperty("A");
        Assert.Equal(0.25, all.GetProperty("NDCG@20").GetDouble());
        Assert.Equal(JsonValueKind.Null, all.GetProperty("Recall@20").ValueKind);
        Assert.Equal(1.5, all.GetProperty("train_seconds").GetDouble());
        Assert.Equal(10, all.GetProperty("users").GetInt32());
        JsonElement explore = json.RootElement.GetProperty("protocols").GetProperty("next-basket-explore").GetProperty("A");
        Assert.Equal(JsonValueKind.Null, explore.GetProperty("NDCG@20").ValueKind);
    }

    [Fact]
    public void Progress_bar_covers_both_fits_and_stops_when_the_model_finishes()
    {
        var task = new ProgressTask(1, "m", maxValue: 100, autoStart: false);
        var bar = new ModelProgress(task, "BPR-MF", stages: 2);
        Assert.False(task.IsStarted);

        // First fit: 3 of 30 epochs fill a tenth of the fit's 90 % share of the first half; a later, smaller
        // report (a second phase of the same fit) does not move it back.
        IProgress<TrainingProgress> first = bar.BeginFit("next basket");
        Assert.True(task.IsStarted);
        first.Report(new TrainingProgress("BPR-MF", 3, 30, 0.5, 0.125, TimeSpan.Zero, null));
        Assert.Equal(4.5, task.Value, 9);
        Assert.Contains("epoch 3/30 · loss 0.5000 · val 0.1250", task.Description, StringComparison.Ordinal);
        first.Report(new TrainingProgress("BPR-MF", 1, 30, double.NaN, double.NaN, TimeSpan.Zero, null));
        Assert.Equal(4.5, task.Value, 9);

        // Early stopping: the fit returns at epoch 3 of 30 and its share is filled at once.
        bar.BeginEvaluation();
        Assert.Equal(45, task.Value, 9);

        // The second fit starts at the middle: the bar is not full before the model is.
        IProgress<TrainingProgress> second = bar.BeginFit("leave last item");
        Assert.Equal(50, task.Value, 9);
        second.Report(new TrainingProgress("BPR-MF", 30, 30, 0.25, double.NaN, TimeSpan.Zero, null));
        Assert.Equal(95, task.Value, 9);
        Assert.DoesNotContain("val", task.Description, StringComparison.Ordinal);
        Assert.False(task.IsFinished);

        bar.Finish(12.5);
        Assert.True(task.IsFinished);
        Assert.Equal(100, task.Value, 9);
        Assert.NotNull(task.StopTime);
        Assert.Contains("done (2 fits, 12.5 s training)", task.Description, StringComparison.Ordinal);
    }
}

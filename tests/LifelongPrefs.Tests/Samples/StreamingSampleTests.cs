using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Samples.Streaming;

namespace LifelongPrefs.Tests.Samples;

/// <summary>
/// The streaming sample driven in-process through <see cref="StreamingRun.Run"/>: bad options and files end with one
/// line on stderr and exit code 2; a small hand-made Online Retail file runs end to end, with a JSON line that holds
/// every required number and five PNG charts; two runs give the same numbers.
/// </summary>
public sealed partial class StreamingSampleTests : IDisposable
{
    private const int Customers = 30, Months = 5, BasketsPerMonth = 2, LinesPerBasket = 3;

    private readonly string _folder = Directory.CreateTempSubdirectory("lp-streaming-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// 30 customers (ids 13000…13029) with two invoices of three lines every month from 2010-12 to 2011-04, items drawn
    /// at a fixed seed from an overlapping window of 50 of 70 stock codes per customer group: enough new, known items
    /// every month for each measure of the continual protocol.
    /// </summary>
    private static string OnlineRetailFile()
    {
        var random = new Random(7);
        var text = new StringBuilder("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
        int invoice = 536000;
        for (int m = 0; m < Months; m++)
        {
            DateTime month = new DateTime(2010, 12, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(m);
            for (int b = 0; b < BasketsPerMonth; b++)
            {
                for (int u = 0; u < Customers; u++)
                {
                    invoice++;
                    for (int k = 0; k < LinesPerBasket; k++)
                    {
                        int item = ((u % 3) * 10) + random.Next(50);
                        DateTime time = month.AddDays(2 + (b * 12) + (u % 7)).AddHours(10).AddMinutes(u);   // an invoice's lines share their time, as in the real file
                        text.Append(CultureInfo.InvariantCulture,
                            $"{invoice},{20000 + item},ITEM {item} {Colours[item % Colours.Length]} MUG,{1 + k},{time:yyyy-MM-dd HH:mm:ss},1.25,{13000 + u},United Kingdom\n");
                    }
                }
            }
        }

        return text.ToString();
    }

    private static readonly string[] Colours = ["RED", "BLUE", "GREEN", "LACE", "HEART"];

    private string WriteFile(string name, string text) => SampleHarness.WriteFile(_folder, name, text);

    private static (int Code, string Out, string Error) Run(params string[] args) => SampleHarness.Run(StreamingRun.Run, args);

    [Fact]
    public void Help_prints_the_usage_with_every_option() =>
        SampleHarness.AssertHelpNames(StreamingRun.Run, ["--epochs", "0", "--help"], ["--data", "--out", "--epochs", "--seed", "--json", "--help"]);

    /// <summary>Each case: the arguments (FILE is a file holding the content, DIR the test's folder) and a fragment the message must name.</summary>
    public static TheoryData<string, string[], string> BadInputs => new()
    {
        { "", ["--frobnicate"], "'--frobnicate'" },
        { "", ["--data"], "'--data' needs a value" },
        { "", ["--out"], "'--out' needs a value" },
        { "", ["--epochs", "0"], "'0'" },
        { "", ["--epochs", "many"], "'many'" },
        { "", ["--seed", "x"], "'x'" },
        { "", ["--json=yes"], "'--json' takes no value" },
        { "", ["stray"], "'stray'" },
        { "", ["--seed", "1", "--seed", "2"], "given twice" },
        { "", ["--data", "/no/such/file.csv"], "'/no/such/file.csv'" },
        { "", ["--data", "DIR"], "is a directory" },
        { "Invoice,Stock\n1,2\n", ["--data", "FILE"], "CSV line" },
        { "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n", ["--data", "FILE"], "No events" },
        { "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,A,X,1,2011-03-01 10:00:00,1,12345,UK\n2,B,Y,1,2011-03-09 10:00:00,1,12346,UK\n",
            ["--data", "FILE"], "at least two" },
        { "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,A,X,1,2011-03-01 10:00:00,1,12345,UK\n", ["--data", "FILE", "--out", "FILE"], "is a file" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_options_and_files_end_with_one_line_and_exit_code_2(string content, string[] args, string fragment)
    {
        string path = WriteFile("input.csv", content);
        var (code, _, error) = Run([.. args.Select(a => a switch { "FILE" => path, "DIR" => _folder, _ => a })]);
        Assert.Equal(StreamingRun.BadInput, code);
        SampleHarness.AssertOneErrorLine(error, fragment);
    }

    [Fact]
    public void Small_file_runs_to_the_end_with_every_number_in_the_json_line_and_five_png_charts()
    {
        string path = WriteFile("retail.csv", OnlineRetailFile());
        string charts = Path.Combine(_folder, "charts");
        var (code, output, error) = Run("--data", path, "--out", charts, "--epochs", "2", "--json");
        Assert.True(code == 0, error);
        Assert.Empty(error);
        Assert.Contains($"charts in {Path.GetFullPath(charts)}", output, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]);
        JsonElement root = json.RootElement;

        // Every line is a purchase that survives cleaning; each customer's first basket has nothing to rank it with.
        int baskets = Customers * Months * BasketsPerMonth;
        Assert.Equal(baskets * LinesPerBasket, root.GetProperty("events").GetInt32());
        Assert.Equal(baskets - Customers, root.GetProperty("prequential_baskets").GetInt32());

        // Every customer is active in every month with as many events: the smallest id is the profile's customer.
        Assert.Equal("13000", root.GetProperty("profile_customer").GetString());

        JsonElement strategies = root.GetProperty("strategies");
        foreach (string name in new[] { "retrain", "naive", "replay", "replay+ewc", "replay+distill", "default", "tracker" })
        {
            JsonElement s = strategies.GetProperty(name);
            foreach (string metric in new[] { "ndcg20_forward", "recall20_forward", "bwt", "bwt_no_rebuy", "newest_ndcg20", "compute_seconds" })
            {
                Assert.True(s.GetProperty(metric).ValueKind == JsonValueKind.Number, $"{name}.{metric} is {s.GetProperty(metric)}");
                Assert.True(double.IsFinite(s.GetProperty(metric).GetDouble()), $"{name}.{metric}");
            }

            // Four months (2011-01 … 2011-04) follow the first; NDCG and Recall are fractions.
            Assert.Equal(Months - 1, s.GetProperty("months").GetArrayLength());
            Assert.InRange(s.GetProperty("ndcg20_forward").GetDouble(), 0, 1);
            Assert.InRange(s.GetProperty("recall20_forward").GetDouble(), 0, 1);
        }

        JsonElement latency = root.GetProperty("update_latency_us");
        double p50 = latency.GetProperty("p50").GetDouble(), p99 = latency.GetProperty("p99").GetDouble();
        Assert.True(p50 > 0 && p50 <= p99 && double.IsFinite(p99), $"p50 {p50}, p99 {p99}");

        // One update per micro-batch of 256 events.
        Assert.Equal((baskets * LinesPerBasket + 255) / 256, latency.GetProperty("updates").GetInt32());
        Assert.True(root.GetProperty("events_per_second").GetDouble() is double rate && double.IsFinite(rate) && rate > 0);
        Assert.True(root.GetProperty("tracker_events_per_second").GetDouble() > 0);
        foreach (JsonElement alarm in root.GetProperty("drift").EnumerateArray())
        {
            Assert.Contains(alarm.GetProperty("detector").GetString(), new[] { "ADWIN", "Page-Hinkley" });
            DateTime date = DateTime.ParseExact(alarm.GetProperty("date").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            Assert.InRange(date, new DateTime(2010, 12, 1), new DateTime(2011, 4, 30));
        }

        string[] paths = [.. root.GetProperty("charts").EnumerateArray().Select(c => c.GetString()!)];
        Assert.Equal(5, paths.Length);
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (string chart in paths)
        {
            Assert.True(Path.IsPathRooted(chart), chart);
            Assert.Equal(Path.GetFullPath(charts), Path.GetDirectoryName(chart));
            byte[] bytes = File.ReadAllBytes(chart);
            Assert.True(bytes.Length > 1000, $"{chart}: {bytes.Length} bytes");
            Assert.Equal(signature, bytes[..8]);
        }
    }

    [Fact]
    public void Two_runs_give_the_same_numbers_but_for_the_timings()
    {
        string path = WriteFile("retail.csv", OnlineRetailFile());
        string[] args = ["--data", path, "--out", Path.Combine(_folder, "charts"), "--epochs", "1", "--json"];
        var (firstCode, first, firstError) = Run(args);
        var (secondCode, second, secondError) = Run(args);
        Assert.True(firstCode == 0, firstError);
        Assert.True(secondCode == 0, secondError);
        Assert.Equal(WithoutTimings(first.TrimEnd().Split('\n')[^1]), WithoutTimings(second.TrimEnd().Split('\n')[^1]));
    }

    /// <summary>The JSON line with every timing (compute seconds, latencies, rates) blanked.</summary>
    private static string WithoutTimings(string json) => Timings().Replace(json, "\"$1\":_");

    [GeneratedRegex("\"(compute_seconds|p50|p99|events_per_second|tracker_events_per_second)\":[^,}]*")]
    private static partial Regex Timings();

    [Fact]
    public void Options_parse_both_value_forms_and_defaults()
    {
        StreamingOptions options = StreamingOptions.Parse(["--data=orders.csv", "--out", "charts", "--epochs=3", "--seed", "-5", "--json"]);
        Assert.Equal("orders.csv", options.DataPath);
        Assert.Equal("charts", options.OutDirectory);
        Assert.Equal(3, options.Epochs);
        Assert.Equal(-5, options.Seed);
        Assert.True(options.Json);

        StreamingOptions defaults = StreamingOptions.Parse([]);
        Assert.Null(defaults.DataPath);
        Assert.Equal(StreamingOptions.DefaultOut, defaults.OutDirectory);
        Assert.Equal(StreamingOptions.DefaultEpochs, defaults.Epochs);
        Assert.Equal(42, defaults.Seed);
        Assert.False(defaults.Json);
    }

    [Fact]
    public void Json_writes_a_number_without_a_value_as_null()
    {
        var month = new ContinualMonth(new DateTime(2011, 1, 1, 0, 0, 0, DateTimeKind.Utc), 0.25, double.NaN, 3, 0, 0, 0, 0, 0, 0);
        var result = new ContinualResult([month], 0.25, double.NaN, double.NaN, double.PositiveInfinity, 0, 0.25, 1.5);
        var strategy = new Strategy("naive", "x", false, () => throw new InvalidOperationException());
        var stream = new StreamResult(10, 0, [], [new DriftAlarm(new DateTime(2011, 2, 3, 4, 5, 6, DateTimeKind.Utc), "ADWIN", 0)], "c", [], [], 2, 1, [], 0);
        using var json = JsonDocument.Parse(StreamingJson.Write("x.csv", [(strategy, result)], stream, double.NaN, ["/a.png"]));
        JsonElement naive = json.RootElement.GetProperty("strategies").GetProperty("naive");
        Assert.Equal(0.25, naive.GetProperty("ndcg20_forward").GetDouble());
        Assert.Equal(JsonValueKind.Null, naive.GetProperty("recall20_forward").ValueKind);
        Assert.Equal(JsonValueKind.Null, naive.GetProperty("bwt_no_rebuy").ValueKind);
        Assert.Equal(1.5, naive.GetProperty("compute_seconds").GetDouble());

        // No update timed: no latency and no learner rate (10 events over 0 seconds).
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("update_latency_us").GetProperty("p50").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("events_per_second").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("tracker_events_per_second").ValueKind);
        Assert.Equal("2011-02-03", json.RootElement.GetProperty("drift")[0].GetProperty("date").GetString());
        Assert.Equal("replay+ewc", Strategies.Required[3]);
    }
}

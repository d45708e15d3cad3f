using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using Spectre.Console;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// Loads the UCI Online Retail purchase log (bundled), cleans it, trains every model and prints the metrics of
/// each protocol. Options: --data PATH, --columns user=COL,item=COL,time=COL[,basket=COL] (for a file that is not
/// in the Online Retail layout), --models A,B, --epochs N, --seed N, --json.
/// </summary>
internal static class Program
{
    private static readonly string[] AllModels = ["Popularity", "PersonalPopularity", "ItemKNN", "BPR-MF", "MLP", "GRU4Rec", "SASRec", "RepeatAware"];

    private static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine(error.Message);
            Console.Error.WriteLine("usage: [--data PATH] [--columns user=COL,item=COL,time=COL[,basket=COL]] [--models A,B] [--epochs N] [--seed N] [--json]");
            return 2;
        }

        string path = options.DataPath ?? FindBundledData();
        var clock = Stopwatch.StartNew();
        InteractionLog log;
        if (options.Columns is null)
        {
            OnlineRetailData data = Data.OnlineRetail.Load(path);
            log = data.Log;
            AnsiConsole.WriteLine(data.Report.ToString());
        }
        else
        {
            (log, CsvReadReport report) = CsvEventLoader.Load(path, options.Columns);
            AnsiConsole.WriteLine($"loaded {log.Count:N0} events ({report.Skipped:N0} rows skipped)");
        }

        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]loaded and cleaned in {clock.Elapsed.TotalSeconds:F1} s: {log.Users.Count:N0} users, {log.Items.Count:N0} items, {log.Count:N0} events[/]");

        HoldoutProtocol nextBasket = HoldoutProtocol.NextBasket(log, explore: false);
        HoldoutProtocol explore = HoldoutProtocol.NextBasket(log, explore: true);
        HoldoutProtocol lastItem = HoldoutProtocol.LeaveLastItem(log);
        HoldoutProtocol lastItemSampled = HoldoutProtocol.LeaveLastItemSampled(log, negatives: 100, seed: options.Seed);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]next basket: {nextBasket.UserCount:N0} users with ≥ 3 baskets; leave-last-item: {lastItem.UserCount:N0} users[/]");

        var results = new List<ProtocolResult>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                foreach (string name in options.Models)
                {
                    ProgressTask task = context.AddTask(name);
                    var progress = new Progress<TrainingProgress>(p => task.Value = 100.0 * p.Epoch / Math.Max(1, p.TotalEpochs));

                    // The two next-basket variants share their training events: fit once, evaluate both ways.
                    IRecommender model = Create(name, options);
                    ProtocolResult all = nextBasket.FitAndEvaluate(model, progress) with { Model = name };
                    results.Add(all);
                    results.Add(explore.Evaluate(model, all.TrainSeconds) with { Model = name });

                    // Leave-last-item, full ranking and the SASRec paper's 100 sampled negatives (same training events).
                    IRecommender second = Create(name, options);
                    ProtocolResult full = lastItem.FitAndEvaluate(second) with { Model = name };
                    results.Add(full);
                    results.Add(lastItemSampled.Evaluate(second, full.TrainSeconds) with { Model = name });
                    task.Value = 100;
                }
            });

        PrintTable(results, "next-basket", ["Recall@20", "NDCG@20", "HR@20"]);
        PrintTable(results, "next-basket-explore", ["Recall@20", "NDCG@20", "HR@20"]);
        PrintTable(results, "leave-last-item", ["HR@10", "NDCG@10", "MRR"]);
        PrintTable(results, "leave-last-item-sampled", ["HR@10", "NDCG@10", "MRR"]);

        if (options.Json)
        {
            Console.WriteLine(ToJson(path, log, results));
        }

        return 0;
    }

    private static IRecommender Create(string name, Options options) => name switch
    {
        "Popularity" => new Popularity(),
        "PersonalPopularity" => new PersonalPopularity(),
        "ItemKNN" => new ItemKnn(),
        "BPR-MF" => new BprMf(new BprMfOptions(MaxEpochs: options.Epochs ?? new BprMfOptions().MaxEpochs, Seed: options.Seed)),
        "MLP" => new PropensityMlp(new PropensityMlpOptions(MaxEpochs: options.Epochs ?? new PropensityMlpOptions().MaxEpochs, Seed: options.Seed)),
        "GRU4Rec" => new Gru4Rec(new Gru4RecOptions(MaxEpochs: options.Epochs ?? new Gru4RecOptions().MaxEpochs, Seed: options.Seed)),
        "SASRec" => new SasRec(new SasRecOptions(MaxEpochs: options.Epochs ?? new SasRecOptions().MaxEpochs, Seed: options.Seed)),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions(MaxEpochs: options.Epochs ?? new RepeatAwareOptions().MaxEpochs, Seed: options.Seed)),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", AllModels)}."),
    };

    private static void PrintTable(List<ProtocolResult> results, string protocol, string[] metrics)
    {
        var table = new Table().Title(protocol).AddColumn("model");
        foreach (string metric in metrics)
        {
            table.AddColumn(new TableColumn(metric).RightAligned());
        }

        table.AddColumn(new TableColumn("users").RightAligned()).AddColumn(new TableColumn("train s").RightAligned());
        foreach (ProtocolResult result in results.Where(r => r.Protocol == protocol))
        {
            var cells = new List<string> { result.Model };
            cells.AddRange(metrics.Select(m => result.Metrics[m].ToString("F4", CultureInfo.InvariantCulture)));
            cells.Add(result.Users.ToString(CultureInfo.InvariantCulture));
            cells.Add(result.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);
    }

    private static string ToJson(string path, InteractionLog log, List<ProtocolResult> results)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("dataset", Path.GetFileName(path));
            json.WriteNumber("users", log.Users.Count);
            json.WriteNumber("items", log.Items.Count);
            json.WriteStartObject("protocols");
            foreach (var group in results.GroupBy(r => r.Protocol))
            {
                json.WriteStartObject(group.Key);
                foreach (ProtocolResult result in group)
                {
                    json.WriteStartObject(result.Model);
                    foreach (var (metric, value) in result.Metrics)
                    {
                        json.WriteNumber(metric, double.IsFinite(value) ? value : 0);
                    }

                    json.WriteNumber("train_seconds", result.TrainSeconds);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Finds the bundled data by walking up from the working directory and from the executable.</summary>
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

    private sealed record Options(string? DataPath, CsvColumnMapping? Columns, string[] Models, int? Epochs, int Seed, bool Json)
    {
        internal static Options Parse(string[] args)
        {
            string? data = null;
            CsvColumnMapping? columns = null;
            string[] models = AllModels;
            int? epochs = null;
            int seed = 42;
            bool json = false;
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
                switch (args[i])
                {
                    case "--data": data = Value(); break;
                    case "--columns": columns = ParseColumns(Value()); break;
                    case "--models": models = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                    case "--epochs": epochs = ParsePositive(Value(), "--epochs"); break;
                    case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--json": json = true; break;
                    default: throw new ArgumentException($"Unknown option '{args[i]}'.");
                }
            }

            foreach (string model in models)
            {
                if (!AllModels.Contains(model))
                {
                    throw new ArgumentException($"Unknown model '{model}'. Known: {string.Join(", ", AllModels)}.");
                }
            }

            return new Options(data, columns, models, epochs, seed, json);
        }

        private static int ParsePositive(string text, string option) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
                ? value
                : throw new ArgumentException($"Option '{option}' needs a positive integer but got '{text}'.");

        private static CsvColumnMapping ParseColumns(string text)
        {
            var map = text.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p.Length == 2 ? p[1].Trim() : "");
            string Need(string key) => map.TryGetValue(key, out string? v) && v.Length > 0 ? v : throw new ArgumentException($"--columns needs {key}=COLUMN.");
            return new CsvColumnMapping { User = Need("user"), Item = Need("item"), Timestamp = Need("time"), Basket = map.GetValueOrDefault("basket") };
        }
    }
}

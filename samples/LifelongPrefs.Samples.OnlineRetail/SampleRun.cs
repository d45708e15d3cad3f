using System.Globalization;
using System.Text;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using Spectre.Console;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// The sample's whole run behind a testable seam: parse the command line, load and clean the data, fit and
/// evaluate every model under every protocol, print the tables and one customer's top-10. Exit codes: 0 done,
/// 2 a bad option or file (one line on stderr, never a stack trace), 1 an unexpected failure (also one line).
/// </summary>
internal static class SampleRun
{
    /// <summary>The exit code of a bad option or input file.</summary>
    internal const int BadInput = SampleConsole.BadInput;

    /// <summary>Runs the sample.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="console">Where progress, reports and tables go.</param>
    /// <param name="output">Where the usage text and the <c>--json</c> line go (standard output).</param>
    /// <param name="error">Where the one-line error goes (standard error).</param>
    /// <returns>The exit code.</returns>
    internal static int Run(IReadOnlyList<string> args, IAnsiConsole console, TextWriter output, TextWriter error) =>
        SampleConsole.Run(args, SampleOptions.Parse, options => options.Help, SampleOptions.Usage, options => Execute(options, console, output), output, error);

    private static void Execute(SampleOptions options, IAnsiConsole console, TextWriter output)
    {
        string path = SampleConsole.DataFile(options.DataPath);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (InteractionLog log, IReadOnlyList<string> descriptions) = Load(path, options, console);
        if (log.Count == 0)
        {
            throw new InvalidDataException($"No events are left in '{path}' after cleaning; nothing to train on.");
        }

        int customer = FindCustomer(log, options.User);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]loaded and cleaned in {clock.Elapsed.TotalSeconds:F1} s: {log.Users.Count:N0} users, {log.Items.Count:N0} items, {log.Count:N0} events, {Day(log.Events[0].Ticks)} to {Day(log.Events[^1].Ticks)}[/]");

        HoldoutProtocol nextBasket = HoldoutProtocol.NextBasket(log, explore: false);
        HoldoutProtocol explore = HoldoutProtocol.NextBasket(log, explore: true);
        HoldoutProtocol lastItem = HoldoutProtocol.LeaveLastItem(log);
        HoldoutProtocol? lastItemSampled = SampledOrNull(log, options.Seed, console);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]next basket: {nextBasket.UserCount:N0} users with ≥ 3 baskets; leave-last-item: {lastItem.UserCount:N0} users[/]");

        // Every model's results in its own slot, filled by whichever worker runs it, read in the models' order.
        var perModel = new List<ProtocolResult>[options.Models.Count];
        var fitted = new IRecommender[options.Models.Count];
        var monthly = MonthlyJobs(log, descriptions, options);
        InterestForecastResult? forecast = null;
        bool runForecast = options.Models.Contains("Tracker");
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                // Every bar exists from the start and only its own piece of work moves it and its clock.
                var jobs = new List<SampleJobs.Job>();
                for (int m = 0; m < options.Models.Count; m++)
                {
                    int slot = m;
                    string name = options.Models[m];
                    var bar = new ModelProgress(context.AddTask(name, autoStart: false, maxValue: 100), name, stages: Program.TunesForExplore(name) ? 3 : 2);
                    jobs.Add(new SampleJobs.Job(name, SampleJobs.CostOf(name),
                        () => (perModel[slot], fitted[slot]) = RunHoldout(name, options, bar, nextBasket, explore, lastItem, lastItemSampled)));
                }

                foreach (MonthlyJob job in monthly)
                {
                    var bar = new ModelProgress(context.AddTask(job.Label, autoStart: false, maxValue: 100), job.Label, stages: 1);
                    jobs.Add(new SampleJobs.Job(job.Label, SampleJobs.CostOf(job.Label), () => job.Run(bar)));
                }

                if (runForecast)
                {
                    var bar = new ModelProgress(context.AddTask("interest forecast", autoStart: false, maxValue: 100), "interest forecast", stages: 1);
                    jobs.Add(new SampleJobs.Job("interest forecast", SampleJobs.CostOf("interest forecast"), () => forecast = RunForecast(log, options, bar)));
                }

                SampleJobs.Run(jobs, options.Jobs);
            });

        var results = new List<ProtocolResult>();
        IRecommender? best = null;
        string bestName = string.Empty;
        double bestNdcg = double.NegativeInfinity;
        for (int m = 0; m < options.Models.Count; m++)
        {
            results.AddRange(perModel[m]);

            // Keep the next-basket fit of the best model for the closing top-10 (NaN never wins).
            double ndcg = perModel[m][0].Metrics.GetValueOrDefault("NDCG@20", double.NaN);
            if (best is null || ndcg > bestNdcg)
            {
                best = fitted[m];
                bestName = options.Models[m];
                bestNdcg = double.IsNaN(ndcg) ? double.NegativeInfinity : ndcg;
            }
        }

        foreach (MonthlyJob job in monthly)
        {
            results.Add(job.Result!);
            console.MarkupLine(job.Line!);
        }

        if (forecast is not null)
        {
            results.AddRange(ForecastResults(forecast));
        }

        PrintTable(console, results, "next-basket", ["Recall@20", "NDCG@20", "HR@20"]);
        PrintTable(console, results, "next-basket-explore", ["Recall@20", "NDCG@20", "HR@20"]);
        PrintTable(console, results, "leave-last-item", ["HR@10", "NDCG@10", "MRR"]);
        if (lastItemSampled is not null)
        {
            PrintTable(console, results, "leave-last-item-sampled", ["HR@10", "NDCG@10", "MRR"]);
        }

        PrintTable(console, results, "monthly", ["Recall@20", "NDCG@20", NewItemHitShare]);
        if (forecast is not null)
        {
            PrintForecast(console, forecast);
        }

        string why = double.IsFinite(bestNdcg)
            ? string.Create(CultureInfo.InvariantCulture, $"the best next-basket NDCG@20 of this run ({bestNdcg:F4})")
            : "the first model (next basket had no users to rank the models by)";
        PrintTopTen(console, log, descriptions, customer, best!, $"{bestName}, {why}");

        if (options.Json)
        {
            output.WriteLine(ResultsJson.Write(Path.GetFileName(path), log.Users.Count, log.Items.Count, results, forecast));
        }
    }

    /// <summary>
    /// One model under the holdout protocols: next basket (fitted once, evaluated on all items and on explore — or, for
    /// a model that tunes its hyper-parameters for a variant, fitted again with the explore objective on the same
    /// training events), then leave-last-item (full ranking and sampled, one fit).
    /// </summary>
    private static (List<ProtocolResult> Results, IRecommender NextBasketFit) RunHoldout(string name, SampleOptions options, ModelProgress bar,
        HoldoutProtocol nextBasket, HoldoutProtocol explore, HoldoutProtocol lastItem, HoldoutProtocol? lastItemSampled)
    {
        var results = new List<ProtocolResult>();
        IRecommender model = Program.Create(name, options.Seed, options.Epochs);
        ProtocolResult all = nextBasket.FitAndEvaluate(model, bar.BeginFit("next basket")) with { Model = name };
        bar.BeginEvaluation();
        results.Add(all);
        double seconds = all.TrainSeconds;
        if (Program.TunesForExplore(name))
        {
            // The explore variant's training events are next basket's; only the validation objective differs.
            IRecommender tuned = Program.Create(name, options.Seed, options.Epochs, ValidationObjective.Explore);
            ProtocolResult fresh = explore.FitAndEvaluate(tuned, bar.BeginFit("explore")) with { Model = name };
            bar.BeginEvaluation();
            results.Add(fresh);
            seconds += fresh.TrainSeconds;
        }
        else
        {
            results.Add(explore.Evaluate(model, all.TrainSeconds) with { Model = name });
        }

        // Leave-last-item, full ranking and the SASRec paper's 100 sampled negatives (same training events).
        IRecommender second = Program.Create(name, options.Seed, options.Epochs);
        ProtocolResult full = lastItem.FitAndEvaluate(second, bar.BeginFit("leave last item")) with { Model = name };
        bar.BeginEvaluation();
        results.Add(full);
        if (lastItemSampled is not null)
        {
            results.Add(lastItemSampled.Evaluate(second, full.TrainSeconds) with { Model = name });
        }

        bar.Finish(seconds + full.TrainSeconds);
        return (results, model);
    }

    /// <summary>
    /// The monthly protocol over the log's last seven calendar months (2011-06 … 2011-12 on Online Retail): batch models
    /// retrained from scratch before every month, the tracker fed month by month; one job per model. When the data has
    /// item descriptions, the tracker runs once more with them as the shop's catalog, known before the items sell
    /// ("Tracker+catalog": every described item is a candidate from the start), for the share of hits that are items
    /// first sold in their month. The plain rows rank only items sold before the month, as the references do.
    /// </summary>
    private static List<MonthlyJob> MonthlyJobs(InteractionLog log, IReadOnlyList<string> descriptions, SampleOptions options)
    {
        string[] defaults = ["ItemKNN", "BPR-MF", "Tracker"];
        IReadOnlyList<string> models = options.Monthly ?? [.. defaults.Where(options.Models.Contains)];
        if (models.Count == 0)
        {
            return [];
        }

        DateTime last = new(log.Events.Max(e => e.Ticks), DateTimeKind.Utc);
        var protocol = MonthlyProtocol.Create(log, last.AddMonths(-6), last);
        List<MonthlyJob> jobs = [.. models.Select(name => new MonthlyJob(protocol, name, name, options))];
        if (models.Contains("Tracker") && descriptions.Any(d => d.Length > 0))
        {
            var catalog = MonthlyProtocol.Create(log, last.AddMonths(-6), last, itemDescriptions: descriptions);
            jobs.Add(new MonthlyJob(catalog, "Tracker", "Tracker+catalog", options));
        }

        return jobs;
    }

    /// <summary>One model under the monthly protocol; its result and its report line are kept for the tables.</summary>
    private sealed class MonthlyJob(MonthlyProtocol protocol, string name, string row, SampleOptions options)
    {
        internal string Label => "monthly " + row;

        internal ProtocolResult? Result { get; private set; }

        internal string? Line { get; private set; }

        internal void Run(ModelProgress bar)
        {
            bar.BeginFit("retrained and evaluated");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            MonthlyResult r = name == "Tracker"
                ? protocol.Incremental(Program.Create(name, options.Seed, options.Epochs))
                : protocol.Retrained(() => Program.Create(name, options.Seed, options.Epochs));
            var metrics = new Dictionary<string, double> { ["NDCG@20"] = r.Ndcg, ["Recall@20"] = r.Recall, [NewItemHitShare] = r.NewItemHitShare };
            Result = new ProtocolResult("monthly", row, metrics, r.TrainSeconds, r.Months.Sum(m => m.Users));
            Line = string.Create(CultureInfo.InvariantCulture,
                $"[grey]monthly {protocol.Months[0]:yyyy-MM} … {protocol.Months[^1]:yyyy-MM}: {row} NDCG@20 {r.Ndcg:F4}, Recall@20 {r.Recall:F4}, new items {r.Months.Sum(m => m.NewItemHits)} of {r.Months.Sum(m => m.Hits)} hits ({clock.Elapsed.TotalSeconds:F0} s)[/]");
            bar.Finish(r.TrainSeconds);
        }
    }

    /// <summary>The monthly protocol's share of hits that are items first sold in their month (its table column and JSON field).</summary>
    private const string NewItemHitShare = "new_item_hit_share";

    /// <summary>
    /// The interest forecast over the same seven months as the monthly protocol: the tracker fed month by month, its
    /// forecast at each month's start against the long-term profile and the last 30 days.
    /// </summary>
    private static InterestForecastResult? RunForecast(InteractionLog log, SampleOptions options, ModelProgress bar)
    {
        bar.BeginFit("fed month by month");
        DateTime last = new(log.Events.Max(e => e.Ticks), DateTimeKind.Utc);
        var protocol = InterestForecastProtocol.Create(log, last.AddMonths(-6), last);
        if (protocol.Months.Count == 0)
        {
            bar.Finish(0);
            return null;
        }

        InterestForecastResult result = protocol.Run(Program.CreateTracker(options.Seed));
        bar.Finish(result.Seconds);
        return result;
    }

    /// <summary>The forecast's means as rows of the <c>interest-forecast</c> protocol (Tracker, LongTerm, Last30Days).</summary>
    private static IEnumerable<ProtocolResult> ForecastResults(InterestForecastResult forecast)
    {
        int users = forecast.Months.Sum(m => m.Users);
        foreach (var (name, scores) in new[] { ("Tracker", forecast.Tracker), ("LongTerm", forecast.LongTerm), ("Last30Days", forecast.Last30Days) })
        {
            yield return new ProtocolResult("interest-forecast", name,
                new Dictionary<string, double> { ["log_loss"] = scores.LogLoss, ["NDCG@5"] = scores.Ndcg }, name == "Tracker" ? forecast.Seconds : 0, users);
        }
    }

    /// <summary>
    /// The SASRec paper's protocol needs 100 unseen items per user; a small catalog (a user's own file) has fewer, and
    /// then that one table is left out with a note instead of ending the run.
    /// </summary>
    private static HoldoutProtocol? SampledOrNull(InteractionLog log, int seed, IAnsiConsole console)
    {
        try
        {
            return HoldoutProtocol.LeaveLastItemSampled(log, negatives: 100, seed: seed);
        }
        catch (ArgumentException e)
        {
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]leave-last-item-sampled left out: {SampleConsole.OneLine(e)}[/]");
            return null;
        }
    }

    private static (InteractionLog Log, IReadOnlyList<string> Descriptions) Load(string path, SampleOptions options, IAnsiConsole console)
    {
        if (options.Columns is null)
        {
            OnlineRetailData data = Data.OnlineRetail.Load(path, new OnlineRetailOptions { Lenient = options.Lenient });
            console.WriteLine(data.Report.ToString());
            return (data.Log, data.ItemDescriptions);
        }

        CsvLoadResult loaded = CsvEventLoader.Load(path, options.Columns, options.Csv);
        var summary = new StringBuilder();
        summary.Append(CultureInfo.InvariantCulture, $"loaded {loaded.Log.Count:N0} events from {Path.GetFileName(path)} (delimiter {DelimiterName(loaded.Delimiter)}");
        summary.Append(options.Csv.DetectDelimiter ? ", detected" : string.Empty);
        summary.Append(options.Csv.HasHeader ? string.Empty : ", no header");
        if (options.Columns.MinimumValue is float minimum)
        {
            summary.Append(CultureInfo.InvariantCulture, $"; {loaded.BelowMinimum:N0} rows with weight below {minimum} dropped");
        }

        summary.Append(CultureInfo.InvariantCulture, $"; {loaded.Report.Skipped:N0} malformed rows skipped)");
        console.WriteLine(summary.ToString());
        foreach (CsvProblem problem in loaded.Report.Samples)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  skipped line {problem.LineNumber}: {problem.Reason}"));
        }

        return (loaded.Log, loaded.ItemTexts);
    }

    private static int FindCustomer(InteractionLog log, string? id)
    {
        if (id is null)
        {
            return log.Events[0].User;
        }

        return log.Users.TryGetIndex(id, out int user)
            ? user
            : throw new ArgumentException($"Option '--user': customer '{id}' is not in the data (after cleaning).");
    }

    private static string DelimiterName(char delimiter) => delimiter switch
    {
        '\t' => "tab",
        ' ' => "space",
        _ => $"'{delimiter}'",
    };

    private static string Day(long ticks) => new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static void PrintTable(IAnsiConsole console, List<ProtocolResult> results, string protocol, string[] metrics)
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
            cells.AddRange(metrics.Select(m => result.Metrics.TryGetValue(m, out double v) && double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–"));
            cells.Add(result.Users.ToString(CultureInfo.InvariantCulture));
            cells.Add(result.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
    }

    /// <summary>The interest forecast: the means, then every month with all three forecasts side by side.</summary>
    private static void PrintForecast(IAnsiConsole console, InterestForecastResult forecast)
    {
        var table = new Table().Title("interest-forecast (per month: log-loss / NDCG@5 over categories)").AddColumn("month")
            .AddColumn(new TableColumn("users").RightAligned()).AddColumn(new TableColumn("categories").RightAligned());
        foreach (string name in new[] { "Tracker", "LongTerm", "Last30Days" })
        {
            table.AddColumn(new TableColumn($"{name} log-loss").RightAligned()).AddColumn(new TableColumn($"{name} NDCG@5").RightAligned());
        }

        static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
        foreach (InterestForecastMonthResult m in forecast.Months)
        {
            table.AddRow([m.Month.ToString("yyyy-MM", CultureInfo.InvariantCulture), m.Users.ToString(CultureInfo.InvariantCulture),
                m.Categories.ToString(CultureInfo.InvariantCulture), F(m.Tracker.LogLoss), F(m.Tracker.Ndcg), F(m.LongTerm.LogLoss), F(m.LongTerm.Ndcg),
                F(m.Last30Days.LogLoss), F(m.Last30Days.Ndcg)]);
        }

        table.AddRow(["mean", forecast.Months.Sum(m => m.Users).ToString(CultureInfo.InvariantCulture), string.Empty,
            F(forecast.Tracker.LogLoss), F(forecast.Tracker.Ndcg), F(forecast.LongTerm.LogLoss), F(forecast.LongTerm.Ndcg),
            F(forecast.Last30Days.LogLoss), F(forecast.Last30Days.Ndcg)]);
        console.Write(table);
    }

    /// <summary>
    /// The closing example: one customer's top-10 from the best model's next-basket fit, given all of the
    /// customer's events, with the item descriptions when the data has them (ids alone otherwise).
    /// </summary>
    private static void PrintTopTen(IAnsiConsole console, InteractionLog log, IReadOnlyList<string> descriptions, int customer, IRecommender model, string byWhom)
    {
        Interaction[] history = [.. log.EventsOf(customer).Select(position => log.Events[position])];
        var bought = history.Select(e => e.Item).ToHashSet();
        var top = new int[Math.Min(10, model.ItemCount)];
        int found = model.Recommend(customer, history, top, []);
        bool described = descriptions.Any(d => d.Length > 0);

        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"top {found} for customer {log.Users.GetId(customer)} ({history.Length} {(history.Length == 1 ? "event" : "events")}) by {byWhom}:"));
        var table = new Table()
            .AddColumn(new TableColumn("#").RightAligned())
            .AddColumn("item");
        if (described)
        {
            table.AddColumn("description");
        }

        table.AddColumn("bought before");
        for (int r = 0; r < found; r++)
        {
            int item = top[r];
            var cells = new List<string> { (r + 1).ToString(CultureInfo.InvariantCulture), log.Items.GetId(item) };
            if (described)
            {
                cells.Add(item < descriptions.Count ? descriptions[item] : string.Empty);
            }

            cells.Add(bought.Contains(item) ? "yes" : string.Empty);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
    }
}

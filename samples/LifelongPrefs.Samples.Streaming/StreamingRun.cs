using System.Diagnostics;
using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using Spectre.Console;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>
/// The sample's whole run behind a testable seam: parse the command line, load and clean the log, stream it through the
/// tracker, run every continual strategy under the monthly protocol, print the tables, write the charts. Exit codes: 0
/// done, 2 a bad option or file (one line on stderr, never a stack trace), 1 an unexpected failure (also one line).
/// </summary>
internal static class StreamingRun
{
    private static void Execute(StreamingOptions options, IAnsiConsole console, TextWriter output)
    {
        string path = SampleConsole.DataFile(options.DataPath);
        string outDirectory = Path.GetFullPath(options.OutDirectory);
        if (File.Exists(outDirectory))
        {
            throw new IOException($"--out '{options.OutDirectory}' is a file; it needs a folder (created if missing).");
        }

        var clock = Stopwatch.StartNew();
        OnlineRetailData data = OnlineRetail.Load(path);
        console.WriteLine(data.Report.ToString());
        InteractionLog log = data.Log;
        if (log.Count == 0)
        {
            throw new InvalidDataException($"No events are left in '{path}' after cleaning; nothing to stream.");
        }

        DateTime first = Month(log.Events[0].Ticks).AddMonths(1), last = Month(log.Events[^1].Ticks);
        if (last < first)
        {
            throw new InvalidDataException($"The events of '{path}' lie in one calendar month ({first.AddMonths(-1):yyyy-MM}); the monthly protocol needs at least two.");
        }

        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]loaded in {clock.Elapsed.TotalSeconds:F1} s: {log.Users.Count:N0} users, {log.Items.Count:N0} items, {log.Count:N0} events, {StreamPass.Day(new DateTime(log.Events[0].Ticks, DateTimeKind.Utc))} to {StreamPass.Day(new DateTime(log.Events[^1].Ticks, DateTimeKind.Utc))}[/]");

        var protocol = ContinualProtocol.Create(log, first, last, cutoff: 20);
        IReadOnlyList<Strategy> strategies = Strategies.All(options.Seed, options.Epochs);
        StreamResult? stream = null;
        var rows = new (Strategy Strategy, ContinualResult Result)[strategies.Count];
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var sink = new Bars(
                [
                    context.AddTask("stream: rank each basket, then observe it", autoStart: false, maxValue: 1),
                    context.AddTask("stream: learner updates (latency)", autoStart: false, maxValue: 1),
                ]);
                ProgressTask[] perStrategy = [.. strategies.Select(s => context.AddTask($"continual: {s.Name}", autoStart: false, maxValue: 1))];
                stream = StreamPass.Run(log, data.ItemDescriptions, options.Seed, sink);
                for (int i = 0; i < strategies.Count; i++)
                {
                    perStrategy[i].StartTask();
                    Strategy s = strategies[i];
                    ContinualResult result;
                    if (s.Retrained)
                    {
                        result = protocol.Retrained(s.Create);
                    }
                    else
                    {
                        var model = s.Create();
                        try
                        {
                            result = protocol.Incremental(model);
                        }
                        finally
                        {
                            (model as IDisposable)?.Dispose();
                        }
                    }

                    rows[i] = (s, result);
                    perStrategy[i].Description = string.Create(CultureInfo.InvariantCulture, $"continual: {s.Name} (NDCG@20 {result.ForwardNdcg:F4}, {result.TrainSeconds:F1} s)");
                    perStrategy[i].Value = 1;
                    perStrategy[i].StopTask();
                }
            });

        StreamResult streamed = stream!;
        IReadOnlyList<string> charts = Charts.Write(outDirectory, rows, streamed);
        double trackerRate = TrackerEventsPerSecond(log, protocol, rows);
        PrintStream(console, streamed, trackerRate);
        PrintDrift(console, streamed);
        PrintProfile(console, streamed);
        PrintMonths(console, protocol, rows);
        PrintSummary(console, rows);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"charts in {outDirectory}: {string.Join(", ", charts.Select(Path.GetFileName))}");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]whole run {clock.Elapsed.TotalSeconds:F0} s[/]");
        if (options.Json)
        {
            output.WriteLine(StreamingJson.Write(Path.GetFileName(path), rows, streamed, trackerRate, charts));
        }
    }

    private static DateTime Month(long ticks)
    {
        var t = new DateTime(ticks, DateTimeKind.Utc);
        return new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc);
    }

    /// <summary>The stream pass's three bars.</summary>
    private sealed class Bars(ProgressTask[] tasks) : StreamPass.IProgressSink
    {
        public void Report(int phase, double fraction)
        {
            ProgressTask task = tasks[phase];
            if (!task.IsStarted)
            {
                for (int p = 0; p < phase; p++)
                {
                    tasks[p].Value = 1;
                    tasks[p].StopTask();
                }

                task.StartTask();
            }

            task.Value = fraction;
            if (fraction >= 1)
            {
                task.StopTask();
            }
        }
    }

    private static string F(double value, string format = "F4") => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "–";

    /// <summary>
    /// The tracker's end-to-end rate: the events the continual protocol fed its "tracker" row (all but the held-out probe
    /// events) over the row's compute seconds, each month observed and flushed (learned and published).
    /// </summary>
    private static double TrackerEventsPerSecond(InteractionLog log, ContinualProtocol protocol, (Strategy Strategy, ContinualResult Result)[] rows)
    {
        var months = protocol.Months.ToHashSet();
        int fed = log.Events.Count(e => !(months.Contains(Month(e.Ticks)) && ContinualProtocol.IsProbe(log.Users.GetId(e.User), Month(e.Ticks))));
        return rows.FirstOrDefault(r => r.Strategy.Name == "tracker").Result is ContinualResult tracker ? fed / tracker.TrainSeconds : double.NaN;
    }

    private static void PrintStream(IAnsiConsole console, StreamResult s, double trackerRate)
    {
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stream: {s.Events:N0} events; {s.Baskets:N0} baskets of returning customers ranked before they were seen: hit rate@{StreamPass.Cutoff} {F(s.HitRate)} (re-buys count)"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prequential pass {s.PrequentialSeconds:F1} s, of which ranking {s.RankingSeconds:F1} s; tracker: {trackerRate:N0} events/s end to end (observe + flush, the continual protocol's tracker row)"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"learner (RepeatExplore, {s.UpdateMicroseconds.Count:N0} micro-batches): update + snapshot p50 {s.UpdatePercentile(0.5):N0} µs, p99 {s.UpdatePercentile(0.99):N0} µs; {s.EventsPerSecond:N0} events/s"));
    }

    /// <summary>Every alarm with the hit rate of the four weeks before and after it.</summary>
    private static void PrintDrift(IAnsiConsole console, StreamResult s)
    {
        var table = new Table().Title("drift alarms on the prequential miss rate").AddColumn("date").AddColumn("detector")
            .AddColumn(new TableColumn("hit rate 4 weeks before").RightAligned()).AddColumn(new TableColumn("4 weeks after").RightAligned());
        foreach (DriftAlarm alarm in s.Alarms)
        {
            table.AddRow(StreamPass.Day(alarm.Time), alarm.Detector, F(Rate(s.Weeks, alarm.Time.AddDays(-28), alarm.Time)), F(Rate(s.Weeks, alarm.Time, alarm.Time.AddDays(28))));
        }

        if (s.Alarms.Count == 0)
        {
            table.AddRow("–", "no alarm", string.Empty, string.Empty);
        }

        console.Write(table);
    }

    private static double Rate(IReadOnlyList<PrequentialWeek> weeks, DateTime from, DateTime to)
    {
        PrequentialWeek[] inside = [.. weeks.Where(w => w.Start >= from.Date.AddDays(-6) && w.Start < to)];
        int baskets = inside.Sum(w => w.Baskets);
        return baskets == 0 ? double.NaN : (double)inside.Sum(w => w.Hits) / baskets;
    }

    private static void PrintProfile(IAnsiConsole console, StreamResult s)
    {
        var table = new Table().Title($"customer {s.Customer}: interest profile at each month's end").AddColumn("month")
            .AddColumn(new TableColumn("events").RightAligned()).AddColumn("recent interest (top 3)").AddColumn("long-term (top 3)")
            .AddColumn(new TableColumn("drift (JS bits)").RightAligned());
        static string Top(IReadOnlyList<Lifelong.CategoryWeight> weights) =>
            string.Join("; ", weights.Take(3).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Category} {c.Weight:P0}")));
        foreach (ProfilePoint p in s.Profile)
        {
            table.AddRow(Markup.Escape(p.Month.ToString("yyyy-MM", CultureInfo.InvariantCulture)), p.Profile.Events.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(Top(p.Profile.Recent)), Markup.Escape(Top(p.Profile.LongTerm)), F(p.Profile.Drift, "F3"));
        }

        console.Write(table);
    }

    private static void PrintMonths(IAnsiConsole console, ContinualProtocol protocol, (Strategy Strategy, ContinualResult Result)[] rows)
    {
        var table = new Table().Title("forward NDCG@20 per month (ranked before the month is learned)").AddColumn("month");
        foreach ((Strategy strategy, _) in rows)
        {
            table.AddColumn(new TableColumn(Markup.Escape(strategy.Name)).RightAligned());
        }

        for (int m = 0; m < protocol.Months.Count; m++)
        {
            table.AddRow([protocol.Months[m].ToString("yyyy-MM", CultureInfo.InvariantCulture), .. rows.Select(r => F(r.Result.Months[m].ForwardNdcg))]);
        }

        console.Write(table);
    }

    private static void PrintSummary(IAnsiConsole console, (Strategy Strategy, ContinualResult Result)[] rows)
    {
        ContinualResult retrain = rows[0].Result;
        var table = new Table().Title("continual strategies (BWT, forgetting: probe users held out of their month)").AddColumn("strategy");
        foreach (string column in new[] { "NDCG@20", "NDCG × retrain", "Recall@20", "BWT", "BWT no re-buy", "forgetting", "newest", "compute s", "compute × retrain" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.AddColumn("settings");
        foreach ((Strategy s, ContinualResult r) in rows)
        {
            table.AddRow([Markup.Escape(s.Name), F(r.ForwardNdcg), F(r.ForwardNdcg / retrain.ForwardNdcg, "F2"), F(r.ForwardRecall), F(r.Bwt), F(r.BwtNoRebuy),
                F(r.Forgetting), F(r.NewestNdcg), F(r.TrainSeconds, "F1"), F(r.TrainSeconds / retrain.TrainSeconds, "F2"), Markup.Escape(s.Settings)]);
        }

        console.Write(table);
    }

    /// <summary>The exit code of a bad option or input file.</summary>
    internal const int BadInput = SampleConsole.BadInput;

    /// <summary>Runs the sample.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="console">Where progress, reports and tables go.</param>
    /// <param name="output">Where the usage text and the <c>--json</c> line go (standard output).</param>
    /// <param name="error">Where the one-line error goes (standard error).</param>
    /// <returns>The exit code.</returns>
    internal static int Run(IReadOnlyList<string> args, IAnsiConsole console, TextWriter output, TextWriter error) =>
        SampleConsole.Run(args, StreamingOptions.Parse, options => options.Help, StreamingOptions.Usage, options => Execute(options, console, output), output, error);
}

using System.Globalization;
using LifelongPrefs.Evaluation.Protocols;
using ScottPlot;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>The sample's four PNG charts (ScottPlot, drawn with SkiaSharp; no display needed).</summary>
internal static class Charts
{
    private const int Width = 1100, Height = 600;

    /// <summary>Writes every chart into <paramref name="folder"/> (created if missing); returns their absolute paths.</summary>
    internal static IReadOnlyList<string> Write(string folder, IReadOnlyList<(Strategy Strategy, ContinualResult Result)> rows, StreamResult stream)
    {
        Directory.CreateDirectory(folder);
        return
        [
            NdcgByMonth(Path.Combine(folder, "ndcg20-by-month.png"), rows),
            Bwt(Path.Combine(folder, "bwt.png"), rows),
            Profile(Path.Combine(folder, "interest-profile.png"), stream),
            Trajectory(Path.Combine(folder, "interest-trajectory.png"), stream),
            Drift(Path.Combine(folder, "drift-timeline.png"), stream),
        ];
    }

    /// <summary>Forward NDCG@20 per month, one line per strategy.</summary>
    private static string NdcgByMonth(string path, IReadOnlyList<(Strategy Strategy, ContinualResult Result)> rows)
    {
        var plot = new Plot();
        foreach ((Strategy strategy, ContinualResult result) in rows)
        {
            double[] xs = [.. result.Months.Select(m => m.Month.ToOADate())];
            double[] ys = [.. result.Months.Select(m => Finite(m.ForwardNdcg))];
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = strategy.Name;
            line.LineWidth = 2;
        }

        MonthTicks(plot, rows.SelectMany(r => r.Result.Months).Select(m => m.Month.ToOADate()));
        plot.Title("Forward NDCG@20 per month (ranked before the month is learned)");
        plot.YLabel("NDCG@20");
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, path);
    }

    /// <summary>BWT per strategy, on all probe targets and on the targets never bought again.</summary>
    private static string Bwt(string path, IReadOnlyList<(Strategy Strategy, ContinualResult Result)> rows)
    {
        var plot = new Plot();
        var all = new List<Bar>();
        var noRebuy = new List<Bar>();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < rows.Count; i++)
        {
            all.Add(new Bar { Position = i - 0.2, Value = Finite(rows[i].Result.Bwt), Size = 0.4, FillColor = palette.GetColor(0) });
            noRebuy.Add(new Bar { Position = i + 0.2, Value = Finite(rows[i].Result.BwtNoRebuy), Size = 0.4, FillColor = palette.GetColor(1) });
        }

        plot.Add.Bars(all).LegendText = "BWT (all probe targets)";
        plot.Add.Bars(noRebuy).LegendText = "BWT (targets never bought again)";
        plot.Add.HorizontalLine(0, 1, Colors.Black);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)i)], [.. rows.Select(r => r.Strategy.Name)]);
        plot.Title("Backward transfer per strategy (final − right after, probe users' NDCG@20)");
        plot.YLabel("BWT");
        plot.ShowLegend(Alignment.LowerLeft);
        return Save(plot, path);
    }

    /// <summary>The customer's recent interest (30-day half-life) over the top categories, as the tracker told it at each month's end.</summary>
    private static string Profile(string path, StreamResult stream) =>
        Shares(path, $"Customer {stream.Customer}: recent interest share of the top categories, at each month's end",
            [.. stream.Profile.Select(p => (p.Month.AddMonths(1).AddDays(-1), p.Profile.Recent))]);   // drawn at the month's last day

    /// <summary>
    /// The customer's monthly interest over the final tracker's categories (<see cref="Lifelong.InterestForecast.Trajectory"/>):
    /// one set of categories for every month, where the month-end profiles each use the categories of their day.
    /// </summary>
    private static string Trajectory(string path, StreamResult stream) =>
        Shares(path, $"Customer {stream.Customer}: share of each month's purchases by category (the final categories)",
            [.. stream.Trajectory.Select(m => (m.Month.UtcDateTime, m.Categories))]);

    /// <summary>One line per category among the six with the largest summed share.</summary>
    private static string Shares(string path, string title, (DateTime When, IReadOnlyList<Lifelong.CategoryWeight> Weights)[] points)
    {
        var plot = new Plot();
        double[] xs = [.. points.Select(p => p.When.ToOADate())];
        foreach (string category in TopCategories(points.Select(p => p.Weights), 6))
        {
            double[] ys = [.. points.Select(p => (double)p.Weights.Where(c => c.Category == category).Sum(c => c.Weight))];
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = category;
            line.LineWidth = 2;
        }

        MonthTicks(plot, xs);
        plot.Title(title);
        plot.YLabel("share");
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, path);
    }

    /// <summary>The categories with the largest share summed over the points.</summary>
    private static IReadOnlyList<string> TopCategories(IEnumerable<IReadOnlyList<Lifelong.CategoryWeight>> points, int count) =>
        [.. points.SelectMany(p => p).GroupBy(c => c.Category, StringComparer.Ordinal)
            .OrderByDescending(g => g.Sum(c => c.Weight)).ThenBy(g => g.Key, StringComparer.Ordinal).Take(count).Select(g => g.Key)];

    /// <summary>The weekly prequential hit rate with a vertical line where each detector fired.</summary>
    private static string Drift(string path, StreamResult stream)
    {
        var plot = new Plot();
        PrequentialWeek[] weeks = [.. stream.Weeks.Where(w => w.Baskets > 0)];
        double[] xs = [.. weeks.Select(w => w.Start.ToOADate())], ys = [.. weeks.Select(w => w.HitRate)];
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"weekly hit rate@{StreamPass.Cutoff}");
        line.LineWidth = 2;
        foreach ((string detector, Color color, LinePattern pattern) in new[] { ("ADWIN", Colors.Red, LinePattern.Dashed), ("Page-Hinkley", Colors.Green, LinePattern.Dotted) })
        {
            bool first = true;
            foreach (DriftAlarm alarm in stream.Alarms.Where(a => a.Detector == detector))
            {
                var marker = plot.Add.VerticalLine(alarm.Time.ToOADate(), 1.5f, color, pattern);
                if (first)
                {
                    marker.LegendText = detector;
                    first = false;
                }
            }
        }

        MonthTicks(plot, xs);
        plot.Title("Prequential hits (top-20 before the basket is seen) and drift alarms");
        plot.YLabel("hit rate");
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, path);
    }

    /// <summary>One tick per month start (year-month) over the range of <paramref name="xs"/> (OLE dates).</summary>
    private static void MonthTicks(Plot plot, IEnumerable<double> xs)
    {
        double[] all = [.. xs];
        if (all.Length == 0)
        {
            return;
        }

        DateTime from = DateTime.FromOADate(all.Min()), to = DateTime.FromOADate(all.Max());
        var positions = new List<double>();
        var labels = new List<string>();
        for (var m = new DateTime(from.Year, from.Month, 1); m <= to; m = m.AddMonths(1))
        {
            positions.Add(m.ToOADate());
            labels.Add(m.ToString("yyyy-MM", CultureInfo.InvariantCulture));
        }

        plot.Axes.Bottom.SetTicks([.. positions], [.. labels]);
    }

    private static string Save(Plot plot, string path)
    {
        plot.SavePng(path, Width, Height);
        return Path.GetFullPath(path);
    }

    /// <summary>A value ScottPlot can draw: NaN (no users that month) becomes 0.</summary>
    private static double Finite(double value) => double.IsFinite(value) ? value : 0;
}

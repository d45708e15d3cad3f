using System.Globalization;
using System.Text;
using LifelongPrefs.Evaluation.Protocols;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Whether reacting to drift helps: the tracker is run through <see cref="PrequentialProtocol"/> (test then train, a
/// day per step, metrics per week) twice on the same stream — once reacting to its detections (the learning-rate
/// multiplier of the given <see cref="DriftOptions"/>) and once reporting only (multiplier 1) — and the prequential
/// NDCG of the weeks following each reaction is compared between the two runs.
/// </summary>
/// <remarks>
/// Both runs are deterministic (the options' <see cref="TrackerOptions.FlushInterval"/> should be infinite) and identical
/// up to the first reaction, so the first detection is the same in both. "The weeks following" a detection are the
/// weeks (Monday to Sunday, UTC) that start after it and at most <c>followingWeeks</c> weeks later; the pooled numbers
/// count each such week once and weigh it by its baskets.
/// </remarks>
public static class DriftStudy
{
    /// <summary>Runs the study.</summary>
    /// <param name="log">The events.</param>
    /// <param name="start">Where the evaluation starts (the tracker learns every earlier event first).</param>
    /// <param name="trackerOptions">Builds the tracker's options around the drift options it is given (called once per run).</param>
    /// <param name="reaction">The drift options of the reacting run; enabled, with a multiplier above 1. The report-only run uses
    /// the same with a multiplier of 1. Both keep every detection (<see cref="DriftOptions.HistoryCapacity"/> is raised to 1,000,000).</param>
    /// <param name="followingWeeks">How many weeks after a detection count as following it (1 to 52).</param>
    /// <param name="withoutDetection">Also run once with drift detection off, for the learner's cost of the tests.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>Both runs' metrics and detections, and the comparison.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/>, <paramref name="trackerOptions"/> or <paramref name="reaction"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="reaction"/> is not enabled or does not raise the learning rate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="followingWeeks"/> is out of range, or an option is.</exception>
    public static DriftStudyResult Run(InteractionLog log, DateTimeOffset start, Func<DriftOptions, TrackerOptions> trackerOptions, DriftOptions reaction,
        int followingWeeks = 2, bool withoutDetection = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(trackerOptions);
        ArgumentNullException.ThrowIfNull(reaction);
        if (!reaction.Enabled || reaction.LearningRateMultiplier <= 1)
        {
            throw new ArgumentException(
                $"'{nameof(reaction)}' must be enabled with a learning-rate multiplier above 1 (it is {(reaction.Enabled ? "enabled" : "disabled")}, ×{reaction.LearningRateMultiplier}).",
                nameof(reaction));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(followingWeeks, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(followingWeeks, 52);
        reaction = reaction with { HistoryCapacity = 1_000_000 };
        PrequentialProtocol protocol = PrequentialProtocol.Create(log, start);
        (PrequentialResult reacting, IReadOnlyList<DriftDetection> reacted, TrackerStatistics reactingStats) =
            Measure(protocol, trackerOptions(reaction), cancellationToken);
        (PrequentialResult reporting, IReadOnlyList<DriftDetection> reported, TrackerStatistics reportingStats) =
            Measure(protocol, trackerOptions(reaction with { LearningRateMultiplier = 1 }), cancellationToken);
        PrequentialResult? off = withoutDetection ? Measure(protocol, trackerOptions(reaction with { Enabled = false }), cancellationToken).Result : null;

        var on = reacting.Weeks.ToDictionary(w => w.Start);
        var only = reporting.Weeks.ToDictionary(w => w.Start);
        var windows = new List<DriftStudyWindow>();
        var pooled = new SortedSet<DateTime>();
        foreach (DriftDetection d in reacted.Where(d => d.Reacted))
        {
            DateTime at = d.StreamTime.UtcDateTime;
            DateTime[] weeks = [.. on.Keys.Where(w => w > at && w <= at.AddDays(7 * followingWeeks))];
            pooled.UnionWith(weeks);
            (double a, int baskets) = Pool(on, weeks);
            windows.Add(new DriftStudyWindow(d, a, Pool(only, weeks).Ndcg, baskets));
        }

        return new DriftStudyResult(reacting, reporting, off, reacted, reported, windows, Pool(on, pooled).Ndcg, Pool(only, pooled).Ndcg,
            pooled.Count, followingWeeks, reactingStats.DriftTests, reportingStats.DriftTests);
    }

    private static (PrequentialResult Result, IReadOnlyList<DriftDetection> Detections, TrackerStatistics Statistics) Measure(
        PrequentialProtocol protocol, TrackerOptions options, CancellationToken cancellationToken)
    {
        using var model = new TrackerRecommender(() => new PreferenceTracker(options));
        PrequentialResult result = protocol.Run(model, cancellationToken);
        PreferenceTracker tracker = model.Tracker!;
        return (result, tracker.DriftHistory, tracker.Statistics);
    }

    /// <summary>The basket-weighted NDCG of the given weeks (NaN when they hold no basket).</summary>
    private static (double Ndcg, int Baskets) Pool(Dictionary<DateTime, PrequentialPeriod> weeks, IEnumerable<DateTime> starts)
    {
        double sum = 0;
        int baskets = 0;
        foreach (DateTime s in starts)
        {
            if (weeks.TryGetValue(s, out PrequentialPeriod w) && w.Baskets > 0)
            {
                (sum, baskets) = (sum + (w.Ndcg * w.Baskets), baskets + w.Baskets);
            }
        }

        return (baskets > 0 ? sum / baskets : double.NaN, baskets);
    }
}

/// <summary>One reaction of a <see cref="DriftStudy"/>: the prequential NDCG of the weeks following it, reacting and reporting only.</summary>
/// <param name="Detection">The detection the reacting run reacted to.</param>
/// <param name="NdcgReacting">The reacting run's basket-weighted NDCG over the following weeks.</param>
/// <param name="NdcgReportOnly">The report-only run's, over the same weeks.</param>
/// <param name="Baskets">The baskets the reacting run evaluated in those weeks.</param>
public readonly record struct DriftStudyWindow(DriftDetection Detection, double NdcgReacting, double NdcgReportOnly, int Baskets);

/// <summary>The result of a <see cref="DriftStudy"/>.</summary>
/// <param name="Reacting">The reacting run's prequential metrics.</param>
/// <param name="ReportOnly">The report-only run's.</param>
/// <param name="WithoutDetection">The run with drift detection off (<see langword="null"/> unless asked for).</param>
/// <param name="ReactingDetections">Every detection of the reacting run, in order.</param>
/// <param name="ReportOnlyDetections">Every detection of the report-only run.</param>
/// <param name="Windows">Per reaction, the following weeks' NDCG in both runs.</param>
/// <param name="FollowingNdcgReacting">The reacting run's NDCG over the union of the following weeks (each week once, weighted by its baskets).</param>
/// <param name="FollowingNdcgReportOnly">The report-only run's over the same weeks.</param>
/// <param name="FollowingWeekCount">How many weeks that union holds.</param>
/// <param name="FollowingWeeks">The weeks after a detection that count as following it.</param>
/// <param name="ReactingTests">Purchases the reacting run's drift monitor tested.</param>
/// <param name="ReportOnlyTests">Purchases the report-only run's tested.</param>
public sealed record DriftStudyResult(PrequentialResult Reacting, PrequentialResult ReportOnly, PrequentialResult? WithoutDetection,
    IReadOnlyList<DriftDetection> ReactingDetections, IReadOnlyList<DriftDetection> ReportOnlyDetections, IReadOnlyList<DriftStudyWindow> Windows,
    double FollowingNdcgReacting, double FollowingNdcgReportOnly, int FollowingWeekCount, int FollowingWeeks, long ReactingTests, long ReportOnlyTests)
{
    /// <summary>Describes the result as a few lines of text: the overall metrics, the detections and the comparison per reaction.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"prequential NDCG@20 overall: reacting {Reacting.Ndcg:F4}, report-only {ReportOnly.Ndcg:F4}{(WithoutDetection is { } w ? string.Create(c, $", detection off {w.Ndcg:F4}") : "")} ({Reacting.Baskets} baskets)");
        text.AppendLine(c, $"learn seconds: reacting {Reacting.LearnSeconds:F1}, report-only {ReportOnly.LearnSeconds:F1}{(WithoutDetection is { } x ? string.Create(c, $", detection off {x.LearnSeconds:F1}") : "")}; purchases tested {ReactingTests} / {ReportOnlyTests}");
        text.AppendLine(c, $"following {FollowingWeeks} week(s) of the reactions ({FollowingWeekCount} distinct weeks): reacting {FollowingNdcgReacting:F4}, report-only {FollowingNdcgReportOnly:F4}");
        foreach ((string name, IReadOnlyList<DriftDetection> list) in new[] { ("reacting", ReactingDetections), ("report-only", ReportOnlyDetections) })
        {
            text.AppendLine(c, $"{name} run: {list.Count} detections ({list.Count(d => d.Segment.IsGlobal)} global)");
            foreach (DriftDetection d in list)
            {
                text.AppendLine(c, $"  {d.StreamTime:yyyy-MM-dd HH:mm} {d.Segment,-40} miss {d.MissRateBefore:F3} → {d.MissRateAfter:F3} after {d.Tested} tests{(d.Reacted ? "  reacted" : "")}");
            }
        }

        foreach (DriftStudyWindow window in Windows)
        {
            text.AppendLine(c, $"reaction {window.Detection.StreamTime:yyyy-MM-dd}: next weeks NDCG reacting {window.NdcgReacting:F4}, report-only {window.NdcgReportOnly:F4} ({window.Baskets} baskets)");
        }

        return text.ToString();
    }
}

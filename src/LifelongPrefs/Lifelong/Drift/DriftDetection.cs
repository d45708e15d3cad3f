using System.Globalization;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// A shopper segment of the drift monitor, taken when a purchase arrives: the frequency tier (how many baskets the user
/// had before: tier 0 one, tier 1 two to four, tier 2 five or more; counted in the kept history,
/// <see cref="TrackerOptions.MaxHistoryPerUser"/>) and the recency tier (days since the user's previous event: tier 0
/// up to 30, tier 1 31 to 90, tier 2 more than 90). <see cref="Global"/> stands for the whole stream.
/// </summary>
/// <param name="FrequencyTier">0, 1 or 2; −1 for <see cref="Global"/>.</param>
/// <param name="RecencyTier">0, 1 or 2; −1 for <see cref="Global"/>.</param>
public readonly record struct DriftSegment(int FrequencyTier, int RecencyTier)
{
    /// <summary>The number of tiers of each kind.</summary>
    internal const int Tiers = 3;

    /// <summary>Gets the whole stream's "segment".</summary>
    public static DriftSegment Global { get; } = new(-1, -1);

    /// <summary>Gets whether this is <see cref="Global"/>.</summary>
    public bool IsGlobal => FrequencyTier < 0;

    /// <summary>Gets the segment's index among the per-segment detectors (−1 for <see cref="Global"/>).</summary>
    internal int Index => IsGlobal ? -1 : (FrequencyTier * Tiers) + RecencyTier;

    /// <summary>The segment of a user with <paramref name="baskets"/> earlier baskets whose previous event was <paramref name="days"/> days ago.</summary>
    internal static DriftSegment Of(int baskets, double days) =>
        new(baskets <= 1 ? 0 : baskets <= 4 ? 1 : 2, days <= 30 ? 0 : days <= 90 ? 1 : 2);

    /// <summary>Describes the segment, for example <c>"baskets 2-4, last event 31-90 days ago"</c> or <c>"global"</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => IsGlobal
        ? "global"
        : string.Create(CultureInfo.InvariantCulture,
            $"baskets {(FrequencyTier == 0 ? "1" : FrequencyTier == 1 ? "2-4" : "5+")}, last event {(RecencyTier == 0 ? "0-30" : RecencyTier == 1 ? "31-90" : "90+")} days ago");
}

/// <summary>One detected change of the prequential miss rate (<see cref="PreferenceTracker.DriftHistory"/>).</summary>
/// <param name="StreamTime">The time of the tested purchase at which the change was detected.</param>
/// <param name="Segment">The stream the detector watches: <see cref="DriftSegment.Global"/> or one segment.</param>
/// <param name="Detector">The detector's kind.</param>
/// <param name="MissRateBefore">The miss rate (1 − hit@<see cref="DriftOptions.Cutoff"/>) before the change: for ADWIN the mean of
/// the part of its window it dropped; for Page-Hinkley the mean up to its estimate of the change point (the minimum of its sum).</param>
/// <param name="MissRateAfter">The miss rate since the change: ADWIN's remaining window; Page-Hinkley's values after the change point.</param>
/// <param name="Tested">The purchases this detector had been fed when it fired (since the tracker started).</param>
/// <param name="Reacted">Whether the learner raised its learning rate for it (a rise of the miss rate, a multiplier above 1, a
/// learner that supports it, and a global detection unless <see cref="DriftOptions.ReactToSegments"/>).</param>
public readonly record struct DriftDetection(DateTimeOffset StreamTime, DriftSegment Segment, DriftDetectorKind Detector,
    double MissRateBefore, double MissRateAfter, long Tested, bool Reacted);

/// <summary>The data of <see cref="PreferenceTracker.DriftDetected"/>.</summary>
/// <param name="detection">The detection.</param>
public sealed class DriftDetectedEventArgs(DriftDetection detection) : EventArgs
{
    /// <summary>Gets the detection.</summary>
    public DriftDetection Detection { get; } = detection;
}

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Drift detection in the tracker's learner (<see cref="TrackerOptions.Drift"/>): before each micro-batch is learned,
/// a deterministic sample of its purchases is ranked by the newest published version with the history the user had
/// when the purchase arrived, and the misses (1 when the item is not in the top <see cref="Cutoff"/>, else 0) feed a
/// change detector over the whole stream and one per shopper segment. A detected rise of the miss rate multiplies
/// the learner's learning rate for a stretch of stream time; every detection is reported
/// (<see cref="PreferenceTracker.DriftDetected"/>, <see cref="PreferenceTracker.DriftHistory"/>).
/// </summary>
/// <remarks>
/// Each test ranks the whole catalog once, so <see cref="SampleEvery"/> bounds the learner's extra work: about
/// 1/<see cref="SampleEvery"/> of a full ranking per purchase. With an infinite <see cref="TrackerOptions.FlushInterval"/>
/// the same events and seed give the same detections (the sample is a count over the queue, not a random draw).
/// </remarks>
public sealed record DriftOptions
{
    /// <summary>Gets or sets whether the learner tests purchases and watches for drift at all.</summary>
    /// <value>Default <see langword="false"/>: the learner does no extra work and the tracker behaves as without drift detection.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the change detector each stream of misses feeds.</summary>
    /// <value>Default <see cref="DriftDetectorKind.Adwin"/>.</value>
    public DriftDetectorKind Detector { get; set; } = DriftDetectorKind.Adwin;

    /// <summary>Gets or sets ADWIN's confidence δ (the bound on a false cut's probability per test; smaller is more conservative).</summary>
    /// <value>Default 0.002; in (0, 1).</value>
    public double AdwinDelta { get; set; } = 0.002;

    /// <summary>Gets or sets how many values ADWIN takes between two tests of its window.</summary>
    /// <value>Default 32; 1 to 1,000,000.</value>
    public int AdwinCheckInterval { get; set; } = 32;

    /// <summary>Gets or sets Page-Hinkley's δ, the tolerated rise of the miss rate.</summary>
    /// <value>Default 0.005; finite, 0 or more.</value>
    public double PageHinkleyDelta { get; set; } = 0.005;

    /// <summary>Gets or sets Page-Hinkley's alarm threshold λ on its cumulative sum.</summary>
    /// <value>Default 50; finite and positive.</value>
    public double PageHinkleyLambda { get; set; } = 50;

    /// <summary>Gets or sets how many values Page-Hinkley needs after a start or an alarm before it may raise another.</summary>
    /// <value>Default 30; 1 to 1,000,000.</value>
    public int PageHinkleyMinValues { get; set; } = 30;

    /// <summary>Gets or sets which purchases are tested: every <c>SampleEvery</c>-th purchase the learner takes, counted from the first.</summary>
    /// <value>Default 16; 1 (every purchase) to 1,000,000. On the bundled data 1 in 16 tests about 18,000 purchases a year
    /// (enough for ADWIN to find the one global change there); 1 in 64 tests about 4,500 and found none.</value>
    public int SampleEvery { get; set; } = 16;

    /// <summary>Gets or sets the rank below which a tested purchase counts as a hit (the miss is 1 − hit@Cutoff).</summary>
    /// <value>Default 20; 1 to 10,000.</value>
    public int Cutoff { get; set; } = 20;

    /// <summary>
    /// Gets or sets whether each shopper segment has a detector of its own besides the global one. A segment is the user's
    /// frequency tier (baskets before this one: 1, 2–4, 5 or more) and recency tier (days since the previous event:
    /// up to 30, 31–90, more than 90), taken when the purchase arrived (<see cref="DriftSegment"/>).
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool PerSegment { get; set; } = true;

    /// <summary>
    /// Gets or sets the factor by which a detected rise of the miss rate multiplies the learner's learning rate, for learners
    /// that support it (the default one does); 1 only reports.
    /// </summary>
    /// <value>Default 2; 1 to 100.</value>
    public double LearningRateMultiplier { get; set; } = 2;

    /// <summary>Gets or sets how long, in stream time after a detection, the learning rate stays raised (a new detection extends it).</summary>
    /// <value>Default 7 days; positive.</value>
    public TimeSpan ReactionDuration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets or sets whether a segment's detection raises the learning rate too (otherwise only the global detector's does; segments are reported).</summary>
    /// <value>Default <see langword="false"/>.</value>
    public bool ReactToSegments { get; set; }

    /// <summary>Gets or sets how many recent detections <see cref="PreferenceTracker.DriftHistory"/> keeps.</summary>
    /// <value>Default 100; 1 to 1,000,000.</value>
    public int HistoryCapacity { get; set; } = 100;

    /// <summary>Throws for the first option out of range, naming it as <c>TrackerOptions.Drift.Name</c>.</summary>
    internal void Validate()
    {
        const string Owner = "TrackerOptions.Drift";
        OptionCheck.Defined(Detector, Owner, nameof(Detector));

        if (!(AdwinDelta > 0 && AdwinDelta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(AdwinDelta), AdwinDelta, $"TrackerOptions.Drift.AdwinDelta is {AdwinDelta}; it must lie in (0, 1).");
        }

        if (!(PageHinkleyLambda > 0 && double.IsFinite(PageHinkleyLambda)))
        {
            throw new ArgumentOutOfRangeException(nameof(PageHinkleyLambda), PageHinkleyLambda,
                $"TrackerOptions.Drift.PageHinkleyLambda is {PageHinkleyLambda}; it must be finite and positive.");
        }

        OptionCheck.Range(AdwinCheckInterval, 1, 1_000_000, Owner, nameof(AdwinCheckInterval));
        OptionCheck.Range(PageHinkleyDelta, 0, double.MaxValue, Owner, nameof(PageHinkleyDelta));
        OptionCheck.Range(PageHinkleyMinValues, 1, 1_000_000, Owner, nameof(PageHinkleyMinValues));
        OptionCheck.Range(SampleEvery, 1, 1_000_000, Owner, nameof(SampleEvery));
        OptionCheck.Range(Cutoff, 1, 10_000, Owner, nameof(Cutoff));
        OptionCheck.Range(LearningRateMultiplier, 1, 100, Owner, nameof(LearningRateMultiplier));
        OptionCheck.Range(HistoryCapacity, 1, 1_000_000, Owner, nameof(HistoryCapacity));
        if (ReactionDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReactionDuration), ReactionDuration,
                $"TrackerOptions.Drift.ReactionDuration is {ReactionDuration}; it must be positive.");
        }
    }

    /// <summary>Creates a detector of the configured kind.</summary>
    internal IDriftDetector CreateDetector() => Detector == DriftDetectorKind.PageHinkley
        ? new PageHinkley(PageHinkleyDelta, PageHinkleyLambda, PageHinkleyMinValues)
        : new Adwin(AdwinDelta, checkInterval: AdwinCheckInterval);
}

/// <summary>The change detector of <see cref="DriftOptions.Detector"/>.</summary>
public enum DriftDetectorKind
{
    /// <summary><see cref="Adwin"/>: an adaptive window; detects a change of the miss rate either way.</summary>
    Adwin = 0,

    /// <summary><see cref="PageHinkley"/>: a cumulative-sum test; detects a rise of the miss rate.</summary>
    PageHinkley = 1,
}

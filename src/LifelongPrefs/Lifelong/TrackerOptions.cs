namespace LifelongPrefs.Lifelong;

/// <summary>
/// Settings of a <see cref="PreferenceTracker"/>. Every property has a working default; the tracker checks them all
/// when it is constructed and names the first one that makes no sense.
/// </summary>
public sealed class TrackerOptions
{
    /// <summary>Gets or sets the seed every random choice of the tracker and its default learner flows from.</summary>
    /// <value>Default 42.</value>
    public int Seed { get; set; } = 42;

    /// <summary>Gets or sets the width of the default learner's user and item vectors.</summary>
    /// <value>Default 64; 1 to 1,024.</value>
    public int Dimensions { get; set; } = 64;

    /// <summary>Gets or sets how many queued events make the background learner take a micro-batch.</summary>
    /// <value>Default 256; 1 to 1,000,000.</value>
    /// <remarks>
    /// The learner takes exactly this many events whenever that many are queued, so the micro-batch boundaries —
    /// and with them every learned parameter — depend only on the events and the seed, unless
    /// <see cref="FlushInterval"/> or <see cref="PreferenceTracker.FlushAsync"/> cuts a batch short.
    /// </remarks>
    public int MicroBatchSize { get; set; } = 256;

    /// <summary>
    /// Gets or sets how long an event may wait in the queue before the learner takes a shorter micro-batch, measured by the
    /// tracker's <see cref="TimeProvider"/>; <see cref="Timeout.InfiniteTimeSpan"/> batches by count only.
    /// </summary>
    /// <value>Default 1 second; positive or infinite.</value>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many events may wait for the learner before <see cref="QueueFullPolicy"/> applies.</summary>
    /// <value>Default 100,000; at least <see cref="MicroBatchSize"/>.</value>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>Gets or sets what <see cref="PreferenceTracker.Observe(Data.InteractionEvent)"/> does when the learning queue is full.</summary>
    /// <value>Default <see cref="QueueFullPolicy.Block"/>.</value>
    public QueueFullPolicy QueueFullPolicy { get; set; } = QueueFullPolicy.Block;

    /// <summary>Gets or sets how many of a user's most recent events the tracker keeps and scores with.</summary>
    /// <value>Default 1,000; 1 to 1,000,000. Memory: about 32 bytes per kept event, at most twice this per user.</value>
    public int MaxHistoryPerUser { get; set; } = 1_000;

    /// <summary>Gets or sets the longest user, item, basket or category id accepted, in UTF-16 characters.</summary>
    /// <value>Default 256; 1 to 65,536.</value>
    public int MaxIdLength { get; set; } = 256;

    /// <summary>
    /// Gets or sets the longest item description accepted (<see cref="PreferenceTracker.RegisterItem"/> or an event's
    /// <see cref="Data.ItemAttributes.Text"/>), in UTF-16 characters; the default learner reads the first 1,024 of them.
    /// </summary>
    /// <value>Default 4,096; 1 to 1,000,000.</value>
    public int MaxTextLength { get; set; } = 4_096;

    /// <summary>Gets or sets the half-life of the trending counts that answer for unknown and new users.</summary>
    /// <value>Default 7 days; positive.</value>
    public TimeSpan TrendingHalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets or sets how long a dismissed recommendation stays hidden from that user, in stream time.</summary>
    /// <value>Default 30 days; zero disables the suppression (the dismissal still teaches the learner).</value>
    public TimeSpan DismissalDuration { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Gets or sets how far an event may lie before the latest event of its user and still be accepted; an older one is
    /// rejected with an <see cref="ArgumentException"/>.
    /// </summary>
    /// <value>Default 1 day; zero or more.</value>
    public TimeSpan LateEventTolerance { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the fewest events a user needs before the personalised model answers instead of the cold-start path.</summary>
    /// <value>Default 2; at least 1.</value>
    public int MinEventsForPersonalization { get; set; } = 2;

    /// <summary>Gets or sets the most users the tracker accepts.</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxUsers { get; set; } = 10_000_000;

    /// <summary>Gets or sets the most items the tracker accepts.</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxItems { get; set; } = 10_000_000;

    /// <summary>Gets or sets the largest <c>k</c> a single recommendation or audience call may ask for.</summary>
    /// <value>Default 1,000.</value>
    public int MaxResults { get; set; } = 1_000;

    /// <summary>Gets or sets the half-life of the long-term interest profile.</summary>
    /// <value>Default 365 days; positive.</value>
    public TimeSpan LongTermHalfLife { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Gets or sets the half-life of the recent interest profile.</summary>
    /// <value>Default 30 days; positive.</value>
    public TimeSpan RecentHalfLife { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Gets or sets how many categories the tracker finds by clustering the learner's item vectors when the shop registered
    /// none (<see cref="PreferenceTracker.RegisterItem"/>).
    /// </summary>
    /// <value>Default 20; 1 to 1,000.</value>
    public int CategoryCount { get; set; } = 20;

    /// <summary>
    /// The precision of the item table a personalised <see cref="PreferenceTracker.Recommend"/> streams, for a learner
    /// that offers a reduced-precision copy (the default <c>RepeatExplore</c> does): <see cref="ItemTablePrecision.Quantized"/>
    /// scores the catalog from an int8 copy (a quarter of the bytes) and re-scores the best few hundred items exactly.
    /// </summary>
    /// <value>Default <see cref="ItemTablePrecision.Exact"/> (every score exact).</value>
    public ItemTablePrecision ItemTablePrecision { get; set; } = ItemTablePrecision.Exact;

    /// <summary>Gets or sets the drift detection the learner runs over its prequential misses, and its reaction (<see cref="DriftOptions"/>).</summary>
    /// <value>Default: new <see cref="DriftOptions"/>, switched off.</value>
    public DriftOptions Drift { get; set; } = new();

    /// <summary>
    /// Gets or sets the continual-learning strategies applied when the tracker learns with a custom <see cref="Models.BprMf"/>
    /// (the tracker wraps it in a <see cref="ContinualLearner"/>); the default learner (<c>RepeatExplore</c>) and other
    /// models are not affected.
    /// </summary>
    /// <value>Default <c>new ContinualOptions()</c> (the library's default strategy); <see cref="ContinualOptions.Naive"/> for plain fine-tuning.</value>
    public ContinualOptions Continual { get; set; } = new();

    /// <summary>
    /// Gets or sets the keyed hash the tracker keeps users under instead of their raw ids, or <see langword="null"/> to keep the
    /// shop's ids as given. When set, every entry point hashes the user id it receives before it looks anything up, and
    /// every output that names a user (profiles, explanations, audiences) names the pseudonym.
    /// </summary>
    /// <value>Default <see langword="null"/> (raw ids).</value>
    [OmittedWhen(null)]
    public Privacy.PseudonymizationOptions? Pseudonymization { get; set; }

    /// <summary>
    /// Gets or sets where the tracker keeps its checkpoint and event journal, and how it flushes them; <see langword="null"/>
    /// keeps everything in memory only. With it set, the tracker restores the saved state when it is created.
    /// </summary>
    /// <value>Default <see langword="null"/> (no persistence).</value>
    [NotFingerprinted]
    public PersistenceOptions? Persistence { get; set; }

    /// <summary>Checks every option, the nested <see cref="Drift"/> and <see cref="Continual"/> ones included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it by its path and
    /// value, e.g. <c>TrackerOptions.MicroBatchSize is 0; it must lie in [1, 1000000].</c></exception>
    /// <exception cref="ArgumentNullException"><see cref="Drift"/> or <see cref="Continual"/> is <see langword="null"/>.</exception>
    public void Validate()
    {
        const string Owner = nameof(TrackerOptions);
        static void Positive(TimeSpan value, string name, bool allowZero = false, bool allowInfinite = false)
        {
            bool ok = (value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero))
                || (allowInfinite && value == Timeout.InfiniteTimeSpan);
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, value,
                    $"TrackerOptions.{name} is {value}; it must be {(allowZero ? "zero or more" : "positive")}{(allowInfinite ? " or infinite" : "")}.");
            }
        }

        OptionCheck.Range(Dimensions, 1, 1_024, Owner, nameof(Dimensions));
        OptionCheck.Range(MicroBatchSize, 1, 1_000_000, Owner, nameof(MicroBatchSize));
        OptionCheck.Range(QueueCapacity, MicroBatchSize, 100_000_000, Owner, nameof(QueueCapacity));
        OptionCheck.Range(MaxHistoryPerUser, 1, 1_000_000, Owner, nameof(MaxHistoryPerUser));
        OptionCheck.Range(MaxIdLength, 1, 65_536, Owner, nameof(MaxIdLength));
        OptionCheck.Range(MaxTextLength, 1, 1_000_000, Owner, nameof(MaxTextLength));
        OptionCheck.Range(MinEventsForPersonalization, 1, 1_000_000, Owner, nameof(MinEventsForPersonalization));
        OptionCheck.Range(MaxUsers, 1, int.MaxValue - 1, Owner, nameof(MaxUsers));
        OptionCheck.Range(MaxItems, 1, int.MaxValue - 1, Owner, nameof(MaxItems));
        OptionCheck.Range(MaxResults, 1, 1_000_000, Owner, nameof(MaxResults));
        OptionCheck.Range(CategoryCount, 1, 1_000, Owner, nameof(CategoryCount));
        OptionCheck.Defined(QueueFullPolicy, Owner, nameof(QueueFullPolicy));
        OptionCheck.Defined(ItemTablePrecision, Owner, nameof(ItemTablePrecision));

        Positive(FlushInterval, nameof(FlushInterval), allowInfinite: true);
        Positive(TrendingHalfLife, nameof(TrendingHalfLife));
        Positive(DismissalDuration, nameof(DismissalDuration), allowZero: true);
        Positive(LateEventTolerance, nameof(LateEventTolerance), allowZero: true);
        Positive(LongTermHalfLife, nameof(LongTermHalfLife));
        Positive(RecentHalfLife, nameof(RecentHalfLife));
        (Drift ?? throw new ArgumentNullException(nameof(Drift), "TrackerOptions.Drift is null; leave it unset for the defaults.")).Validate();
        Persistence?.Validate();
        (Continual ?? throw new ArgumentNullException(nameof(Continual), "TrackerOptions.Continual is null; leave it unset for the defaults.")).Validate();
    }

    /// <summary>A deep copy: the tracker keeps one, so that a host changing its options object later changes nothing.</summary>
    internal TrackerOptions Copy()
    {
        var copy = (TrackerOptions)MemberwiseClone();
        copy.Drift = Drift is null ? null! : Drift with { };
        copy.Continual = Continual?.Copy()!;
        copy.Persistence = Persistence?.Copy();
        return copy;
    }
}

/// <summary>What <see cref="PreferenceTracker.Observe(Data.InteractionEvent)"/> does when the learning queue is full.</summary>
public enum QueueFullPolicy
{
    /// <summary>Wait until the learner has taken a micro-batch (the event is never lost).</summary>
    Block = 0,

    /// <summary>
    /// Drop the oldest queued event from learning (it stays in the user's history and statistics) and count it in
    /// <see cref="TrackerStatistics.EventsDroppedFromLearning"/>.
    /// </summary>
    DropOldest = 1,

    /// <summary>Throw <see cref="InvalidOperationException"/>; the event is not recorded at all.</summary>
    Throw = 2,
}

/// <summary>The precision of the item table behind personalised recommendations (<see cref="TrackerOptions.ItemTablePrecision"/>).</summary>
public enum ItemTablePrecision
{
    /// <summary>The model's own fp32 table: every score exact.</summary>
    Exact = 0,

    /// <summary>
    /// An int8 copy of the item table (one scale per item row, built per published version from the rows that changed)
    /// ranks the whole catalog; the best max(50, 5·k) items never bought (max(200, 10·k) when a category or candidate
    /// filter is set), and every item bought before, are then scored exactly in fp32, so the top of the list carries exact
    /// scores. An item outside those candidates keeps its approximate score, which matters only when a filter rules out
    /// most of the candidates.
    /// Learners without a reduced-precision table score in fp32.
    /// </summary>
    Quantized = 1,
}

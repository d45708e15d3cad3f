namespace LifelongPrefs.Models;

/// <summary>
/// The lifelong tracker's default learner: an incremental next-basket model that mixes the user's repeat signal,
/// an online embedding model's exploration score and item-item co-occurrence through a learned gate.
/// </summary>
/// <remarks>
/// <para>
/// <b>Score.</b> For user u with history H (the span given to <see cref="Score"/>) and item i, the score is the gate's
/// logit <c>w·f(u, i)</c> over twenty features (<c>RepeatExploreMath.Fill</c>): the repeat signal from H alone (bought
/// before, basket count and share, TIFU-KNN's time-decayed frequency, days since the last purchase, whether it was
/// in the last basket, and how close "now" — the last history event — is to the user's mean gap for the item); the
/// exploration score <c>(user row + mean of the input rows of the user's most recent items)·(output row of i) +
/// bias of i</c>; the cosine co-occurrence of i with the user's most recent items; popularity; and the user's repeat
/// ratio and history length, the item's share of repeat purchases across users, the baskets since the last purchase
/// and recency against the user's own rhythm for items bought before; and a 30-day time-decayed popularity. It is the RepeatAware idea (the repeat signal given to the
/// model directly, a learned repeat/explore balance) made incremental.
/// </para>
/// <para>
/// <b>Learning.</b> <see cref="Update"/> streams events in the order given. A user's events with one basket key form
/// a basket; when the user's next basket starts (or the call ends) the basket is learned once, from the user's state
/// before it: one sampled-softmax step of the embedding model (targets = the basket's items, <see
/// cref="RepeatExploreOptions.Negatives"/> negatives shared by them, drawn in proportion to recent purchases and
/// importance-weighted, one draw serving <see cref="RepeatExploreOptions.NegativeReuse"/> consecutive baskets of the
/// call, lazy Adam on exactly the rows it touched)
/// and one step of the gate (a softmax over the targets, a sample of the user's own earlier items and the same
/// negatives, each weighted by how many catalog items it stands for). Then the basket enters the user's
/// statistics, the co-occurrence counts and the popularity. A basket cut by the end of an <see cref="Update"/>
/// continues as the same basket in the next one (same key): its second part is learned with the first part already
/// in the user's state. <see cref="Fit"/> is a reset followed by the same stream in one pass (no validation split,
/// no epochs: every basket is learned once, as the tracker will learn it).
/// </para>
/// <para>
/// <b>Snapshots.</b> <see cref="CreateScorer"/> shares the tables in chunks of rows with copy-on-write: a snapshot costs
/// a copy of the chunk directories, and the writer copies a chunk before its first write after a snapshot (see
/// <c>RepeatExplore/README.md</c>). Returns and non-positive events are ignored. Every random choice flows from
/// <see cref="ModelOptions.Seed"/>, so the same events in the same calls give bit-identical models.
/// </para>
/// </remarks>
public sealed partial class RepeatExplore : Recommender, INegativeFeedbackLearner, IForgettingModel
{
    /// <summary>Rows per copy-on-write chunk of every table.</summary>
    internal const int ChunkRows = 8;

    private const int F = RepeatExploreMath.Features;
    private const int SamplerCapacity = 1 << 20;
    private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, InitScale = 0.1f;

    private readonly RepeatExploreOptions _options;
    private readonly int _d;
    private SeededRandom _random;
    private CowTable<float> _userRows, _inputRows, _outputRows, _itemInfo;
    private CowCooccurrence _cooccurrence;
    private readonly float[] _gate = new float[F], _gateM = new float[F], _gateV = new float[F];
    private float[] _userM = [], _userV = [], _inputM = [], _inputV = [], _outputM = [], _outputV = [];
    private readonly BasketLedger _baskets = new();
    private RecentItemSampler _sampler = new(SamplerCapacity);
    private readonly List<(int User, int Item)> _negatives = [];
    private long _steps;
    private long _latest;
    private int _users, _items;
    private RepeatExploreScorer? _live;

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public RepeatExplore(RepeatExploreOptions? options = null)
    {
        _options = options ?? new RepeatExploreOptions();
        _options.Validate();
        _d = _options.Dimensions;
        _random = new SeededRandom(_options.Seed);
        (_userRows, _inputRows, _outputRows, _itemInfo) = NewTables();
        _cooccurrence = new CowCooccurrence(ChunkRows);
        InitialGate();
    }

    /// <inheritdoc/>
    public override string Name => "RepeatExplore";

    /// <inheritdoc/>
    public override int ItemCount => _items;

    /// <summary>Gets the number of online steps taken so far (one per learned basket and per applied negative).</summary>
    public long Steps => _steps;

    /// <inheritdoc/>
    /// <remarks>
    /// Resets the model to a new instance's state and streams <paramref name="events"/> through <see cref="Update"/>'s
    /// path in one pass, so <c>m.Fit(a)</c> ends exactly where <c>new RepeatExplore(options).Update(a)</c> does.
    /// Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the model is left part-way through the stream).</exception>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _d + 1);
        cancellationToken.ThrowIfCancellationRequested();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Reset();
        Grow(userCount, itemCount);
        Stream(events, cancellationToken);
        LearnTexts(events.Count);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, clock.Elapsed, TimeSpan.Zero));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Applies the negatives queued by <see cref="INegativeFeedbackLearner.AddNegative"/> first, then learns every basket
    /// of <paramref name="newEvents"/> once (see the class remarks). Exclusive: no other call may run at the same time;
    /// snapshots taken before keep their answers.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users, _items, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _d + 1);
        Grow(userCount, itemCount);
        UnshiftTexts();
        ApplyNegatives();
        Stream(newEvents, CancellationToken.None);
        LearnTexts(newEvents.Count);
    }

    /// <summary>
    /// Queues (user, item) as a negative example for the next <see cref="Update"/>: one logistic step pushes the
    /// pair's exploration score down (pairs outside the model's counts at that time are dropped).
    /// </summary>
    /// <param name="user">The user index (non-negative).</param>
    /// <param name="item">The dismissed item index (non-negative).</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative.</exception>
    void INegativeFeedbackLearner.AddNegative(int user, int item)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(user);
        ArgumentOutOfRangeException.ThrowIfNegative(item);
        _negatives.Add((user, item));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read over a snapshot of the current version (taken on first use after a write), so it may run on
    /// any number of threads at once with the other reads; never alongside <see cref="Fit"/>, <see cref="Update"/> or
    /// <see cref="Recommender.Load"/>.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => Live.Score(user, history, scores);

    /// <inheritdoc/>
    /// <remarks>
    /// Cheap enough to call after every micro-batch: the tables are shared with the model chunk by chunk (copy-on-write),
    /// so it copies only the chunk directories and the gate's weights.
    /// </remarks>
    public override IScorer CreateScorer() => new RepeatExploreScorer(_userRows.Snapshot(), _inputRows.Snapshot(),
        _outputRows.Snapshot(), _itemInfo.Snapshot(), _cooccurrence.Snapshot(), (float[])_gate.Clone(), _users, _items, _latest, _options);

    internal RepeatExploreScorer Live => _live ??= (RepeatExploreScorer)CreateScorer();

    private (CowTable<float>, CowTable<float>, CowTable<float>, CowTable<float>) NewTables() =>
        (new CowTable<float>(_d, ChunkRows), new CowTable<float>(_d, ChunkRows), new CowTable<float>(_d + 1, ChunkRows),
            new CowTable<float>(ItemInfo.Width, ChunkRows));

    private void InitialGate()
    {
        Array.Clear(_gate);
        Array.Clear(_gateM);
        Array.Clear(_gateV);

        // Start as "explore score plus a repeat bonus": a sensible ranking before the gate has learned anything.
        _gate[RepeatExploreMath.ExploreColumn] = 1f;
        _gate[0] = 1f;
        _gate[3] = 1f;
    }

    /// <summary>Returns the model to a new instance's state.</summary>
    private void Reset()
    {
        _random = new SeededRandom(_options.Seed);
        (_userRows, _inputRows, _outputRows, _itemInfo) = NewTables();
        _cooccurrence = new CowCooccurrence(ChunkRows);
        InitialGate();
        (_userM, _userV, _inputM, _inputV, _outputM, _outputV) = ([], [], [], [], [], []);
        _baskets.Clear();
        _sampler = new RecentItemSampler(SamplerCapacity);
        _negatives.Clear();
        _text?.Reset();
        (_steps, _users, _items, _live, _latest) = (0, 0, 0, null, 0);
    }

    /// <summary>Grows every table (counts already checked); new item rows get seeded random values.</summary>
    private void Grow(int userCount, int itemCount)
    {
        _live = null;
        if (userCount > _users)
        {
            _userRows.Grow(userCount);
            _baskets.Grow(userCount);
            Moments(ref _userM, ref _userV, (long)userCount * _d);
            _users = userCount;
        }

        if (itemCount > _items)
        {
            _inputRows.Grow(itemCount);
            _outputRows.Grow(itemCount);
            _itemInfo.Grow(itemCount);
            _cooccurrence.Grow(itemCount);
            _sampler.Grow(itemCount);
            Moments(ref _inputM, ref _inputV, (long)itemCount * _d);
            Moments(ref _outputM, ref _outputV, (long)itemCount * (_d + 1));
            for (int i = _items; i < itemCount; i++)
            {
                Span<float> input = _inputRows.Row(i), output = _outputRows.Row(i);
                _itemInfo.Row(i)[ItemInfo.LogTrend] = RepeatExploreMath.NoTrend;
                for (int k = 0; k < _d; k++)
                {
                    input[k] = (2f * _random.NextSingle() - 1f) * InitScale;
                    output[k] = (2f * _random.NextSingle() - 1f) * InitScale;
                }
            }

            _items = itemCount;
        }

        GrowScratch();
    }

    private static void Moments(ref float[] m, ref float[] v, long length)
    {
        if (m.Length < length)
        {
            long capacity = Math.Min(Math.Max(length, 2L * m.Length), Array.MaxLength);
            Array.Resize(ref m, (int)capacity);
            Array.Resize(ref v, (int)capacity);
        }
    }

    /// <summary>
    /// The per-item statistics row: users who bought the item, its popularity feature, 1/√users, repeat baskets,
    /// baskets, the repeat-share feature and the log time-decayed count of its lines.
    /// </summary>
    internal static class ItemInfo
    {
        internal const int Width = 7, Users = 0, Popularity = 1, InverseSqrtUsers = 2, Repeats = 3, Lines = 4, RepeatShare = 5, LogTrend = 6;
    }
}

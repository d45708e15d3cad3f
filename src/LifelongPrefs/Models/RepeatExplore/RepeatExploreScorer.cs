using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>
/// One version of <see cref="RepeatExplore"/>: views of its copy-on-write tables (user rows, item input and output
/// rows, per-item statistics, co-occurrence rows) and a copy of the gate's weights. Immutable, so any number of
/// threads may score with it while the model keeps learning; each call takes its scratch from the scorer's pool.
/// </summary>
internal sealed partial class RepeatExploreScorer : FrozenScorer, IEmbeddingScorer, IExplainingScorer
{
    private const int F = RepeatExploreMath.Features;
    private readonly CowView<float> _users, _inputs, _outputs, _info;
    private readonly CoocView _cooccurrence;
    private readonly float[] _gate;
    private readonly int _userCount, _items, _d, _contextItems, _cooccurrenceItems;
    private readonly float _decay;
    private readonly double _nowOverTau;
    private readonly ScratchPool<Scratch> _pool;
    private readonly RepeatExploreOptions _options;

    internal RepeatExploreScorer(CowView<float> users, CowView<float> inputs, CowView<float> outputs, CowView<float> info,
        CoocView cooccurrence, float[] gate, int userCount, int items, long latest, RepeatExploreOptions options)
    {
        _nowOverTau = latest / RepeatExploreMath.TrendTicks;
        _options = options;
        (_users, _inputs, _outputs, _info, _cooccurrence, _gate) = (users, inputs, outputs, info, cooccurrence, gate);
        (_userCount, _items, _d) = (userCount, items, options.Dimensions);
        (_contextItems, _cooccurrenceItems, _decay) = (options.ContextItems, options.CooccurrenceItems, options.Decay);
        int recent = Math.Max(_contextItems, _cooccurrenceItems);
        _pool = new ScratchPool<Scratch>(() => new Scratch(_d, recent));
    }

    /// <inheritdoc/>
    public override int ItemCount => _items;

    /// <inheritdoc/>
    public int Dimensions => _d;

    /// <summary>Gets the gate's weights (a copy owned by this version).</summary>
    internal ReadOnlySpan<float> Gate => _gate;

    /// <inheritdoc/>
    /// <remarks>
    /// One pass over the version's <see cref="Fp32Table"/> (the output table in 256-row segments, built on first use): per item <c>((w_explore·(o_i·h + b_i) + w_cooc·log(1 + c_i)) + w_pop·pop_i) + w_trend·trend_i</c>,
    /// with the last two products taken from the version's <see cref="ItemTerms"/> (built on first use) and the
    /// co-occurrence term read from a buffer that only the recent items' rows touched; then the full feature row for the
    /// items bought before. Every product and sum is the one <see cref="RepeatExploreMath.ExploreLogit"/> and
    /// <see cref="RepeatExploreMath.Logit"/> form, in their order, so the scores equal <see cref="ScoreByFeatures"/>'s bit for bit.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => ScoreCatalog(user, history, scores, 0);

    /// <summary>
    /// The scores as the first version of this scorer computed them, feature by feature (a Gemv per chunk, the trend's
    /// exp and log per item per call, a cleared catalog-wide co-occurrence buffer): the oracle <see cref="Score"/> is
    /// tested against, and the baseline of the Recommend benchmark.
    /// </summary>
    internal void ScoreByFeatures(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => ScoreCatalog(user, history, scores, ByFeatures);

    /// <summary><see cref="ScoreByFeatures"/>'s pass, after the history is parsed and the user vector built.</summary>
    private void FeatureByFeature(Scratch scratch, in UserSummary summary, Span<float> scores)
    {
        // Explore scores of the whole catalog, chunk by chunk: o_i·h + b_i.
        int w = _d + 1, rows = _outputs.ChunkRows;
        for (int c = 0; c * rows < _items; c++)
        {
            int m = Math.Min(rows, _items - c * rows);
            Span<float> part = scores.Slice(c * rows, m);
            ReadOnlySpan<float> chunk = _outputs.Chunk(c);
            Kernels.Gemv(Transpose.None, m, _d, 1f, chunk[..((m - 1) * w + _d)], w, scratch.H, 0f, part);
            for (int r = 0; r < m; r++)
            {
                part[r] += chunk[r * w + _d];
            }
        }

        Span<float> cooccurrence = scratch.Cooccurrence(_items);
        CooccurrenceByFeatures(scratch, cooccurrence);
        for (int c = 0; c * rows < _items; c++)
        {
            int m = Math.Min(rows, _items - c * rows);
            ReadOnlySpan<float> info = _info.Chunk(c);
            for (int r = 0, i = c * rows; r < m; r++, i++)
            {
                float log = RepeatExploreMath.LogCooccurrence(cooccurrence[i]);
                int at = r * RepeatExplore.ItemInfo.Width;
                float trend = RepeatExploreMath.Trend(info[at + RepeatExplore.ItemInfo.LogTrend], _nowOverTau);
                scores[i] = RepeatExploreMath.ExploreLogit(_gate, scores[i], log, info[at + RepeatExplore.ItemInfo.Popularity], trend);
            }
        }

        // Items bought before: the full feature row (the explore score is recomputed, the slot now holds the logit).
        Span<float> f = stackalloc float[F];
        foreach (int item in scratch.Bought)
        {
            RepeatExploreMath.Fill(f, true, scratch.Stats[item], summary, Explore(scratch, item), cooccurrence[item], Popularity(item), RepeatShare(item), Trend(item), _decay);
            scores[item] = RepeatExploreMath.Logit(_gate, f);
        }

        cooccurrence.Clear(); // the other paths rely on a zero buffer
    }

    /// <inheritdoc/>
    public void UserVector(int user, ReadOnlySpan<Interaction> history, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, _d, nameof(destination));
        RecommenderGuard.Scoring(history, Span<float>.Empty, 0);
        Scratch scratch = _pool.Rent();
        try
        {
            Parse(scratch, history);
            Vector(scratch, user);
            scratch.H.CopyTo(destination);
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    /// <inheritdoc/>
    public void ItemVector(int item, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)_items, nameof(item));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, _d, nameof(destination));
        _outputs.Row(item)[.._d].CopyTo(destination);
    }

    private float Explore(Scratch scratch, int item)
    {
        ReadOnlySpan<float> row = _outputs.Row(item);
        return TensorPrimitives.Dot(row[.._d], scratch.H) + row[_d];
    }

    private float Popularity(int item) => _info.Row(item)[RepeatExplore.ItemInfo.Popularity];

    private float Trend(int item) => RepeatExploreMath.Trend(_info.Row(item)[RepeatExplore.ItemInfo.LogTrend], _nowOverTau);

    private float RepeatShare(int item) => _info.Row(item)[RepeatExplore.ItemInfo.RepeatShare];

    /// <summary>The repeat statistics of the history (as the writer keeps them per committed basket) and the recent items.</summary>
    private UserSummary Parse(Scratch scratch, ReadOnlySpan<Interaction> history)
    {
        scratch.Reset(_items);
        UserSummary summary = Summarize(history, _items, _decay, scratch.Stats, scratch.Bought);
        int n = 0, cap = scratch.Recent.Length;
        foreach (int item in scratch.Bought)
        {
            n = RecentItems.Insert(scratch.Recent, scratch.RecentBasket, n, cap, item, scratch.Stats[item].LastBasket);
        }

        scratch.RecentCount = n;
        return summary;
    }

    /// <summary>
    /// Derives from a history what the writer keeps per committed basket: each bought item's <see cref="ItemStat"/>
    /// (into <paramref name="stats"/>, which must be all-default for the items listed afterwards in
    /// <paramref name="bought"/>) and the user's summary. A basket is a run of positive events with one basket key;
    /// items outside the catalog and non-positive events are skipped.
    /// </summary>
    internal static UserSummary Summarize(ReadOnlySpan<Interaction> history, int items, float decay, Span<ItemStat> stats, List<int> bought)
    {
        int baskets = 0, laterItems = 0, laterRepeats = 0;
        long key = long.MinValue, now = 0, first = long.MaxValue;
        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item >= (uint)items || !RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (e.BasketKey != key)
            {
                key = e.BasketKey;
                baskets++;
            }

            int b = baskets - 1;
            now = Math.Max(now, e.Ticks);
            first = Math.Min(first, e.Ticks);
            ref ItemStat stat = ref stats[e.Item];
            if (stat.Count == 0)
            {
                bought.Add(e.Item);
                laterItems += b > 0 ? 1 : 0;
            }
            else if (stat.LastBasket != b)
            {
                laterItems++;
                laterRepeats++;
            }

            stat.Add(b, e.Ticks, decay);
        }

        return new UserSummary(baskets, now, UserSummary.Ratio(laterItems, laterRepeats), baskets > 0 ? first : 0);
    }

    /// <summary>h = the user's row (zero for a user the model never had) + the mean input row of the recent items.</summary>
    private void Vector(Scratch scratch, int user)
    {
        int context = Math.Min(scratch.RecentCount, _contextItems);
        Span<float> h = scratch.H;
        if ((uint)user < (uint)_userCount)
        {
            _users.Row(user).CopyTo(h);
        }
        else
        {
            h.Clear();
        }

        float inverse = context > 0 ? 1f / context : 0f;
        for (int j = 0; j < context; j++)
        {
            TensorPrimitives.MultiplyAdd(_inputs.Row(scratch.Recent[j]), inverse, h, h);
        }
    }

    /// <summary>The cosine co-occurrence of every item with the recent items: <c>inv_i · Σ_j inv_j · C[j, i]</c>.</summary>
    private void CooccurrenceByFeatures(Scratch scratch, Span<float> destination)
    {
        destination.Clear();
        int cooc = Math.Min(scratch.RecentCount, _cooccurrenceItems), touched = 0;
        for (int j = 0; j < cooc; j++)
        {
            int other = scratch.Recent[j];
            float inverse = _info.Row(other)[RepeatExplore.ItemInfo.InverseSqrtUsers];
            if (inverse > 0f)
            {
                _cooccurrence.AddRowTo(other, inverse, destination, scratch.Touched, ref touched); // the list is unused: the buffer is cleared whole
            }
        }

        for (int i = 0; i < destination.Length; i++)
        {
            if (destination[i] != 0f)
            {
                destination[i] *= _info.Row(i)[RepeatExplore.ItemInfo.InverseSqrtUsers];
            }
        }
    }

    /// <summary>One call's buffers: per-item statistics (cleared through the bought list), the user vector, the co-occurrence scores.</summary>
    private sealed class Scratch(int d, int recent)
    {
        private float[] _cooccurrence = [];
        private int[] _touched = [];
        private int _touchedCount;

        internal ItemStat[] Stats { get; private set; } = [];

        internal List<int> Bought { get; } = [];

        internal float[] H { get; } = new float[d];

        internal int[] Recent { get; } = new int[recent];

        internal int[] RecentBasket { get; } = new int[recent];

        internal int RecentCount { get; set; }

        /// <summary>Per bought item (in <see cref="Bought"/>'s order): its co-occurrence score.</summary>
        internal float[] BoughtCooccurrence { get; set; } = [];

        /// <summary>The quantized user vector (int8 path), padded to whole groups of 4.</summary>
        internal sbyte[] Levels { get; } = new sbyte[QuantizedSegment.Groups(d) * Kernels.Int8GroupWidth];

        /// <summary>One chunk's integer dot products (int8 path).</summary>
        internal int[] Sums { get; set; } = [];

        /// <summary>The bought items, sorted (int8 path: left out of the candidates, which they need not be).</summary>
        internal int[] BoughtSorted { get; set; } = [];

        /// <summary>The candidates of the exact re-ranking and their approximate scores (int8 path).</summary>
        internal int[] Candidates { get; set; } = [];

        internal float[] CandidateScores { get; set; } = [];

        /// <summary>
        /// The co-occurrence buffer over the catalog, all zero except where the previous call wrote (those entries are
        /// cleared by <see cref="Reset"/>, so a call that ended early cannot leave stale values).
        /// </summary>
        internal Span<float> Cooccurrence(int items)
        {
            if (_cooccurrence.Length < items)
            {
                _cooccurrence = new float[items];
                _touched = new int[items + 1]; // every item, plus the slot AddRowTo writes before it decides
                Logs = new float[items];
                _touchedCount = 0;
            }

            return _cooccurrence.AsSpan(0, items);
        }

        /// <summary>Gets the buffer in which a call lists the entries of the co-occurrence buffer it made non-zero (one more than the catalog).</summary>
        internal Span<int> Touched => _touched;

        /// <summary>Sets how many entries of <see cref="Touched"/> the call listed (<see cref="Reset"/> clears them).</summary>
        internal int TouchedCount
        {
            set => _touchedCount = value;
        }

        /// <summary>Gets a buffer as long as the catalog for the touched entries' logs (int8 path).</summary>
        internal float[] Logs { get; private set; } = [];

        /// <summary>Gets the entries the call listed in <see cref="Touched"/>.</summary>
        internal ReadOnlySpan<int> TouchedEntries => _touched.AsSpan(0, _touchedCount);

        internal void Reset(int items)
        {
            if (Stats.Length < items)
            {
                Stats = new ItemStat[items];
                Bought.Clear();
            }

            foreach (int item in Bought)
            {
                Stats[item] = default;
            }

            foreach (int i in _touched.AsSpan(0, _touchedCount))
            {
                _cooccurrence[i] = 0f;
            }

            _touchedCount = 0;
            Bought.Clear();
            RecentCount = 0;
        }
    }
}

namespace LifelongPrefs.Models;

/// <summary>
/// What <see cref="PropensityMlp"/> scoring reads: the network's weights and batch-norm running statistics, the
/// fitted scaler and the per-item statistics. Built over the live model (no copy) or over a scorer's frozen copy.
/// </summary>
internal readonly ref struct PropensityScoringState
{
    /// <summary>The nine-layer network's parameters in registration order (three Linear, two BatchNorm1d).</summary>
    internal ParameterValues Parameters { get; init; }

    /// <summary>The first batch norm's running mean.</summary>
    internal ReadOnlySpan<float> Mean0 { get; init; }

    /// <summary>The second batch norm's running mean.</summary>
    internal ReadOnlySpan<float> Mean1 { get; init; }

    /// <summary>The first batch norm's running variance.</summary>
    internal ReadOnlySpan<float> Variance0 { get; init; }

    /// <summary>The second batch norm's running variance.</summary>
    internal ReadOnlySpan<float> Variance1 { get; init; }

    /// <summary>The batch norms' ε (the same for both: the default of <see cref="BatchNorm1d"/> unless built otherwise).</summary>
    internal float Epsilon { get; init; }

    /// <summary>The scaler's means (empty before any training).</summary>
    internal ReadOnlySpan<float> ScalerMean { get; init; }

    /// <summary>The scaler's scales.</summary>
    internal ReadOnlySpan<float> ScalerScale { get; init; }

    /// <summary>Purchase events per item (its length is the catalog size).</summary>
    internal ReadOnlySpan<float> ItemEvents { get; init; }

    /// <summary>Distinct buyers per item.</summary>
    internal ReadOnlySpan<float> ItemBuyers { get; init; }

    /// <summary>Purchase events per item in the recent window.</summary>
    internal ReadOnlySpan<float> ItemRecent { get; init; }

    /// <summary>Each item's latest purchase time.</summary>
    internal ReadOnlySpan<long> ItemLast { get; init; }

    /// <summary>The latest time stamp the statistics saw.</summary>
    internal long LatestTicks { get; init; }
}

/// <summary>
/// The scoring of <see cref="PropensityMlp"/> (one (items, features) matrix through the inference twins of
/// Linear → BatchNorm1d → ReLU → Linear → BatchNorm1d → ReLU → Linear; dropout is the identity), and its immutable
/// snapshot holding copies of everything <see cref="PropensityScoringState"/> reads.
/// </summary>
internal sealed class PropensityMlpScorer : FrozenScorer
{
    private const int Width = PropensityFeatures.Width;
    private readonly ParameterValues _parameters;
    private readonly float[][] _norms;      // mean₀, variance₀, mean₁, variance₁
    private readonly float _epsilon;
    private readonly float[] _scalerMean, _scalerScale, _events, _buyers, _recent;
    private readonly long[] _last;
    private readonly long _latest;
    private readonly ScratchPool<Scratch> _pool = NewPool();

    /// <summary>Copies everything <paramref name="state"/> reads.</summary>
    internal PropensityMlpScorer(PropensityScoringState state, IReadOnlyList<Parameter> parameters)
    {
        _parameters = ParameterValues.Freeze(parameters);
        _norms = [state.Mean0.ToArray(), state.Variance0.ToArray(), state.Mean1.ToArray(), state.Variance1.ToArray()];
        _epsilon = state.Epsilon;
        (_scalerMean, _scalerScale) = (state.ScalerMean.ToArray(), state.ScalerScale.ToArray());
        (_events, _buyers, _recent, _last) = (state.ItemEvents.ToArray(), state.ItemBuyers.ToArray(), state.ItemRecent.ToArray(), state.ItemLast.ToArray());
        _latest = state.LatestTicks;
    }

    /// <inheritdoc/>
    public override int ItemCount => _events.Length;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => Score(new PropensityScoringState
    {
        Parameters = _parameters,
        Mean0 = _norms[0],
        Variance0 = _norms[1],
        Mean1 = _norms[2],
        Variance1 = _norms[3],
        Epsilon = _epsilon,
        ScalerMean = _scalerMean,
        ScalerScale = _scalerScale,
        ItemEvents = _events,
        ItemBuyers = _buyers,
        ItemRecent = _recent,
        ItemLast = _last,
        LatestTicks = _latest,
    }, _pool, history, scores);

    /// <summary>A pool of per-call scratch.</summary>
    internal static ScratchPool<Scratch> NewPool() => new(() => new Scratch());

    /// <summary>
    /// Scores every item: user columns from <paramref name="history"/> only, item columns from the statistics at "now"
    /// (the later of the history's last event and the latest event the statistics saw), pair columns for the history's
    /// items; standardised and run through the network in inference mode. The score is the logit.
    /// </summary>
    internal static void Score(PropensityScoringState state, ScratchPool<Scratch> pool, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int items = state.ItemEvents.Length;
        RecommenderGuard.Scoring(history, scores, items);
        if (items == 0)
        {
            return;
        }

        ParameterValues p = state.Parameters;
        int h1 = p[1].Length, h2 = p[5].Length;
        Scratch scratch = pool.Rent();
        try
        {
            PropensityFeatures.UserState user = scratch.User;
            user.Clear();
            long now = state.LatestTicks;
            foreach (ref readonly Interaction e in history)
            {
                if ((uint)e.Item < (uint)items)
                {
                    user.Observe(e);
                    now = Math.Max(now, e.Ticks);
                }
            }

            // x: (items, Width) — user columns repeated, item columns at "now", pair columns "never bought" except for
            // the history's items.
            scratch.Ensure(items, h1, h2);
            Span<float> x = scratch.Input.AsSpan(0, items * Width);
            Span<float> userColumns = stackalloc float[4];
            Span<float> neverPair = stackalloc float[Width - PropensityFeatures.PairStart];
            PropensityFeatures.WriteUser(user.Baskets > 0 ? user : null, now, userColumns);
            PropensityFeatures.WriteNeverPair(neverPair);
            for (int i = 0; i < items; i++)
            {
                Span<float> row = x.Slice(i * Width, Width);
                userColumns.CopyTo(row);
                PropensityFeatures.WriteItem(state.ItemEvents, state.ItemBuyers, state.ItemRecent, state.ItemLast, i, now, row[4..]);
                neverPair.CopyTo(row[PropensityFeatures.PairStart..]);
            }

            foreach (int item in user.ItemList)
            {
                PropensityFeatures.WritePair(user, item, now,
                    x.Slice(item * Width + PropensityFeatures.PairStart, Width - PropensityFeatures.PairStart));
            }

            if (state.ScalerMean.Length != Width)
            {
                // Never trained (too little data): rank by the raw features' obvious order — repeat, then popularity.
                for (int i = 0; i < items; i++)
                {
                    scores[i] = x[i * Width + PropensityFeatures.PairStart] * 100f + x[i * Width + 4];
                }

                return;
            }

            ReadOnlySpan<float> mean = state.ScalerMean, scale = state.ScalerScale;
            for (int start = 0; start < x.Length; start += Width)
            {
                for (int j = 0; j < Width; j++)
                {
                    x[start + j] = (x[start + j] - mean[j]) / scale[j];
                }
            }

            Span<float> a1 = scratch.Hidden1.AsSpan(0, items * h1), b1 = scratch.Hidden2.AsSpan(0, items * h1);
            Span<float> a2 = scratch.Hidden1.AsSpan(0, items * h2), b2 = scratch.Hidden2.AsSpan(0, items * h2);
            Span<float> invStd = scratch.InverseStd;
            Linear.Infer(x, p[0], p[1], items, Width, h1, a1);
            BatchNorm1d.Infer(a1, p[2], p[3], state.Mean0, state.Variance0, state.Epsilon, items, h1, invStd, b1);
            Relu.Infer(b1, b1);
            Linear.Infer(b1, p[4], p[5], items, h1, h2, a2);
            BatchNorm1d.Infer(a2, p[6], p[7], state.Mean1, state.Variance1, state.Epsilon, items, h2, invStd, b2);
            Relu.Infer(b2, b2);
            Linear.Infer(b2, p[8], p[9], items, h2, 1, scores);
        }
        finally
        {
            pool.Return(scratch);
        }
    }

    /// <summary>One call's buffers: a user state, the feature matrix and two hidden-layer buffers.</summary>
    internal sealed class Scratch
    {
        internal PropensityFeatures.UserState User { get; } = new();

        internal float[] Input { get; private set; } = [];

        internal float[] Hidden1 { get; private set; } = [];

        internal float[] Hidden2 { get; private set; } = [];

        internal float[] InverseStd { get; private set; } = [];

        /// <summary>Grows the buffers for <paramref name="items"/> rows of the given hidden widths.</summary>
        internal void Ensure(int items, int hidden1, int hidden2)
        {
            int wide = Math.Max(hidden1, hidden2);
            if (Input.Length < items * Width || Hidden1.Length < items * wide)
            {
                Input = new float[items * Width];
                Hidden1 = new float[items * wide];
                Hidden2 = new float[items * wide];
                InverseStd = new float[wide];
            }
        }
    }
}

namespace LifelongPrefs.Models;

/// <summary>
/// Turns one user's visible history into a feature row for every item: the repeat signal (how often, how
/// recently and how regularly the user bought the item), the explore signal (item-item co-occurrence with the
/// history, global popularity) and user-level context (history length, the user's own repeat ratio).
/// </summary>
/// <remarks>
/// The same code builds training rows and scoring rows, so the model sees identical feature definitions in both.
/// "Now" is the time of the last positive history event: <see cref="IScorer.Score"/> is not told the time of
/// the basket being predicted, so training uses the same reference. Scratch arrays are reused between calls; an
/// instance is not thread-safe, so concurrent scoring takes one per call from a pool (<see cref="RepeatAwareScorer"/>).
/// </remarks>
internal sealed class RepeatAwareFeatures
{
    /// <summary>The number of features per (user, item) row.</summary>
    internal const int Count = 14;

    /// <summary>The first of the user-level columns (they are the same on every row of one call).</summary>
    internal const int UserColumn = 11;

    /// <summary>The number of user-level columns, which feed the repeat/explore gate.</summary>
    internal const int UserColumns = 3;

    /// <summary>Column of the 0/1 "bought before" flag that the gate multiplies.</summary>
    internal const int BoughtColumn = 0;

    private readonly float _decay;
    private int[] _basketCount = [];
    private int[] _lastBasket = [];
    private long[] _firstTicks = [];
    private long[] _lastTicks = [];
    private float[] _decayed = [];
    private float[] _knn = [];
    private int[] _stamp = [];
    private readonly List<int> _bought = [];

    internal RepeatAwareFeatures(float decay) => _decay = decay;

    /// <summary>Gets the distinct items bought in the last <see cref="Compute"/> call's history, in first-purchase order.</summary>
    internal List<int> Bought => _bought;

    /// <summary>Gets the co-occurrence scores of the last <see cref="Compute"/> call (one per item).</summary>
    internal ReadOnlySpan<float> KnnScores => _knn;

    /// <summary>
    /// Fills <paramref name="features"/> (items × <see cref="Count"/>, row-major) for <paramref name="history"/>.
    /// </summary>
    /// <param name="history">The user's visible events, oldest first; non-positive events and unknown items are skipped.</param>
    /// <param name="knn">Scores items by co-occurrence with the history.</param>
    /// <param name="popularity">Positive-event count per item.</param>
    /// <param name="maxPopularity">The largest entry of <paramref name="popularity"/>.</param>
    /// <param name="items">The number of items to describe.</param>
    /// <param name="features">Receives items × <see cref="Count"/> values.</param>
    internal void Compute(ReadOnlySpan<Interaction> history, IScorer knn, ReadOnlySpan<float> popularity, float maxPopularity,
        int items, Span<float> features)
    {
        Ensure(items);
        foreach (int item in _bought)
        {
            _basketCount[item] = 0;
            _lastBasket[item] = -1;
            _decayed[item] = 0f;
        }

        _bought.Clear();

        // Pass 1: basket index per event (a new basket starts when the basket key changes), per-item basket
        // counts, first/last purchase time, and which later-basket items were repeats (the user's repeat ratio).
        int laterItems = 0, laterRepeats = 0;
        long now = 0;
        var counter = default(HistoryViews.BasketCounter);
        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item >= (uint)items || !RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            int b = counter.Next(e) - 1;
            now = Math.Max(now, e.Ticks);
            int item = e.Item;
            if (_lastBasket[item] == b)
            {
                continue; // a second line of the same item in one basket counts once
            }

            if (_lastBasket[item] < 0)
            {
                _bought.Add(item);
                _firstTicks[item] = e.Ticks;
                if (b > 0)
                {
                    laterItems++;
                }
            }
            else
            {
                laterItems++;
                laterRepeats++;
            }

            _lastBasket[item] = b;
            _basketCount[item]++;
            _lastTicks[item] = e.Ticks;
        }

        // Time-decayed frequency (TIFU-KNN's within-user decay, Hu et al. SIGIR 2020): a basket j baskets before
        // the last one contributes decay^j; normalised by the geometric series' limit so it lies in [0, 1].
        float norm = 1f - _decay;

        // Each distinct (basket, item) counts once: _stamp holds the basket index where the item was last counted.
        int baskets = counter.Count;
        counter = default;
        foreach (int item in _bought)
        {
            _decayed[item] = 0f;
            _stamp[item] = -1;
        }

        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item >= (uint)items || !RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            int index = counter.Next(e);
            if (_stamp[e.Item] != index)
            {
                _stamp[e.Item] = index;
                _decayed[e.Item] += norm * MathF.Pow(_decay, baskets - index);
            }
        }

        knn.Score(0, history, _knn.AsSpan(0, items));
        float maxKnn = 0f;
        for (int i = 0; i < items; i++)
        {
            maxKnn = Math.Max(maxKnn, _knn[i]);
        }

        float inverseMaxKnn = maxKnn > 0f ? 1f / maxKnn : 0f;
        float inverseLogMaxPop = maxPopularity > 0f ? 1f / MathF.Log(1f + maxPopularity) : 0f;

        // User-level context: history length, and the share of later-basket items that were repeats (shrunk
        // towards the population's ~0.4 with a pseudo-count of 5 so a two-basket user is not all-or-nothing).
        float userBaskets = MathF.Log(1f + baskets) / 5f;
        float repeatRatio = (laterRepeats + 0.4f * 5f) / (laterItems + 5f);
        float userItems = MathF.Log(1f + _bought.Count) / 7f;

        Span<float> row;
        for (int i = 0; i < items; i++)
        {
            row = features.Slice(i * Count, Count);
            row[..UserColumn].Clear();
            row[8] = _knn[i] * inverseMaxKnn;
            row[9] = MathF.Log(1f + _knn[i]);
            row[10] = MathF.Log(1f + popularity[i]) * inverseLogMaxPop;
            row[11] = userBaskets;
            row[12] = repeatRatio;
            row[13] = userItems;
        }

        foreach (int item in _bought)
        {
            row = features.Slice(item * Count, Count);
            int count = _basketCount[item];
            float daysSince = (float)Timestamps.Days(now - _lastTicks[item]);
            float logSince = MathF.Log(1f + Math.Max(daysSince, 0f));
            row[0] = 1f;
            row[1] = MathF.Log(1f + count);
            row[2] = (float)count / baskets;
            row[3] = logSince;
            row[4] = _decayed[item];
            row[5] = _lastBasket[item] == baskets - 1 ? 1f : 0f;
            if (count >= 2)
            {
                // Inter-purchase time: elapsed since the last purchase against the user's mean gap for this item
                // (positive = "due" to be re-bought).
                float meanGap = (float)(Timestamps.Days(_lastTicks[item] - _firstTicks[item]) / (count - 1));
                row[6] = logSince - MathF.Log(1f + Math.Max(meanGap, 0f));
                row[7] = 1f;
            }
        }
    }

    private void Ensure(int items)
    {
        if (_basketCount.Length >= items)
        {
            return;
        }

        int old = _basketCount.Length;
        Array.Resize(ref _basketCount, items);
        Array.Resize(ref _lastBasket, items);
        Array.Resize(ref _firstTicks, items);
        Array.Resize(ref _lastTicks, items);
        Array.Resize(ref _decayed, items);
        Array.Resize(ref _knn, items);
        Array.Resize(ref _stamp, items);
        _lastBasket.AsSpan(old).Fill(-1);
    }
}

using System.Numerics.Tensors;
using LifelongPrefs.Data;
using LifelongPrefs.Training;

namespace LifelongPrefs.Models;

public sealed partial class RepeatExplore
{
    // Open baskets of the current stream (all committed before Stream returns): per user its key and the newest of
    // its pending lines, chained through the pending arrays.
    private long[] _openKey = [];
    private int[] _openHead = [];
    private int[] _pendingItem = new int[64], _pendingNext = new int[64];
    private long[] _pendingTicks = new long[64];
    private int _pendingCount;
    private readonly List<int> _openUsers = [];

    // One step's scratch, grown with the catalog and the options, reused by every step (no allocation per step).
    private int[] _slotOf = [], _slotStamp = [];
    private int _stamp;
    private int[] _targets = [], _slotItems = [], _targetSlots = [], _negativeSlots = [], _recent = [], _recentBasket = [];
    private bool[] _isTarget = [];
    private float[] _negativeLogWeights = [], _recentInverse = [];
    private CoocRow[] _recentRows = [];
    private float[] _h = [], _gradUser = [], _userCopy = [], _context = [], _rows = [], _gradRows = [], _logits = [];
    private float[] _features = [], _logWeights = [], _labels = [], _gateLogits = [], _gateGrad = new float[F];
    private int[] _candidates = [];

    private void GrowScratch()
    {
        int d = _d, s = _options.Negatives, recent = Math.Max(_options.ContextItems, _options.CooccurrenceItems);
        if (_openKey.Length < _users)
        {
            int old = _openKey.Length;
            Array.Resize(ref _openKey, _users);
            Array.Resize(ref _openHead, _users);
            _openKey.AsSpan(old).Fill(long.MinValue);
            _openHead.AsSpan(old).Fill(-1);
        }

        if (_slotOf.Length < _items)
        {
            Array.Resize(ref _slotOf, _items);
            Array.Resize(ref _slotStamp, _items);
        }

        if (_h.Length == 0)
        {
            (_h, _gradUser, _userCopy) = (new float[d], new float[d], new float[d]);
            (_recent, _recentBasket, _context) = (new int[recent], new int[recent], new float[_options.ContextItems * d]);
            (_recentRows, _recentInverse) = (new CoocRow[recent], new float[recent]);
            (_negativeSlots, _negativeLogWeights) = (new int[s], new float[s]);
        }
    }

    /// <summary>Streams the events: a line whose basket key differs from its user's open basket commits that basket first.</summary>
    private void Stream(IReadOnlyList<Interaction> events, CancellationToken cancellationToken)
    {
        _live = null;
        for (int k = 0; k < events.Count; k++)
        {
            if ((k & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            Interaction e = events[k];
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            int u = e.User;
            long key = e.BasketKey;
            if (_openHead[u] >= 0 && _openKey[u] != key)
            {
                Commit(u);
            }

            if (_openHead[u] < 0)
            {
                _openUsers.Add(u);
                _openKey[u] = key;
            }

            if (_pendingCount == _pendingItem.Length)
            {
                Array.Resize(ref _pendingItem, 2 * _pendingCount);
                Array.Resize(ref _pendingNext, 2 * _pendingCount);
                Array.Resize(ref _pendingTicks, 2 * _pendingCount);
            }

            (_pendingItem[_pendingCount], _pendingNext[_pendingCount], _pendingTicks[_pendingCount]) = (e.Item, _openHead[u], e.Ticks);
            _openHead[u] = _pendingCount++;
        }

        foreach (int u in _openUsers)
        {
            if (_openHead[u] >= 0)
            {
                Commit(u);
            }
        }

        _openUsers.Clear();
        _pendingCount = 0;
    }

    /// <summary>Learns user <paramref name="u"/>'s open basket once, then adds it to the user's statistics and the counts.</summary>
    private void Commit(int u)
    {
        // The pending chain is newest first: collect the distinct items oldest first.
        int n = 0;
        long ticks = long.MinValue;
        for (int p = _openHead[u]; p >= 0; p = _pendingNext[p])
        {
            n++;
            ticks = Math.Max(ticks, _pendingTicks[p]);
        }

        if (_targets.Length < n)
        {
            _targets = new int[Math.Max(n, 2 * _targets.Length)];
        }

        int at = n;
        for (int p = _openHead[u]; p >= 0; p = _pendingNext[p])
        {
            _targets[--at] = _pendingItem[p];
        }

        int distinct = 0;
        NextStamp();
        for (int j = 0; j < n; j++)
        {
            int item = _targets[j];
            if (_slotStamp[item] != _stamp)
            {
                _slotStamp[item] = _stamp;
                _targets[distinct++] = item;
            }
        }

        long key = _openKey[u];
        (_openHead[u], _openKey[u]) = (-1, long.MinValue);
        Learn(u, _targets.AsSpan(0, distinct));
        Record(u, _targets.AsSpan(0, distinct), ticks, key);
    }

    private void NextStamp()
    {
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_slotStamp);
            _stamp = 1;
        }
    }

    /// <summary>Adds a learned basket to the user's statistics, the co-occurrence counts and the popularity.</summary>
    private void Record(int u, ReadOnlySpan<int> items, long ticks, long key)
    {
        ref BasketLedger.User user = ref _baskets.UserAt(u);
        if (key != user.LastKey)
        {
            user.Baskets++;
        }

        int b = user.Baskets - 1;
        foreach (int item in items)
        {
            int e = _baskets.Find(u, item);
            if (e < 0)
            {
                e = _baskets.Add(u, item);
                if (b > 0)
                {
                    user.LaterItems++;
                }

                // A new (user, item) pair co-occurs once more with each of the user's other items (ItemKNN's counts).
                for (int other = _baskets.Next(e); other >= 0; other = _baskets.Next(other))
                {
                    _cooccurrence.Increment(item, _baskets.Item(other));
                }

                Span<float> info = _itemInfo.Row(item);
                info[ItemInfo.Users]++;
                info[ItemInfo.Popularity] = RepeatExploreMath.Popularity(info[ItemInfo.Users]);
                info[ItemInfo.InverseSqrtUsers] = 1f / MathF.Sqrt(info[ItemInfo.Users]);
            }
            else if (_baskets.Stat(e).LastBasket != b)
            {
                user.LaterItems++;
                user.LaterRepeats++;
                _itemInfo.Row(item)[ItemInfo.Repeats]++;
            }

            if (_baskets.Stat(e).LastBasket != b || _baskets.Stat(e).Count == 0)
            {
                Span<float> row = _itemInfo.Row(item);
                row[ItemInfo.Lines]++;
                row[ItemInfo.LogTrend] = RepeatExploreMath.AddTrend(row[ItemInfo.LogTrend], ticks);
                row[ItemInfo.RepeatShare] = RepeatExploreMath.ItemRepeat(row[ItemInfo.Repeats], row[ItemInfo.Lines]);
            }

            _baskets.Stat(e).Add(b, ticks, _options.Decay);
            _sampler.Add(item);
        }

        user.First = user.Baskets == 1 && key != user.LastKey ? ticks : user.First;
        user.LastKey = key;
        user.Now = Math.Max(user.Now, ticks);
        _latest = Math.Max(_latest, ticks);
    }

    /// <summary>
    /// Selects the user's most recent distinct items (latest basket first, ties by the higher item index) into
    /// <c>_recent</c>; returns how many (at most its length).
    /// </summary>
    private int SelectRecent(int u)
    {
        int n = 0, cap = _recent.Length;
        for (int e = _baskets.UserAt(u).Head; e >= 0; e = _baskets.Next(e))
        {
            int item = _baskets.Item(e), basket = _baskets.Stat(e).LastBasket;
            n = RecentItems.Insert(_recent, _recentBasket, n, cap, item, basket);
        }

        return n;
    }

    /// <summary>One online step on a basket: the gate's softmax, then the embedding model's sampled softmax.</summary>
    private void Learn(int u, ReadOnlySpan<int> targets)
    {
        if (targets.IsEmpty)
        {
            return;
        }

        int d = _d, w = d + 1, s = _options.Negatives;
        int recent = SelectRecent(u);
        int contextCount = Math.Min(recent, _options.ContextItems), cooccurrenceCount = Math.Min(recent, _options.CooccurrenceItems);
        _userRows.Read(u).CopyTo(_userCopy);
        for (int j = 0; j < contextCount; j++)
        {
            _inputRows.Read(_recent[j]).CopyTo(_context.AsSpan(j * d, d));
        }

        RepeatExploreMath.UserVector(_h, _userCopy, _context, contextCount, d);

        // Slots: the targets first, then the sampled negatives (a repeated item shares its slot).
        int slots = 0;
        NextStamp();
        EnsureSlots(targets.Length + s);
        foreach (int t in targets)
        {
            _targetSlots[slots] = slots;
            slots = Slot(t, slots, isTarget: true);
        }

        for (int k = 0; k < s; k++)
        {
            int item = _sampler.Sample(_random, _items);
            _negativeLogWeights[k] = _sampler.LogWeight(item, s, _items);
            int before = slots;
            slots = Slot(item, slots, isTarget: false);
            _negativeSlots[k] = slots > before ? before : _slotOf[item];
        }

        _steps++;
        GateStep(u, targets, cooccurrenceCount);
        for (int r = 0; r < slots; r++)
        {
            _outputRows.Read(_slotItems[r]).CopyTo(_rows.AsSpan(r * w, w));
        }

        RepeatExploreMath.ExploreLoss(_gradUser, _gradRows, _h, _logits, _userCopy, _context, contextCount,
            _rows.AsSpan(0, slots * w), _targetSlots.AsSpan(0, targets.Length), _negativeSlots.AsSpan(0, s), _negativeLogWeights, _isTarget, d);
        ApplyEmbedding(u, slots, contextCount);
    }

    private int Slot(int item, int slots, bool isTarget)
    {
        if (_slotStamp[item] == _stamp)
        {
            return slots;
        }

        (_slotStamp[item], _slotOf[item], _slotItems[slots], _isTarget[slots]) = (_stamp, slots, item, isTarget);
        return slots + 1;
    }

    private void EnsureSlots(int slots)
    {
        if (_slotItems.Length >= slots)
        {
            return;
        }

        int n = Math.Max(slots, 2 * _slotItems.Length), w = _d + 1;
        (_slotItems, _targetSlots, _isTarget) = (new int[n], new int[n], new bool[n]);
        (_rows, _gradRows, _logits) = (new float[n * w], new float[n * w], new float[n]);
    }

    /// <summary>Lazy Adam on the rows the embedding step touched: output rows (with bias), the user row, the context rows.</summary>
    private void ApplyEmbedding(int u, int slots, int contextCount)
    {
        int d = _d, w = d + 1;
        (float stepSize, float inverse) = Adam.BiasCorrectedScales(_options.LearningRate, Beta1, Beta2, _steps);
        for (int r = 0; r < slots; r++)
        {
            int item = _slotItems[r];
            AdamRow(_outputRows.Row(item), _gradRows.AsSpan(r * w, w), _outputM.AsSpan(item * w, w), _outputV.AsSpan(item * w, w), stepSize, inverse);
        }

        AdamRow(_userRows.Row(u), _gradUser, _userM.AsSpan(u * d, d), _userV.AsSpan(u * d, d), stepSize, inverse);
        if (contextCount > 0)
        {
            // Each context row's gradient is du / n (the mean's share).
            TensorPrimitives.Multiply(_gradUser, 1f / contextCount, _gradUser);
            for (int j = 0; j < contextCount; j++)
            {
                int item = _recent[j];
                AdamRow(_inputRows.Row(item), _gradUser, _inputM.AsSpan(item * d, d), _inputV.AsSpan(item * d, d), stepSize, inverse);
            }
        }
    }

    private static void AdamRow(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, float stepSize, float inverse) =>
        OptimizerMath.Adam(value, gradient, m, v, Beta1, Beta2, Epsilon, stepSize, inverse, 0f, 1f);

    /// <summary>
    /// The gate's step: candidates are the targets (weight 1), the user's other earlier items (all, or a uniform sample
    /// of <see cref="RepeatExploreOptions.OwnCandidates"/> standing for the rest) and the basket's negatives that are
    /// neither (each standing for items / negatives catalog items).
    /// </summary>
    private void GateStep(int u, ReadOnlySpan<int> targets, int cooccurrenceCount)
    {
        int own = _options.OwnCandidates, s = _options.Negatives;
        EnsureCandidates(targets.Length + own + s);
        int c = 0;
        foreach (int t in targets)
        {
            _candidates[c] = t;
            (_labels[c], _logWeights[c]) = (1f / targets.Length, 0f);
            c++;
        }

        // The user's earlier items outside the basket: reservoir-sample `own` of them (all when there are fewer).
        int seen = 0, first = c;
        for (int e = _baskets.UserAt(u).Head; e >= 0; e = _baskets.Next(e))
        {
            int item = _baskets.Item(e);
            if (_slotStamp[item] == _stamp && _isTarget[_slotOf[item]])
            {
                continue;
            }

            seen++;
            if (seen <= own)
            {
                _candidates[c++] = item;
            }
            else
            {
                int k = _random.Next(seen);
                if (k < own)
                {
                    _candidates[first + k] = item;
                }
            }
        }

        float ownWeight = c > first ? MathF.Log((float)seen / (c - first)) : 0f;
        for (int j = first; j < c; j++)
        {
            (_labels[j], _logWeights[j]) = (0f, ownWeight);
        }

        for (int k = 0; k < s; k++)
        {
            int item = _slotItems[_negativeSlots[k]];
            if (!_isTarget[_negativeSlots[k]] && _baskets.Find(u, item) < 0)
            {
                _candidates[c] = item;
                (_labels[c], _logWeights[c]) = (0f, _negativeLogWeights[k]);
                c++;
            }
        }

        // The recent items' rows and weights, read once per basket rather than once per candidate.
        for (int j = 0; j < cooccurrenceCount; j++)
        {
            _recentRows[j] = _cooccurrence.Row(_recent[j]);
            _recentInverse[j] = _itemInfo.Read(_recent[j])[ItemInfo.InverseSqrtUsers];
        }

        UserSummary summary = _baskets.Summary(u);
        double nowOverTau = Math.Max(_latest, summary.Now) / RepeatExploreMath.TrendTicks;
        for (int j = 0; j < c; j++)
        {
            int item = _candidates[j];
            int e = _baskets.Find(u, item);
            ItemStat stat = e >= 0 ? _baskets.Stat(e) : default;
            RepeatExploreMath.Fill(_features.AsSpan(j * F, F), e >= 0, stat, summary, ExploreScore(item), CooccurrenceScore(item, cooccurrenceCount),
                _itemInfo.Read(item)[ItemInfo.Popularity], _itemInfo.Read(item)[ItemInfo.RepeatShare], RepeatExploreMath.Trend(_itemInfo.Read(item)[ItemInfo.LogTrend], nowOverTau), _options.Decay);
        }

        RepeatExploreMath.GateLoss(_gateGrad, _gateLogits, _features.AsSpan(0, c * F), _logWeights.AsSpan(0, c), _labels.AsSpan(0, c), _gate);
        (float stepSize, float inverse) = Adam.BiasCorrectedScales(_options.GateLearningRate, Beta1, Beta2, _steps);
        AdamRow(_gate, _gateGrad, _gateM, _gateV, stepSize, inverse);
    }

    private float ExploreScore(int item)
    {
        ReadOnlySpan<float> row = _outputRows.Read(item);
        return TensorPrimitives.Dot(row[.._d], _h) + row[_d];
    }

    /// <summary>
    /// The cosine co-occurrence of <paramref name="item"/> with the user's <paramref name="count"/> most recent items
    /// (their rows and weights gathered by <see cref="GateStep"/>).
    /// </summary>
    private float CooccurrenceScore(int item, int count)
    {
        float inverse = _itemInfo.Read(item)[ItemInfo.InverseSqrtUsers];
        if (inverse == 0f)
        {
            return 0f;
        }

        float sum = 0f;
        for (int j = 0; j < count; j++)
        {
            if (_recent[j] != item)
            {
                sum += CoocRow.Find(_recentRows[j], item) * _recentInverse[j];
            }
        }

        return sum * inverse;
    }

    private void EnsureCandidates(int n)
    {
        if (_candidates.Length >= n)
        {
            return;
        }

        n = Math.Max(n, 2 * _candidates.Length);
        (_candidates, _labels, _logWeights, _gateLogits, _features) = (new int[n], new float[n], new float[n], new float[n], new float[n * F]);
    }

    /// <summary>One logistic step per queued negative: pushes the pair's exploration score towards "not bought".</summary>
    private void ApplyNegatives()
    {
        int d = _d, w = d + 1;
        foreach ((int u, int item) in _negatives)
        {
            if (u >= _users || item >= _items)
            {
                continue;
            }

            int recent = SelectRecent(u), contextCount = Math.Min(recent, _options.ContextItems);
            _userRows.Read(u).CopyTo(_userCopy);
            for (int j = 0; j < contextCount; j++)
            {
                _inputRows.Read(_recent[j]).CopyTo(_context.AsSpan(j * d, d));
            }

            RepeatExploreMath.UserVector(_h, _userCopy, _context, contextCount, d);
            EnsureSlots(1);
            _outputRows.Read(item).CopyTo(_rows.AsSpan(0, w));

            // Binary cross-entropy with label 0: dz = σ(z); do = dz·[h, 1]; dh = dz·o.
            float z = TensorPrimitives.Dot(_rows.AsSpan(0, d), _h) + _rows[d];
            float dz = 1f / (1f + MathF.Exp(-z));
            TensorPrimitives.Multiply(_h, dz, _gradRows.AsSpan(0, d));
            _gradRows[d] = dz;
            TensorPrimitives.Multiply(_rows.AsSpan(0, d), dz, _gradUser);
            _slotItems[0] = item;
            _steps++;
            ApplyEmbedding(u, 1, contextCount);
        }

        _negatives.Clear();
    }
}

/// <summary>The "most recent distinct items" rule shared by the online step and the scorer.</summary>
internal static class RecentItems
{
    /// <summary>
    /// Inserts (item, basket) into the first <paramref name="n"/> entries of the parallel arrays, kept ordered by basket
    /// descending then item descending and cut at <paramref name="cap"/>; returns the new count.
    /// </summary>
    internal static int Insert(Span<int> items, Span<int> baskets, int n, int cap, int item, int basket)
    {
        if (cap == 0 || (n == cap && !Before(basket, item, baskets[n - 1], items[n - 1])))
        {
            return n;
        }

        int at = n == cap ? n - 1 : n;
        while (at > 0 && Before(basket, item, baskets[at - 1], items[at - 1]))
        {
            (items[at], baskets[at]) = (items[at - 1], baskets[at - 1]);
            at--;
        }

        (items[at], baskets[at]) = (item, basket);
        return Math.Min(n + 1, cap);
    }

    private static bool Before(int basket, int item, int otherBasket, int otherItem) =>
        basket > otherBasket || (basket == otherBasket && item > otherItem);
}

using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>The online steps on one basket: the gate's softmax over its candidates, then the embedding model's sampled softmax with lazy Adam rows.</summary>
public sealed partial class RepeatExplore : IDriftReactiveLearner
{
    /// <summary>η of a dismissal's normalised step (<see cref="ApplyNegatives"/>): the logit drops by about η·σ(z).</summary>
    internal const float DismissalStep = 1f;

    private float _learningRateScale = 1f;   // the drift monitor's multiplier of both learning rates (1: steps unchanged, bit for bit)

    /// <inheritdoc/>
    float IDriftReactiveLearner.LearningRateScale
    {
        get => _learningRateScale;
        set => _learningRateScale = value;
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
        // The context rows, their Adam moments and the user's are random rows of large tables (see the slots below).
        Kernels.Prefetch<float>(_userM.AsSpan(u * d, d));
        Kernels.Prefetch<float>(_userV.AsSpan(u * d, d));
        for (int j = 0; j < contextCount; j++)
        {
            int item = _recent[j];
            Kernels.Prefetch(_inputRows.Read(item));
            Kernels.Prefetch<float>(_inputM.AsSpan(item * d, d));
            Kernels.Prefetch<float>(_inputV.AsSpan(item * d, d));
        }

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

        if (_drawLeft == 0)
        {
            DrawNegatives(s);
        }

        _drawLeft--;
        for (int k = 0; k < s; k++)
        {
            int item = _drawnNegatives[k];
            int before = slots;
            slots = Slot(item, slots, isTarget: false);
            _negativeSlots[k] = slots > before ? before : _slotOf[item];
        }

        // The slots are random rows of tables far larger than the caches: ask for every line this step will read or
        // write (the output row, its Adam moments, the item's statistics) before the first is used, so the misses overlap.
        for (int r = 0; r < slots; r++)
        {
            int item = _slotItems[r];
            Kernels.Prefetch(_outputRows.Read(item));
            Kernels.Prefetch(_itemInfo.Read(item));
            Kernels.Prefetch<float>(_outputM.AsSpan(item * w, w));
            Kernels.Prefetch<float>(_outputV.AsSpan(item * w, w));
        }

        // The slots' rows and exploration logits, once: the gate's explore feature of a slot's item is the same logit
        // (the gate step writes only its own weights, so the rows are those ExploreLoss reads).
        for (int r = 0; r < slots; r++)
        {
            _outputRows.Read(_slotItems[r]).CopyTo(_rows.AsSpan(r * w, w));
        }

        RepeatExploreMath.ExploreLogits(_logits, _rows.AsSpan(0, slots * w), _h, d);
        _steps++;
        GateStep(u, targets, cooccurrenceCount);
        RepeatExploreMath.LogitGradients(_dz, _logits.AsSpan(0, slots), _targetSlots.AsSpan(0, targets.Length), _negativeSlots.AsSpan(0, s),
            _negativeLogWeights, _isTarget);
        RepeatExploreMath.UserGradient(_gradUser, _dz, _rows.AsSpan(0, slots * w), d);
        ApplyEmbedding(u, slots, contextCount);
    }

    /// <summary>Draws the negatives (and their log-Q weights) the next <see cref="RepeatExploreOptions.NegativeReuse"/> baskets share.</summary>
    private void DrawNegatives(int s)
    {
        _sampler.SampleInto(_random, _items, _drawnNegatives.AsSpan(0, s), _negativeLogWeights.AsSpan(0, s));
        _drawLeft = _options.NegativeReuse;
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
        (_rows, _dz, _logits) = (new float[n * w], new float[n], new float[n]);
    }

    /// <summary>
    /// Lazy Adam on the rows the embedding step touched: output rows (with bias; each row's gradient <c>dz·[h; 1]</c> is
    /// formed as it is applied), the user row, the context rows.
    /// </summary>
    private void ApplyEmbedding(int u, int slots, int contextCount)
    {
        int d = _d, w = d + 1;
        (float stepSize, float inverse) = Adam.BiasCorrectedScales(_options.LearningRate * _learningRateScale, Beta1, Beta2, _steps);
        for (int r = 0; r < slots; r++)
        {
            int item = _slotItems[r];
            OptimizerMath.AdamLogitRow(_outputRows.Row(item), _h, _dz[r], _outputM.AsSpan(item * w, w), _outputV.AsSpan(item * w, w),
                Beta1, Beta2, Epsilon, stepSize, inverse);
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
            (_entryStamp[item], _entryOf[item]) = (_stamp, e);
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
            if (!_isTarget[_negativeSlots[k]] && EntryOf(item) < 0)
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
            int e = EntryOf(item);
            ItemStat stat = e >= 0 ? _baskets.Stat(e) : default;
            ReadOnlySpan<float> info = _itemInfo.Read(item);
            RepeatExploreMath.Fill(_features.AsSpan(j * F, F), e >= 0, stat, summary, ExploreScore(item),
                CooccurrenceScore(item, info[ItemInfo.InverseSqrtUsers], cooccurrenceCount),
                info[ItemInfo.Popularity], info[ItemInfo.RepeatShare], RepeatExploreMath.Trend(info[ItemInfo.LogTrend], nowOverTau), _options.Decay);
        }

        RepeatExploreMath.GateLoss(_gateGrad, _gateLogits, _features.AsSpan(0, c * F), _logWeights.AsSpan(0, c), _labels.AsSpan(0, c), _gate);
        (float stepSize, float inverse) = Adam.BiasCorrectedScales(_options.GateLearningRate * _learningRateScale, Beta1, Beta2, _steps);
        AdamRow(_gate, _gateGrad, _gateM, _gateV, stepSize, inverse);
    }

    /// <summary>Gets the user's ledger entry of <paramref name="item"/>, or −1: <c>_baskets.Find(u, item)</c> for the step's user, from the index the step built.</summary>
    private int EntryOf(int item) => _entryStamp[item] == _stamp ? _entryOf[item] : -1;

    private float ExploreScore(int item)
    {
        if (_slotStamp[item] == _stamp)
        {
            return _logits[_slotOf[item]];
        }

        ReadOnlySpan<float> row = _outputRows.Read(item);
        return TensorPrimitives.Dot(row[.._d], _h) + row[_d];
    }

    /// <summary>
    /// The cosine co-occurrence of <paramref name="item"/> with the user's <paramref name="count"/> most recent items
    /// (their rows and weights gathered by <see cref="GateStep"/>; <paramref name="inverse"/> is the item's 1/√users).
    /// </summary>
    private float CooccurrenceScore(int item, float inverse, int count)
    {
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

    /// <summary>
    /// One normalised logistic step per queued negative (label 0), outside Adam: it lowers the pair's exploration logit
    /// by about <see cref="DismissalStep"/> times its probability, whatever the optimiser's moments hold.
    /// </summary>
    /// <remarks>
    /// An Adam step on a single new gradient moves mostly along the row's momentum (β₁ = 0.9 of it), so after a row had
    /// been pushed up by earlier purchases one dismissal step could raise the score it was meant to lower. Here every
    /// touched parameter θ moves by −a·∂L/∂θ with a = η / D, where L = −log(1 − σ(z)), z = o·h + b,
    /// h = u + (1/n)·Σ context rows, and D = ‖h‖² + 1 + c·‖o‖² with c = 1 + 1/n (c = 1 without context) is the squared
    /// norm of ∂z/∂θ over the output row, the bias, the user row and the n context rows. To first order z drops by
    /// η·σ(z); the second-order term a²σ²c·(h·o) is at most (√c/2)·(ησ)² in size because D ≥ 2√c·‖h‖·‖o‖ + 1, so for
    /// η = 1 and c ≤ 2 the logit always drops. The moments and the step count stay as they are.
    /// </remarks>
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
            Span<float> o = _rows.AsSpan(0, w);
            _outputRows.Read(item).CopyTo(o);
            float z = TensorPrimitives.Dot(o[..d], _h) + o[d];
            float p = 1f / (1f + MathF.Exp(-z));
            float c = contextCount > 0 ? 1f + (1f / contextCount) : 1f;
            float norm = TensorPrimitives.Dot(_h, _h) + 1f + (c * TensorPrimitives.Dot(o[..d], o[..d]));
            float a = DismissalStep * p / norm;

            Span<float> output = _outputRows.Row(item);
            TensorPrimitives.MultiplyAdd(_h, -a, output[..d], output[..d]);
            output[d] -= a;
            Span<float> user = _userRows.Row(u);
            TensorPrimitives.MultiplyAdd(o[..d], -a, user[..d], user[..d]);
            if (contextCount > 0)
            {
                float share = -a / contextCount;
                for (int j = 0; j < contextCount; j++)
                {
                    Span<float> input = _inputRows.Row(_recent[j]);
                    TensorPrimitives.MultiplyAdd(o[..d], share, input[..d], input[..d]);
                }
            }
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

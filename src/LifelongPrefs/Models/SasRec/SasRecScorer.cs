namespace LifelongPrefs.Models;

/// <summary>
/// The scoring of <see cref="SasRec"/>: flatten the history as the training sequences are, encode the last n items
/// with the inference twins (lookup, √d scaling, positions, the blocks, the final norm) and dot the last position
/// with every item embedding. One instance is either the model's live view (parameters read at each call) or an
/// immutable snapshot (a frozen copy); both draw per-call scratch from their own pool.
/// </summary>
internal sealed class SasRecScorer : FrozenScorer
{
    private readonly Func<ParameterValues> _parameters;  // items, positions, blocks.k.* (12 each), norm.scale, norm.shift
    private readonly Func<int> _itemCount;
    private readonly int _dimensions, _blocks, _heads, _maxLength;
    private readonly ScratchPool<Scratch> _pool;

    /// <summary>Creates a scorer reading its parameters (in the network's registration order) from <paramref name="parameters"/>.</summary>
    internal SasRecScorer(Func<ParameterValues> parameters, Func<int> itemCount, SasRecOptions options)
    {
        (_parameters, _itemCount) = (parameters, itemCount);
        (_dimensions, _blocks, _heads, _maxLength) = (options.Dimensions, options.Blocks, options.Heads, options.MaxLength);
        int t = _maxLength, d = _dimensions, heads = _heads;
        _pool = new ScratchPool<Scratch>(() => new Scratch(t, d, TransformerBlock.InferScratchLength(1, t, d, heads, d)));
    }

    /// <inheritdoc/>
    public override int ItemCount => _itemCount();

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int items = _itemCount();
        RecommenderGuard.Scoring(history, scores, items);
        if (items == 0)
        {
            return;
        }

        Scratch scratch = _pool.Rent();
        try
        {
            int t = _maxLength, d = _dimensions;
            int used = scratch.Flatten(history, items);
            Span<int> ids = scratch.Ids;
            Span<float> mask = scratch.Mask;
            ids.Clear();
            mask.Clear();
            for (int j = 0; j < used; j++)
            {
                ids[t - used + j] = scratch.Recent(used - j) + 1;
                mask[t - used + j] = 1f;
            }

            ParameterValues p = _parameters();
            Span<float> x = scratch.X, y = scratch.Y;

            // x = (√d · E[ids] + P) ⊙ mask; the embedding dropout is the identity at inference.
            Embedding.Infer(p[0], d, ids, 0, y);
            Kernels.Scale(y, MathF.Sqrt(d), x);
            PositionalEmbedding.Infer(x, mask, p[1], 1, t, d, y);
            for (int b = 0; b < _blocks; b++)
            {
                TransformerBlock.Infer(y, mask, p.Skip(2 + (b * TransformerBlock.ParameterCount)), 1, t, d, _heads, scratch.Work, x);
                Span<float> swap = x;
                x = y;
                y = swap;
            }

            // h = LayerNorm(y); the last position's state scores every item against the shared table E[1..].
            LayerNorm.Infer(y, p[p.Count - 2], p[p.Count - 1], LayerNorm.DefaultEpsilon, t, d, scratch.Work, x);
            Kernels.ScoreAll(p[0].Slice(d, items * d), x.Slice((t - 1) * d, d), scores);
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    /// <summary>One call's buffers: the flattened history's last n items, the window, activations and block scratch.</summary>
    private sealed class Scratch(int steps, int dimensions, int work)
    {
        private readonly int[] _recent = new int[steps];   // ring buffer of the latest flattened items
        private int[] _stamp = [];                          // the basket generation that last added each item
        private int _generation;

        internal int[] Ids { get; } = new int[steps];

        internal float[] Mask { get; } = new float[steps];

        internal float[] X { get; } = new float[steps * dimensions];

        internal float[] Y { get; } = new float[steps * dimensions];

        internal float[] Work { get; } = new float[Math.Max(work, 2 * steps)];

        /// <summary>The item <paramref name="back"/> positions from the end of the last flattened history (1 = latest).</summary>
        internal int Recent(int back) => _recent[(_count - back) % _recent.Length];

        private long _count;

        /// <summary>
        /// Flattens the positive events of <paramref name="history"/> like the training sequences (distinct items per
        /// basket, first occurrence first, baskets in order), keeping the last n; returns how many are kept.
        /// </summary>
        internal int Flatten(ReadOnlySpan<Interaction> history, int items)
        {
            if (_stamp.Length < items)
            {
                Array.Resize(ref _stamp, items);
            }

            _count = 0;
            long lastKey = long.MinValue;
            bool first = true;
            foreach (ref readonly Interaction e in history)
            {
                if (!RecommenderGuard.IsPositive(e) || (uint)e.Item >= (uint)items)
                {
                    continue;
                }

                long key = e.BasketKey;
                if (first || key != lastKey)
                {
                    NextBasket();
                    lastKey = key;
                    first = false;
                }

                if (_stamp[e.Item] != _generation)
                {
                    _stamp[e.Item] = _generation;
                    _recent[_count % _recent.Length] = e.Item;
                    _count++;
                }
            }

            return (int)Math.Min(_count, _recent.Length);
        }

        /// <summary>Starts a new basket: items stamped with an older generation are not in it.</summary>
        private void NextBasket()
        {
            if (_generation == int.MaxValue)
            {
                Array.Clear(_stamp);
                _generation = 0;
            }

            _generation++;
        }
    }
}

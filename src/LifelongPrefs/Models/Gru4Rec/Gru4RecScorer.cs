namespace LifelongPrefs.Models;

/// <summary>
/// The scoring of <see cref="Gru4Rec"/>: embed the last T items of the history, run the GRU's inference twin, score
/// the catalog with the last state. One instance is either the model's live view (its parameters read at each call)
/// or an immutable snapshot (a frozen copy); both draw per-call scratch from their own pool.
/// </summary>
internal sealed class Gru4RecScorer : FrozenScorer
{
    private readonly ParameterValues _parameters;   // embedding, W_ih, W_hh, b_ih, b_hh, [output table], output bias
    private readonly Func<int> _itemCount;
    private readonly int _dimensions, _hidden, _maxLength;
    private readonly bool _tied;
    private readonly ScratchPool<Scratch> _pool;

    /// <summary>Creates a scorer over <paramref name="parameters"/> (in the model's parameter order).</summary>
    internal Gru4RecScorer(ParameterValues parameters, Func<int> itemCount, int dimensions, int hidden, int maxLength, bool tied)
    {
        (_parameters, _itemCount, _dimensions, _hidden, _maxLength, _tied) = (parameters, itemCount, dimensions, hidden, maxLength, tied);
        _pool = new ScratchPool<Scratch>(() => new Scratch(maxLength, dimensions, hidden));
    }

    /// <inheritdoc/>
    public override int ItemCount => _itemCount();

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int items = _itemCount();
        RecommenderGuard.Scoring(history, scores, items);
        if (scores.IsEmpty)
        {
            return;
        }

        Scratch scratch = _pool.Rent();
        try
        {
            // Left-pad the last T distinct-consecutive positive items of the history, walking it backwards.
            int t = _maxLength, d = _dimensions, h = _hidden, filled = 0, next = -1;
            Span<int> ids = scratch.Ids;
            Span<float> mask = scratch.Mask;
            ids.Clear();
            mask.Clear();
            for (int k = history.Length - 1; k >= 0 && filled < t; k--)
            {
                ref readonly Interaction e = ref history[k];
                if ((uint)e.Item >= (uint)items || !RecommenderGuard.IsPositive(e) || e.Item == next)
                {
                    continue;
                }

                next = e.Item;
                filled++;
                ids[t - filled] = e.Item + 1;
                mask[t - filled] = 1f;
            }

            // x: (1,T,D) → states: (1,T,H); a padded step carries the state, so the last row is the state after the last item.
            ReadOnlySpan<float> embedding = _parameters[0];
            Embedding.Infer(embedding, d, ids, 0, scratch.Embedded);
            Gru.Infer(scratch.Embedded, mask, _parameters[1], _parameters[2], _parameters[3], _parameters[4], 1, t, d, h,
                scratch.Work, scratch.States);
            ReadOnlySpan<float> query = scratch.States.AsSpan((t - 1) * h, h);
            ReadOnlySpan<float> output = _tied ? embedding.Slice(d, items * d) : _parameters[5];
            Kernels.ScoreAll(output, query, scores);
            Kernels.Add(scores, _parameters[_parameters.Count - 1], scores);
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    /// <summary>One call's buffers: a window of ids and mask, its embeddings, the GRU's intermediates and states.</summary>
    private sealed class Scratch(int steps, int dimensions, int hidden)
    {
        internal int[] Ids { get; } = new int[steps];

        internal float[] Mask { get; } = new float[steps];

        internal float[] Embedded { get; } = new float[steps * dimensions];

        internal float[] Work { get; } = new float[Gru.InferScratchLength(1, steps, hidden)];

        internal float[] States { get; } = new float[steps * hidden];
    }
}

using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>The explanation of one score, and the full-feature-row score it is balanced against.</summary>
internal sealed partial class RepeatExploreScorer
{

    /// <inheritdoc/>
    /// <remarks>
    /// The score is <c>Σ_k w_k f_k</c>. Attributed to history events: the explore score's context part
    /// (<c>w_explore · c_j·o_i / n</c> for each of the n context items, to its latest event), the co-occurrence term
    /// split over the recent items in proportion to their share of the co-occurrence score (exact, since the shares sum
    /// to one), and for an item bought before its repeat terms, spread evenly over its own past events. The remainder
    /// holds the user row's and the bias's part of the explore score and the popularity term. The sum equals the score
    /// up to float rounding.
    /// </remarks>
    public float Explain(int user, ReadOnlySpan<Interaction> history, int item, Span<float> contributions)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)_items, nameof(item));
        if (contributions.Length != history.Length)
        {
            throw new ArgumentException($"'{nameof(contributions)}' has length {contributions.Length}, not the history's {history.Length}.", nameof(contributions));
        }

        RecommenderGuard.Scoring(history, Span<float>.Empty, 0);
        contributions.Clear();
        Scratch scratch = _pool.Rent();
        try
        {
            UserSummary summary = Parse(scratch, history);
            Vector(scratch, user);
            bool bought = scratch.Stats[item].Count > 0;
            ReadOnlySpan<float> output = _outputs.Row(item);
            int context = Math.Min(scratch.RecentCount, _contextItems), cooc = Math.Min(scratch.RecentCount, _cooccurrenceItems);
            float exploreWeight = _gate[RepeatExploreMath.ExploreColumn] + (bought ? _gate[11] : 0f);
            float coocWeight = _gate[RepeatExploreMath.CooccurrenceColumn] + (bought ? _gate[12] : 0f);
            float explained = 0f;

            // Context part of the explore score.
            for (int j = 0; j < context; j++)
            {
                int other = scratch.Recent[j];
                float part = exploreWeight * TensorPrimitives.Dot(_inputs.Row(other), output[.._d]) / context;
                contributions[LastEvent(history, other)] += part;
                explained += part;
            }

            // Co-occurrence term, split by each recent item's share of the sum.
            float inverse = _info.Row(item)[RepeatExplore.ItemInfo.InverseSqrtUsers], total = 0f;
            Span<float> shares = stackalloc float[cooc];
            for (int j = 0; j < cooc; j++)
            {
                int other = scratch.Recent[j];
                shares[j] = other == item ? 0f : _cooccurrence.Get(other, item) * _info.Row(other)[RepeatExplore.ItemInfo.InverseSqrtUsers] * inverse;
                total += shares[j];
            }

            if (total > 0f)
            {
                float term = coocWeight * MathF.Log(1f + total);
                for (int j = 0; j < cooc; j++)
                {
                    float part = term * shares[j] / total;
                    contributions[LastEvent(history, scratch.Recent[j])] += part;
                    explained += part;
                }
            }

            // The repeat terms, spread over the item's own past events.
            Span<float> f = stackalloc float[F];
            RepeatExploreMath.Fill(f, bought, scratch.Stats[item], summary, 0f, 0f, 0f, RepeatShare(item), 0f, _decay);
            float repeat = RepeatExploreMath.Logit(_gate, f);
            if (bought)
            {
                int events = 0;
                foreach (ref readonly Interaction e in history)
                {
                    events += e.Item == item && RecommenderGuard.IsPositive(e) ? 1 : 0;
                }

                for (int k = 0; k < history.Length; k++)
                {
                    if (history[k].Item == item && RecommenderGuard.IsPositive(history[k]))
                    {
                        contributions[k] += repeat / events;
                    }
                }

                explained += repeat;
            }

            float full = Full(scratch, summary, item);
            return full - explained;
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    /// <summary>Item <paramref name="item"/>'s score through the full feature row, alone (the oracle of the scoring tests).</summary>
    internal float FullScore(int user, ReadOnlySpan<Interaction> history, int item)
    {
        Scratch scratch = _pool.Rent();
        try
        {
            UserSummary summary = Parse(scratch, history);
            Vector(scratch, user);
            return Full(scratch, summary, item);
        }
        finally
        {
            _pool.Return(scratch);
        }
    }

    /// <summary>Gets the output table this version reads (for tests of the int8 copy).</summary>
    internal CowView<float> Outputs => _outputs;

    /// <summary>Gets the co-occurrence rows this version reads (for tests and benchmarks of the row adds).</summary>
    internal CoocView Cooccurrence => _cooccurrence;

    /// <summary>The score of one item through the full feature row (the oracle the explanation is balanced against).</summary>
    private float Full(Scratch scratch, in UserSummary summary, int item)
    {
        int cooc = Math.Min(scratch.RecentCount, _cooccurrenceItems);
        float inverse = _info.Row(item)[RepeatExplore.ItemInfo.InverseSqrtUsers], total = 0f;
        for (int j = 0; j < cooc; j++)
        {
            int other = scratch.Recent[j];
            total += other == item ? 0f : _cooccurrence.Get(other, item) * _info.Row(other)[RepeatExplore.ItemInfo.InverseSqrtUsers] * inverse;
        }

        Span<float> f = stackalloc float[F];
        RepeatExploreMath.Fill(f, scratch.Stats[item].Count > 0, scratch.Stats[item], summary, Explore(scratch, item), total, Popularity(item), RepeatShare(item), Trend(item), _decay);
        return RepeatExploreMath.Logit(_gate, f);
    }

    private static int LastEvent(ReadOnlySpan<Interaction> history, int item)
    {
        for (int k = history.Length - 1; k >= 0; k--)
        {
            if (history[k].Item == item && RecommenderGuard.IsPositive(history[k]))
            {
                return k;
            }
        }

        return 0;
    }
}

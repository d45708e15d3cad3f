using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Turns a score vector over all items into what the ranking metrics need: the top-K list, and the rank
/// of given target items in the full ranking or among sampled negatives. Every method allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// <b>The order.</b> Items are ranked by descending score; <b>equal scores rank the lower item index
/// first</b>; NaN ranks below every number (−∞ included), NaNs among themselves by index. −0 and +0 are
/// equal scores. This is a total order, so every ranking here is deterministic, and it is exactly the
/// order of <see cref="Kernels.TopK(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{int}, Span{float})"/>:
/// the rank returned by <see cref="RankOf"/> is the target's 1-based position in the list that
/// <see cref="TopK(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{int}, Span{float})"/> would return for a
/// large enough k. <see cref="RanksAbove"/> exposes the order itself.
/// </para>
/// <para>
/// Breaking ties by index (rather than pessimistically, counting every tie above the target) keeps the
/// full-ranking and sampled protocols consistent and is what any top-K list has to do anyway. Its known
/// bias: a model that scores everything equal is credited with the index order, so check degenerate
/// models against a constant-score baseline.
/// </para>
/// <para>
/// <b>Exclusions</b> (<c>excludedSorted</c>, for example the items a user already bought in the "explore"
/// variant) are strictly ascending item indices; excluded items are removed from the ranking, so they
/// neither appear in a top-K list nor push a target down.
/// </para>
/// </remarks>
public static class Ranking
{
    private const int StackScoresLimit = 256;

    /// <summary>
    /// Whether item <paramref name="itemA"/> with score <paramref name="scoreA"/> ranks above item
    /// <paramref name="itemB"/> with score <paramref name="scoreB"/>: higher score first, equal scores by
    /// lower index, NaN last.
    /// </summary>
    /// <param name="scoreA">The first item's score.</param>
    /// <param name="itemA">The first item's index.</param>
    /// <param name="scoreB">The second item's score.</param>
    /// <param name="itemB">The second item's index.</param>
    /// <returns><see langword="true"/> if A ranks strictly above B; <see langword="false"/> for the same item.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool RanksAbove(float scoreA, int itemA, float scoreB, int itemB)
    {
        if (float.IsNaN(scoreA))
        {
            return float.IsNaN(scoreB) && itemA < itemB;
        }

        // A number beats NaN; the comparisons below are false against NaN, hence the explicit test.
        return float.IsNaN(scoreB) || scoreA > scoreB || (scoreA == scoreB && itemA < itemB);
    }

    /// <summary>
    /// Writes the <c>k = items.Length</c> best items (and their scores) in ranking order, skipping excluded
    /// items; a thin, documented entry point to
    /// <see cref="Kernels.TopK(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{int}, Span{float})"/>.
    /// </summary>
    /// <param name="scores">One score per item (the catalog).</param>
    /// <param name="excludedSorted">Items to leave out, strictly ascending, each in [0, <c>scores.Length</c>); may be empty.</param>
    /// <param name="items">Receives the selected items, best first; its length is k.</param>
    /// <param name="itemScores">Receives the selected scores; same length as <paramref name="items"/>.</param>
    /// <returns>The number written, <c>min(k, scores.Length − excludedSorted.Length)</c>; later entries are untouched.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An excluded item is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="excludedSorted"/> is not strictly ascending, <paramref name="itemScores"/> and
    /// <paramref name="items"/> differ in length, or <paramref name="itemScores"/> overlaps <paramref name="scores"/>.
    /// </exception>
    public static int TopK(ReadOnlySpan<float> scores, ReadOnlySpan<int> excludedSorted, Span<int> items, Span<float> itemScores) =>
        Kernels.TopK(scores, excludedSorted, items, itemScores);

    /// <summary>
    /// Like <see cref="TopK(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{int}, Span{float})"/> without the
    /// scores of the selected items (scratch for them is taken from the stack up to k = 256, beyond that
    /// rented from <see cref="ArrayPool{T}.Shared"/>).
    /// </summary>
    /// <param name="scores">One score per item (the catalog).</param>
    /// <param name="excludedSorted">Items to leave out, strictly ascending, each in [0, <c>scores.Length</c>); may be empty.</param>
    /// <param name="items">Receives the selected items, best first; its length is k.</param>
    /// <returns>The number written, <c>min(k, scores.Length − excludedSorted.Length)</c>; later entries are untouched.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An excluded item is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException"><paramref name="excludedSorted"/> is not strictly ascending.</exception>
    public static int TopK(ReadOnlySpan<float> scores, ReadOnlySpan<int> excludedSorted, Span<int> items)
    {
        int k = items.Length;
        if (k <= StackScoresLimit)
        {
            Span<float> values = stackalloc float[k];
            return Kernels.TopK(scores, excludedSorted, items, values);
        }

        float[] rented = ArrayPool<float>.Shared.Rent(k);
        try
        {
            return Kernels.TopK(scores, excludedSorted, items, rented.AsSpan(0, k));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The 1-based rank of <paramref name="target"/> in the full ranking of all non-excluded items:
    /// <c>1 +</c> the number of non-excluded items with a strictly higher score <c>+</c> the number with an
    /// equal score and a lower index (NaN as described in <see cref="Ranking"/>). O(n), vectorised.
    /// </summary>
    /// <param name="scores">One score per item (the catalog).</param>
    /// <param name="target">The item to rank, in [0, <c>scores.Length</c>) and not excluded.</param>
    /// <param name="excludedSorted">Items removed from the ranking, strictly ascending, each in [0, <c>scores.Length</c>); may be empty.</param>
    /// <returns>The rank, between 1 and <c>scores.Length − excludedSorted.Length</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> or an excluded item is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="excludedSorted"/> is not strictly ascending, or it contains <paramref name="target"/>
    /// (an excluded item has no rank).
    /// </exception>
    public static int RankOf(ReadOnlySpan<float> scores, int target, ReadOnlySpan<int> excludedSorted)
    {
        EvaluationGuard.SortedSet(excludedSorted, scores.Length, nameof(excludedSorted));
        ValidateTarget(scores.Length, target, excludedSorted, nameof(target));
        return RankCore(scores, target, excludedSorted);
    }

    /// <summary>
    /// Writes the full-ranking rank of each of <paramref name="targets"/> (see <see cref="RankOf"/>) to
    /// <paramref name="ranks"/>. O(n · |targets|).
    /// </summary>
    /// <param name="scores">One score per item (the catalog).</param>
    /// <param name="targets">Items to rank, each in [0, <c>scores.Length</c>) and not excluded; repeats are allowed.</param>
    /// <param name="excludedSorted">Items removed from the ranking, strictly ascending; may be empty.</param>
    /// <param name="ranks">Receives one rank per target; must have the length of <paramref name="targets"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A target or an excluded item is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="ranks"/> and <paramref name="targets"/> differ in length, <paramref name="excludedSorted"/>
    /// is not strictly ascending, or a target is excluded. Nothing is written then.
    /// </exception>
    public static void RanksOf(ReadOnlySpan<float> scores, ReadOnlySpan<int> targets, ReadOnlySpan<int> excludedSorted, Span<int> ranks)
    {
        EvaluationGuard.Length(ranks.Length, targets.Length, nameof(ranks), nameof(targets));
        EvaluationGuard.SortedSet(excludedSorted, scores.Length, nameof(excludedSorted));
        for (int t = 0; t < targets.Length; t++)
        {
            ValidateTarget(scores.Length, targets[t], excludedSorted, nameof(targets));
        }

        for (int t = 0; t < targets.Length; t++)
        {
            ranks[t] = RankCore(scores, targets[t], excludedSorted);
        }
    }

    /// <summary>
    /// The full-ranking rank of the best-ranked item of <paramref name="relevantSorted"/> (the MRR rank),
    /// or 0 when the set is empty. One O(n) pass: the best relevant item is found by
    /// <see cref="RanksAbove"/> first, and only its rank is counted.
    /// </summary>
    /// <param name="scores">One score per item (the catalog).</param>
    /// <param name="relevantSorted">The relevant items, strictly ascending, in [0, <c>scores.Length</c>), none excluded.</param>
    /// <param name="excludedSorted">Items removed from the ranking, strictly ascending; may be empty.</param>
    /// <returns>The rank of the first relevant item, or 0 if there is none.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A relevant or excluded item is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException">
    /// A set is not strictly ascending, or a relevant item is excluded (in the "explore" variant remove
    /// previously bought items from the relevant set before ranking).
    /// </exception>
    public static int FirstRelevantRank(ReadOnlySpan<float> scores, ReadOnlySpan<int> relevantSorted, ReadOnlySpan<int> excludedSorted)
    {
        EvaluationGuard.SortedSet(relevantSorted, scores.Length, nameof(relevantSorted));
        EvaluationGuard.SortedSet(excludedSorted, scores.Length, nameof(excludedSorted));
        // Both sets are sorted: one merge walk finds any overlap.
        for (int r = 0, e = 0; r < relevantSorted.Length && e < excludedSorted.Length;)
        {
            if (relevantSorted[r] == excludedSorted[e])
            {
                EvaluationGuard.ThrowArgument(nameof(relevantSorted),
                    $"relevantSorted[{r}] = {relevantSorted[r]} is also excluded; an excluded item has no rank.");
            }

            if (relevantSorted[r] < excludedSorted[e])
            {
                r++;
            }
            else
            {
                e++;
            }
        }

        if (relevantSorted.IsEmpty)
        {
            return 0;
        }

        int best = relevantSorted[0];
        for (int r = 1; r < relevantSorted.Length; r++)
        {
            int item = relevantSorted[r];
            if (RanksAbove(scores[item], item, scores[best], best))
            {
                best = item;
            }
        }

        return RankCore(scores, best, excludedSorted);
    }

    /// <summary>
    /// The 1-based rank of a target among sampled negatives (the SASRec protocol: the held-out item ranked
    /// against 100 sampled items): <c>1 +</c> the number of negatives that <see cref="RanksAbove"/> the
    /// target. Ties are broken by item index as in the full ranking, so the result equals the target's
    /// rank in the full ranking restricted to the target and the (distinct) negatives.
    /// </summary>
    /// <param name="targetItem">The target's item index, ≥ 0.</param>
    /// <param name="targetScore">The target's score.</param>
    /// <param name="negativeItems">The negatives' item indices, each ≥ 0 and different from <paramref name="targetItem"/>; each entry counts, repeats included.</param>
    /// <param name="negativeScores">The negatives' scores, in the same order.</param>
    /// <returns>The rank, between 1 and <c>negativeItems.Length + 1</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetItem"/> or a negative item is negative.</exception>
    /// <exception cref="ArgumentException">
    /// The two negative spans differ in length, or a negative is the target itself (a sampler must not
    /// draw the held-out item).
    /// </exception>
    public static int SampledRank(int targetItem, float targetScore, ReadOnlySpan<int> negativeItems, ReadOnlySpan<float> negativeScores)
    {
        EvaluationGuard.Length(negativeScores.Length, negativeItems.Length, nameof(negativeScores), nameof(negativeItems));
        if (targetItem < 0)
        {
            EvaluationGuard.ThrowOutOfRange(nameof(targetItem), targetItem, $"'{nameof(targetItem)}' must be a non-negative item index but was {targetItem}.");
        }

        int rank = 1;
        for (int j = 0; j < negativeItems.Length; j++)
        {
            int item = negativeItems[j];
            if (item < 0)
            {
                EvaluationGuard.ThrowOutOfRange(nameof(negativeItems), item, $"negativeItems[{j}] = {item} is not a valid item index (must be >= 0).");
            }

            if (item == targetItem)
            {
                EvaluationGuard.ThrowArgument(nameof(negativeItems), $"negativeItems[{j}] = {item} is the target item; negatives must exclude it.");
            }

            if (RanksAbove(negativeScores[j], item, targetScore, targetItem))
            {
                rank++;
            }
        }

        return rank;
    }

    private static void ValidateTarget(int n, int target, ReadOnlySpan<int> excludedSorted, string name)
    {
        if ((uint)target >= (uint)n)
        {
            EvaluationGuard.ThrowOutOfRange(name, target, $"The target item {target} ('{name}') is not an item index in [0, {n}).");
        }

        if (RankingMetrics.Contains(excludedSorted, target))
        {
            EvaluationGuard.ThrowArgument(name, $"The target item {target} ('{name}') is excluded; an excluded item has no rank.");
        }
    }

    /// <summary>The rank of a validated, non-excluded target.</summary>
    private static int RankCore(ReadOnlySpan<float> scores, int target, ReadOnlySpan<int> excludedSorted)
    {
        float t = scores[target];
        int above;
        if (float.IsNaN(t))
        {
            // Everything before a NaN target ranks above it (numbers by score, NaNs by index); after it only numbers do.
            above = target + CountNumbers(scores[(target + 1)..]);
        }
        else
        {
            // Lower indices win ties, higher indices need a strictly higher score; NaN fails both comparisons.
            above = CountAtLeast(scores[..target], t) + CountAbove(scores[(target + 1)..], t);
        }

        // Excluded items were counted like any other; take back those that rank above the target.
        foreach (int e in excludedSorted)
        {
            if (RanksAbove(scores[e], e, t, target))
            {
                above--;
            }
        }

        return above + 1;
    }

    // The counters below add the all-ones (−1) comparison masks lane-wise; no lane can overflow, since
    // each holds at most n / Vector<float>.Count.

    private static int CountAtLeast(ReadOnlySpan<float> x, float threshold)
    {
        int i = 0, count = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var t = new Vector<float>(threshold);
            Vector<int> acc = Vector<int>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc -= Vector.GreaterThanOrEqual(new Vector<float>(x[i..]), t);
            }

            count = Vector.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            if (x[i] >= threshold)
            {
                count++;
            }
        }

        return count;
    }

    private static int CountAbove(ReadOnlySpan<float> x, float threshold)
    {
        int i = 0, count = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var t = new Vector<float>(threshold);
            Vector<int> acc = Vector<int>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc -= Vector.GreaterThan(new Vector<float>(x[i..]), t);
            }

            count = Vector.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            if (x[i] > threshold)
            {
                count++;
            }
        }

        return count;
    }

    private static int CountNumbers(ReadOnlySpan<float> x)
    {
        int i = 0, count = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            Vector<int> acc = Vector<int>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x[i..]);
                acc -= Vector.Equals(v, v);   // false only for NaN
            }

            count = Vector.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            if (!float.IsNaN(x[i]))
            {
                count++;
            }
        }

        return count;
    }
}

using System.Runtime.CompilerServices;

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Per-user top-K ranking metrics with binary relevance: a ranked list of item indices (best first) is
/// compared with the set of items that are relevant for the user (for example the items of the held-out
/// basket). Every method works on spans and allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Conventions shared by every method:
/// </para>
/// <list type="bullet">
/// <item><description><c>relevantSorted</c> is a set given as a strictly ascending span of item indices
/// ≥ 0 (sort the basket once; the order makes membership a binary search and rules out repeats).</description></item>
/// <item><description>Only the first <c>min(k, ranked.Length)</c> entries of <c>ranked</c> are read. A list
/// shorter than k is treated as if the missing positions held irrelevant items: Precision@K still divides
/// by k and NDCG@K can then stay below 1.</description></item>
/// <item><description>Entries of <c>ranked</c> that are not in the set (including negative padding) are
/// misses. A relevant item listed twice within the first k positions is rejected, because it would be
/// counted as two hits; repeats of irrelevant items change nothing and are not checked.</description></item>
/// <item><description>A user with no relevant item gets 0 from every method (Recall and NDCG are 0/0
/// there). <see cref="RankingMetricsAccumulator"/> skips such users instead of averaging in those zeros.</description></item>
/// </list>
/// <para>
/// Ranks are 1-based. The gain of a hit at rank r is <c>1 / log2(r + 1)</c>, so rank 1 gains 1, rank 2
/// gains 1/log2 3 ≈ 0.631, rank 3 gains 0.5.
/// </para>
/// </remarks>
public static class RankingMetrics
{
    /// <summary>Counts the relevant items among the first <paramref name="k"/> entries of <paramref name="ranked"/>.</summary>
    /// <param name="ranked">Item indices, best first.</param>
    /// <param name="relevantSorted">The relevant items, strictly ascending, each ≥ 0.</param>
    /// <param name="k">The cutoff, at least 1; may exceed <c>ranked.Length</c>.</param>
    /// <returns>The number of hits in the top k, between 0 and <c>min(k, |relevant|)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1, or an entry of <paramref name="relevantSorted"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="relevantSorted"/> is not strictly ascending, or a relevant item appears twice within
    /// the first <paramref name="k"/> entries of <paramref name="ranked"/>.
    /// </exception>
    public static int HitCount(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k)
    {
        Validate(relevantSorted, k);
        return Scan(ranked, relevantSorted, k, out _);
    }

    /// <summary>
    /// Hit rate HR@K: 1 if at least one relevant item is among the first <paramref name="k"/> entries, else 0.
    /// </summary>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/param"/>
    /// <returns>1 or 0.</returns>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/exception"/>
    public static double HitRate(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k) =>
        HitCount(ranked, relevantSorted, k) > 0 ? 1.0 : 0.0;

    /// <summary>
    /// Recall@K: hits in the top k divided by <c>|relevant|</c> — not by <c>min(|relevant|, k)</c>, so a user
    /// with more than k relevant items cannot reach 1. This is the next-basket literature's definition.
    /// </summary>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/param"/>
    /// <returns>A value in [0, 1]; 0 when there is no relevant item.</returns>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/exception"/>
    public static double Recall(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k)
    {
        int hits = HitCount(ranked, relevantSorted, k);
        return relevantSorted.Length == 0 ? 0.0 : (double)hits / relevantSorted.Length;
    }

    /// <summary>Precision@K: hits in the top k divided by k (also when the list is shorter than k).</summary>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/exception"/>
    public static double Precision(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k) =>
        (double)HitCount(ranked, relevantSorted, k) / k;

    /// <summary>
    /// NDCG@K with binary gains: <c>DCG = Σ 1/log2(rank + 1)</c> over the hits among the first k entries,
    /// divided by the ideal DCG, the same sum over ranks 1..min(|relevant|, k).
    /// </summary>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/param"/>
    /// <returns>
    /// A value in [0, 1]; exactly 1 if and only if the first <c>min(|relevant|, k)</c> entries are all
    /// relevant (the ideal sum is accumulated in the same order as the actual one, so a perfect list gives
    /// bit-identical sums). 0 when there is no relevant item.
    /// </returns>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/exception"/>
    public static double Ndcg(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k)
    {
        Validate(relevantSorted, k);
        if (relevantSorted.Length == 0)
        {
            return 0.0;
        }

        Scan(ranked, relevantSorted, k, out double dcg);
        return dcg / IdealDcg(relevantSorted.Length, k);
    }

    /// <summary>
    /// The ideal DCG of a user with <paramref name="relevantCount"/> relevant items at cutoff
    /// <paramref name="k"/>: <c>Σ_{r=1}^{min(relevantCount, k)} 1/log2(r + 1)</c>.
    /// </summary>
    /// <param name="relevantCount">The number of relevant items, ≥ 0.</param>
    /// <param name="k">The cutoff, at least 1.</param>
    /// <returns>The ideal DCG; 0 when <paramref name="relevantCount"/> is 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="relevantCount"/> is negative or <paramref name="k"/> is below 1.</exception>
    public static double IdealDcg(int relevantCount, int k)
    {
        EvaluationGuard.Cutoff(k);
        if (relevantCount < 0)
        {
            EvaluationGuard.ThrowOutOfRange(nameof(relevantCount), relevantCount,
                $"'{nameof(relevantCount)}' must be non-negative but was {relevantCount}.");
        }

        int m = Math.Min(relevantCount, k);
        double idcg = 0.0;
        for (int i = 0; i < m; i++)
        {
            idcg += Gain(i);
        }

        return idcg;
    }

    /// <summary>
    /// The 1-based position of the first relevant item anywhere in <paramref name="ranked"/>, or 0 if none
    /// is listed. On a full ranking of all items this is the rank that MRR uses.
    /// </summary>
    /// <param name="ranked">Item indices, best first.</param>
    /// <param name="relevantSorted">The relevant items, strictly ascending, each ≥ 0.</param>
    /// <returns>The rank of the first hit, or 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An entry of <paramref name="relevantSorted"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="relevantSorted"/> is not strictly ascending.</exception>
    public static int FirstHitRank(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted)
    {
        EvaluationGuard.SortedSet(relevantSorted, int.MaxValue, nameof(relevantSorted));
        return FirstHit(ranked, relevantSorted, ranked.Length) + 1;
    }

    /// <summary>
    /// Reciprocal rank: <c>1 / rank</c> of the first relevant item anywhere in <paramref name="ranked"/>,
    /// 0 if none is listed. Averaged over users this is MRR; pass the full ranking of all items (or use
    /// <see cref="Ranking.FirstRelevantRank(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{int})"/> on the scores) for the unbounded MRR.
    /// </summary>
    /// <inheritdoc cref="FirstHitRank(ReadOnlySpan{int}, ReadOnlySpan{int})" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="FirstHitRank(ReadOnlySpan{int}, ReadOnlySpan{int})" path="/exception"/>
    public static double ReciprocalRank(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted)
    {
        int rank = FirstHitRank(ranked, relevantSorted);
        return rank == 0 ? 0.0 : 1.0 / rank;
    }

    /// <summary>
    /// MRR@K's per-user term: <c>1 / rank</c> of the first relevant item if it is among the first
    /// <paramref name="k"/> entries, else 0.
    /// </summary>
    /// <inheritdoc cref="HitCount(ReadOnlySpan{int}, ReadOnlySpan{int}, int)" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1, or an entry of <paramref name="relevantSorted"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="relevantSorted"/> is not strictly ascending.</exception>
    public static double ReciprocalRank(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k)
    {
        Validate(relevantSorted, k);
        int first = FirstHit(ranked, relevantSorted, Math.Min(k, ranked.Length));
        return first < 0 ? 0.0 : 1.0 / (first + 1);
    }

    /// <summary>The DCG gain of a hit at 0-based position <paramref name="position"/> (rank position + 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Gain(int position) => 1.0 / Math.Log2(position + 2);

    /// <summary>Whether <paramref name="item"/> is in the strictly ascending <paramref name="sorted"/> set.</summary>
    internal static bool Contains(ReadOnlySpan<int> sorted, int item)
    {
        int lo = 0, hi = sorted.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int v = sorted[mid];
            if (v == item)
            {
                return true;
            }

            if (v < item)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return false;
    }

    /// <summary>
    /// Counts hits among the first <c>min(k, ranked.Length)</c> entries and sums their gains. Assumes a
    /// validated set; throws if a relevant item is repeated (it would be a second hit for one item).
    /// </summary>
    internal static int Scan(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int k, out double dcg)
    {
        dcg = 0.0;
        int hits = 0;
        int limit = Math.Min(k, ranked.Length);
        // No early exit once every relevant item is found: the scan must see (and reject) a later repeat
        // whatever the size of the set, so that validity does not depend on it.
        for (int i = 0; i < limit; i++)
        {
            int item = ranked[i];
            if (Contains(relevantSorted, item))
            {
                RejectRepeat(ranked, i, item);
                hits++;
                dcg += Gain(i);
            }
        }

        return hits;
    }

    /// <summary>Throws if <paramref name="item"/>, a hit at <paramref name="position"/>, was already listed earlier.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RejectRepeat(ReadOnlySpan<int> ranked, int position, int item)
    {
        if (ranked[..position].Contains(item))
        {
            EvaluationGuard.ThrowArgument(nameof(ranked),
                $"ranked[{position}] = {item} repeats a relevant item listed earlier; a ranking must not list an item twice.");
        }
    }

    /// <summary>The 0-based position of the first hit among the first <paramref name="limit"/> entries, or −1.</summary>
    internal static int FirstHit(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int limit)
    {
        if (relevantSorted.Length == 0)
        {
            return -1;
        }

        for (int i = 0; i < limit; i++)
        {
            if (Contains(relevantSorted, ranked[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static void Validate(ReadOnlySpan<int> relevantSorted, int k)
    {
        EvaluationGuard.Cutoff(k);
        EvaluationGuard.SortedSet(relevantSorted, int.MaxValue, nameof(relevantSorted));
    }
}

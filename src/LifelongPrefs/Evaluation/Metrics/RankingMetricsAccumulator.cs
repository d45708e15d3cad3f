using System.Globalization;

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Averages the <see cref="RankingMetrics"/> over users at one or more cutoffs and tracks catalog coverage:
/// call <see cref="Add(ReadOnlySpan{int}, ReadOnlySpan{int})"/> once per user, then read
/// <see cref="Results"/>.
/// </summary>
/// <remarks>
/// <para>
/// Users without any relevant item are <b>skipped</b> in every average and counted in
/// <see cref="UsersSkipped"/>: they carry no signal (for example a user whose test basket holds only
/// re-purchases in the "explore" variant), and averaging in zeros would make the metric depend on how many
/// such users the split happens to contain. Their recommendations still count toward coverage, which
/// describes what the recommender shows rather than whether it hit.
/// </para>
/// <para>
/// Coverage@K is the number of distinct items that appeared in some user's top K divided by the catalog
/// size. Sums are kept in double and added in call order, so the same users in the same order give
/// bit-identical results. <see cref="Add(ReadOnlySpan{int}, ReadOnlySpan{int})"/> allocates nothing.
/// Not thread-safe: use one accumulator per thread.
/// </para>
/// </remarks>
public sealed class RankingMetricsAccumulator
{
    private readonly int[] _cutoffs;          // ascending, distinct
    private readonly double[] _hitRate;        // per cutoff: Σ over evaluated users
    private readonly double[] _recall;
    private readonly double[] _precision;
    private readonly double[] _ndcg;
    private readonly double[] _mrrAtK;
    private readonly double[] _idealDcg;       // prefix sums: _idealDcg[m] = Σ_{i<m} gain(i), m ≤ max cutoff
    private readonly int[] _bestPosition;      // per item: smallest 0-based position it was recommended at
    private readonly int[] _hitsScratch;       // per cutoff, for the user being added
    private readonly double[] _dcgScratch;
    private double _mrr;

    /// <summary>Creates an accumulator for a catalog of <paramref name="catalogSize"/> items.</summary>
    /// <param name="catalogSize">The number of items; ranked items must lie in [0, catalogSize). At least 1.</param>
    /// <param name="cutoffs">The cutoffs K to report, each ≥ 1, distinct, in any order (for example 10, 20).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="catalogSize"/> or a cutoff is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="cutoffs"/> is empty or repeats a value.</exception>
    public RankingMetricsAccumulator(int catalogSize, params ReadOnlySpan<int> cutoffs)
    {
        if (catalogSize < 1)
        {
            EvaluationGuard.ThrowOutOfRange(nameof(catalogSize), catalogSize,
                $"'{nameof(catalogSize)}' must be at least 1 but was {catalogSize}.");
        }

        if (cutoffs.IsEmpty)
        {
            EvaluationGuard.ThrowArgument(nameof(cutoffs), "At least one cutoff K is required.");
        }

        _cutoffs = cutoffs.ToArray();
        Array.Sort(_cutoffs);
        for (int c = 0; c < _cutoffs.Length; c++)
        {
            if (_cutoffs[c] < 1)
            {
                EvaluationGuard.ThrowOutOfRange(nameof(cutoffs), _cutoffs[c], $"Every cutoff must be at least 1, but {_cutoffs[c]} was given.");
            }

            if (c > 0 && _cutoffs[c] == _cutoffs[c - 1])
            {
                EvaluationGuard.ThrowArgument(nameof(cutoffs), $"The cutoff {_cutoffs[c]} is given twice.");
            }
        }

        CatalogSize = catalogSize;
        int n = _cutoffs.Length;
        _hitRate = new double[n];
        _recall = new double[n];
        _precision = new double[n];
        _ndcg = new double[n];
        _mrrAtK = new double[n];
        _hitsScratch = new int[n];
        _dcgScratch = new double[n];

        // Summed in the same order as RankingMetrics.IdealDcg, so the averages match the per-user functions bit for bit.
        int maxK = _cutoffs[^1];
        int idealLength = Math.Min(maxK, catalogSize);
        _idealDcg = new double[idealLength + 1];
        for (int m = 1; m <= idealLength; m++)
        {
            _idealDcg[m] = _idealDcg[m - 1] + RankingMetrics.Gain(m - 1);
        }

        _bestPosition = new int[catalogSize];
        Array.Fill(_bestPosition, int.MaxValue);
    }

    /// <summary>The number of items in the catalog (the coverage denominator).</summary>
    public int CatalogSize { get; }

    /// <summary>The cutoffs, ascending.</summary>
    public ReadOnlySpan<int> Cutoffs => _cutoffs;

    /// <summary>The number of users averaged so far (users with at least one relevant item).</summary>
    public int UsersEvaluated { get; private set; }

    /// <summary>The number of users skipped because they had no relevant item.</summary>
    public int UsersSkipped { get; private set; }

    /// <summary>
    /// Adds one user. MRR is taken from <paramref name="ranked"/> itself: the reciprocal position of its
    /// first relevant entry, 0 if none. That is the full-ranking MRR only when <paramref name="ranked"/>
    /// lists every candidate; otherwise pass the full rank with
    /// <see cref="Add(ReadOnlySpan{int}, ReadOnlySpan{int}, int)"/>.
    /// </summary>
    /// <param name="ranked">The user's recommendations, best first, each in [0, <see cref="CatalogSize"/>); it may be shorter than the largest cutoff.</param>
    /// <param name="relevantSorted">The user's relevant items, strictly ascending, each in [0, <see cref="CatalogSize"/>); empty skips the user.</param>
    /// <exception cref="ArgumentOutOfRangeException">An item of <paramref name="ranked"/> or <paramref name="relevantSorted"/> is outside [0, <see cref="CatalogSize"/>).</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="relevantSorted"/> is not strictly ascending, or a relevant item appears twice within
    /// the first (largest cutoff) entries of <paramref name="ranked"/>. A rejected call changes nothing.
    /// </exception>
    public void Add(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted) =>
        AddCore(ranked, relevantSorted, firstRelevantRank: -1);

    /// <summary>
    /// Adds one user whose MRR term is <c>1 / <paramref name="firstRelevantRank"/></c>, the 1-based rank of
    /// its best-ranked relevant item in the full ranking (from <see cref="Ranking.FirstRelevantRank(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>);
    /// 0 means no relevant item was ranked and contributes 0.
    /// </summary>
    /// <param name="ranked">The user's recommendations, best first, each in [0, <see cref="CatalogSize"/>); it may be shorter than the largest cutoff.</param>
    /// <param name="relevantSorted">The user's relevant items, strictly ascending, each in [0, <see cref="CatalogSize"/>); empty skips the user.</param>
    /// <param name="firstRelevantRank">The full-ranking rank of the first relevant item, 0 for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// An item is outside [0, <see cref="CatalogSize"/>), or <paramref name="firstRelevantRank"/> is negative
    /// or exceeds <see cref="CatalogSize"/>.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="relevantSorted"/> is not strictly ascending, a relevant item appears twice within the
    /// first (largest cutoff) entries of <paramref name="ranked"/>, or <paramref name="firstRelevantRank"/>
    /// contradicts <paramref name="ranked"/> (a hit listed at position p but a full rank that is not p; or
    /// 0 while a relevant item is listed). A rejected call changes nothing.
    /// </exception>
    public void Add(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int firstRelevantRank)
    {
        if (firstRelevantRank < 0 || firstRelevantRank > CatalogSize)
        {
            EvaluationGuard.ThrowOutOfRange(nameof(firstRelevantRank), firstRelevantRank,
                $"'{nameof(firstRelevantRank)}' must lie in [0, {CatalogSize}] (0 = none ranked) but was {firstRelevantRank}.");
        }

        AddCore(ranked, relevantSorted, firstRelevantRank);
    }

    /// <summary>
    /// The averages so far, keyed <c>"HR@K"</c>, <c>"Recall@K"</c>, <c>"Precision@K"</c>, <c>"NDCG@K"</c>,
    /// <c>"MRR@K"</c> and <c>"Coverage@K"</c> for each cutoff (ascending), then <c>"MRR"</c>.
    /// </summary>
    /// <returns>
    /// A new dictionary in that key order. The averages are NaN while no user has been evaluated;
    /// coverage is defined (0) from the start.
    /// </returns>
    public IReadOnlyDictionary<string, double> Results()
    {
        var results = new Dictionary<string, double>(_cutoffs.Length * 6 + 1, StringComparer.Ordinal);
        double users = UsersEvaluated;
        for (int c = 0; c < _cutoffs.Length; c++)
        {
            int k = _cutoffs[c];
            results[Key("HR@", k)] = _hitRate[c] / users;
            results[Key("Recall@", k)] = _recall[c] / users;
            results[Key("Precision@", k)] = _precision[c] / users;
            results[Key("NDCG@", k)] = _ndcg[c] / users;
            results[Key("MRR@", k)] = _mrrAtK[c] / users;
            results[Key("Coverage@", k)] = Coverage(k);
        }

        results["MRR"] = _mrr / users;
        return results;
    }

    /// <summary>The fraction of the catalog that appeared in at least one added user's top <paramref name="k"/>.</summary>
    /// <param name="k">The cutoff, at least 1; values above the largest configured cutoff are clamped to it.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public double Coverage(int k)
    {
        EvaluationGuard.Cutoff(k);
        int covered = 0;
        foreach (int position in _bestPosition)
        {
            if (position < k)
            {
                covered++;
            }
        }

        return (double)covered / CatalogSize;
    }

    /// <summary>Forgets every added user, keeping the catalog size and cutoffs.</summary>
    public void Reset()
    {
        Array.Clear(_hitRate);
        Array.Clear(_recall);
        Array.Clear(_precision);
        Array.Clear(_ndcg);
        Array.Clear(_mrrAtK);
        Array.Fill(_bestPosition, int.MaxValue);
        _mrr = 0.0;
        UsersEvaluated = 0;
        UsersSkipped = 0;
    }

    private static string Key(string prefix, int k) => prefix + k.ToString(CultureInfo.InvariantCulture);

    private void AddCore(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevantSorted, int firstRelevantRank)
    {
        // Validate everything first and compute into scratch, so a rejected call leaves the sums untouched.
        EvaluationGuard.SortedSet(relevantSorted, CatalogSize, nameof(relevantSorted));
        for (int i = 0; i < ranked.Length; i++)
        {
            if ((uint)ranked[i] >= (uint)CatalogSize)
            {
                EvaluationGuard.ThrowOutOfRange(nameof(ranked), ranked[i],
                    $"ranked[{i}] = {ranked[i]} is not an item index in [0, {CatalogSize}).");
            }
        }

        int maxK = _cutoffs[^1];
        int limit = Math.Min(maxK, ranked.Length);
        Array.Clear(_hitsScratch);
        Array.Clear(_dcgScratch);
        int firstHit = -1;
        if (relevantSorted.Length > 0)
        {
            // One pass over the top max-K: each hit adds to every cutoff it falls under.
            // No early exit when all are found: a later repeat must be rejected as in RankingMetrics.
            for (int i = 0; i < limit; i++)
            {
                int item = ranked[i];
                if (!RankingMetrics.Contains(relevantSorted, item))
                {
                    continue;
                }

                RankingMetrics.RejectRepeat(ranked, i, item);
                if (firstHit < 0)
                {
                    firstHit = i;
                }

                double gain = RankingMetrics.Gain(i);
                for (int c = _cutoffs.Length - 1; c >= 0 && i < _cutoffs[c]; c--)
                {
                    _hitsScratch[c]++;
                    _dcgScratch[c] += gain;
                }
            }

            if (firstHit < 0)
            {
                // MRR looks beyond the largest cutoff when the list is longer.
                firstHit = RankingMetrics.FirstHit(ranked[limit..], relevantSorted, ranked.Length - limit);
                if (firstHit >= 0)
                {
                    firstHit += limit;
                }
            }

            if (firstRelevantRank >= 0 && firstHit >= 0 && firstRelevantRank != firstHit + 1)
            {
                EvaluationGuard.ThrowArgument(nameof(firstRelevantRank),
                    $"'{nameof(firstRelevantRank)}' = {firstRelevantRank} contradicts ranked, whose first relevant item is at rank {firstHit + 1}.");
            }

            if (firstRelevantRank >= 1 && firstHit < 0 && firstRelevantRank <= ranked.Length)
            {
                EvaluationGuard.ThrowArgument(nameof(firstRelevantRank),
                    $"'{nameof(firstRelevantRank)}' = {firstRelevantRank} contradicts ranked, which lists no relevant item in its first {ranked.Length} positions.");
            }
        }

        // Commit. (|relevant| <= CatalogSize and k <= max K, so the ideal-DCG index below is in range.)
        for (int i = 0; i < limit; i++)
        {
            int item = ranked[i];
            if (i < _bestPosition[item])
            {
                _bestPosition[item] = i;
            }
        }

        if (relevantSorted.Length == 0)
        {
            UsersSkipped++;
            return;
        }

        UsersEvaluated++;
        for (int c = 0; c < _cutoffs.Length; c++)
        {
            int k = _cutoffs[c];
            int hits = _hitsScratch[c];
            _hitRate[c] += hits > 0 ? 1.0 : 0.0;
            _recall[c] += (double)hits / relevantSorted.Length;
            _precision[c] += (double)hits / k;
            _ndcg[c] += _dcgScratch[c] / _idealDcg[Math.Min(relevantSorted.Length, k)];
            _mrrAtK[c] += firstHit >= 0 && firstHit < k ? 1.0 / (firstHit + 1) : 0.0;
        }

        int rank = firstRelevantRank >= 0 ? firstRelevantRank : firstHit + 1;
        _mrr += rank == 0 ? 0.0 : 1.0 / rank;
    }
}

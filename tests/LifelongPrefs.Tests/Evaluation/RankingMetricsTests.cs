using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// Per-user ranking metrics against hand-computed cases. The DCG arithmetic is spelled out in comments;
/// the literals are the hand-computed decimals (5+ digits), checked to 1e-5.
/// </summary>
public class RankingMetricsTests
{
    private const double Tol = 1e-5;

    // ranked = [5, 3, 9, 1, 7], relevant = {1, 3, 8}: hits at rank 2 (item 3) and rank 4 (item 1); 8 is never listed.
    private static readonly int[] s_ranked = [5, 3, 9, 1, 7];
    private static readonly int[] s_relevant = [1, 3, 8];

    [Fact]
    public void Cutoff_3_hand_computed()
    {
        // top 3 = 5, 3, 9 -> one hit (item 3, rank 2).
        Assert.Equal(1, RankingMetrics.HitCount(s_ranked, s_relevant, 3));
        Assert.Equal(1.0, RankingMetrics.HitRate(s_ranked, s_relevant, 3));
        Assert.Equal(1.0 / 3, RankingMetrics.Recall(s_ranked, s_relevant, 3), Tol);
        Assert.Equal(1.0 / 3, RankingMetrics.Precision(s_ranked, s_relevant, 3), Tol);
        // DCG = 1/log2(3) = 0.630930; IDCG over min(3,3) = 3 ranks = 1 + 0.630930 + 0.5 = 2.130930.
        // NDCG = 0.630930 / 2.130930 = 0.296082.
        Assert.Equal(2.130930, RankingMetrics.IdealDcg(3, 3), Tol);
        Assert.Equal(0.296082, RankingMetrics.Ndcg(s_ranked, s_relevant, 3), Tol);
    }

    [Fact]
    public void Cutoff_5_hand_computed()
    {
        // top 5: hits at ranks 2 and 4.
        Assert.Equal(2, RankingMetrics.HitCount(s_ranked, s_relevant, 5));
        Assert.Equal(2.0 / 3, RankingMetrics.Recall(s_ranked, s_relevant, 5), Tol);
        Assert.Equal(2.0 / 5, RankingMetrics.Precision(s_ranked, s_relevant, 5), Tol);
        // DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606; IDCG = 2.130930 (min(3,5) = 3).
        // NDCG = 1.061606 / 2.130930 = 0.498189.
        Assert.Equal(0.498189, RankingMetrics.Ndcg(s_ranked, s_relevant, 5), Tol);
    }

    [Fact]
    public void Cutoff_larger_than_the_list_treats_missing_positions_as_misses()
    {
        // K = 10 on a 5-item list: the same 2 hits; precision still divides by K = 10.
        Assert.Equal(2, RankingMetrics.HitCount(s_ranked, s_relevant, 10));
        Assert.Equal(0.2, RankingMetrics.Precision(s_ranked, s_relevant, 10), Tol);
        Assert.Equal(2.0 / 3, RankingMetrics.Recall(s_ranked, s_relevant, 10), Tol);
        // IDCG over min(3, 10) = 3 ranks, as at K = 5.
        Assert.Equal(0.498189, RankingMetrics.Ndcg(s_ranked, s_relevant, 10), Tol);

        // A one-item list that hits, with two relevant items: DCG = 1, IDCG = 1 + 1/log2(3) = 1.630930,
        // so a list too short to hold the ideal ranking cannot reach NDCG 1: 1 / 1.630930 = 0.613147.
        Assert.Equal(0.613147, RankingMetrics.Ndcg([2], [2, 4], 5), Tol);
        Assert.Equal(0.0, RankingMetrics.Ndcg([], [2, 4], 5));
    }

    [Fact]
    public void Reciprocal_rank_uses_the_first_hit()
    {
        Assert.Equal(2, RankingMetrics.FirstHitRank(s_ranked, s_relevant));
        Assert.Equal(0.5, RankingMetrics.ReciprocalRank(s_ranked, s_relevant));
        Assert.Equal(0.0, RankingMetrics.ReciprocalRank(s_ranked, s_relevant, 1));   // MRR@1: rank 2 is past the cutoff
        Assert.Equal(0.5, RankingMetrics.ReciprocalRank(s_ranked, s_relevant, 2));
        Assert.Equal(0, RankingMetrics.FirstHitRank(s_ranked, [0, 2]));
        Assert.Equal(0.0, RankingMetrics.ReciprocalRank(s_ranked, [0, 2]));
        Assert.Equal(1.0, RankingMetrics.ReciprocalRank(s_ranked, [5]));
    }

    [Fact]
    public void More_relevant_items_than_K_recall_divides_by_the_set_size_and_ndcg_can_be_one()
    {
        int[] ranked = [1, 2, 3, 4, 5];
        int[] relevant = [1, 2, 3, 4];
        // Both top-2 items are relevant: recall = 2/4 (not 2/min(4,2) = 1); NDCG over min(4, 2) = 2 ranks = exactly 1.
        Assert.Equal(0.5, RankingMetrics.Recall(ranked, relevant, 2));
        Assert.Equal(1.0, RankingMetrics.Precision(ranked, relevant, 2));
        Assert.Equal(1.0, RankingMetrics.Ndcg(ranked, relevant, 2));
    }

    [Fact]
    public void No_relevant_items_gives_zero_everywhere()
    {
        ReadOnlySpan<int> none = [];
        Assert.Equal(0, RankingMetrics.HitCount(s_ranked, none, 3));
        Assert.Equal(0.0, RankingMetrics.HitRate(s_ranked, none, 3));
        Assert.Equal(0.0, RankingMetrics.Recall(s_ranked, none, 3));
        Assert.Equal(0.0, RankingMetrics.Precision(s_ranked, none, 3));
        Assert.Equal(0.0, RankingMetrics.Ndcg(s_ranked, none, 3));
        Assert.Equal(0.0, RankingMetrics.ReciprocalRank(s_ranked, none));
        Assert.Equal(0.0, RankingMetrics.IdealDcg(0, 3));
    }

    [Fact]
    public void Irrelevant_repeats_and_negative_padding_are_misses()
    {
        // -1 padding and a repeated irrelevant 7 change nothing: hit only at rank 3 -> DCG = 1/log2(4) = 0.5.
        int[] ranked = [7, -1, 3, 7];
        Assert.Equal(1, RankingMetrics.HitCount(ranked, [3], 4));
        Assert.Equal(0.5, RankingMetrics.Ndcg(ranked, [3], 4), Tol);
    }

    [Fact]
    public void Invalid_arguments_throw_and_name_the_argument()
    {
        var ex1 = Assert.Throws<ArgumentException>(() => RankingMetrics.Recall(s_ranked, [3, 1], 3));
        Assert.Equal("relevantSorted", ex1.ParamName);
        Assert.Contains("strictly ascending", ex1.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => RankingMetrics.Ndcg(s_ranked, [1, 1], 3));   // a repeat in the set

        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.Precision(s_ranked, s_relevant, 0));
        Assert.Equal("k", ex2.ParamName);
        Assert.Contains("0", ex2.Message, StringComparison.Ordinal);

        var ex3 = Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.HitCount(s_ranked, [-2, 1], 3));
        Assert.Equal("relevantSorted", ex3.ParamName);

        // A relevant item listed twice would be two hits for one item.
        var ex4 = Assert.Throws<ArgumentException>(() => RankingMetrics.HitCount([3, 5, 3], [3, 4], 3));
        Assert.Equal("ranked", ex4.ParamName);
        Assert.Contains("ranked[2] = 3", ex4.Message, StringComparison.Ordinal);
        // ... also once every relevant item has been found: validity does not depend on the set's size.
        Assert.Throws<ArgumentException>(() => RankingMetrics.Recall([3, 3], [3], 2));

        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.IdealDcg(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.ReciprocalRank(s_ranked, s_relevant, -3));
    }

    [Fact]
    public void Span_functions_allocate_nothing()
    {
        int[] ranked = new int[50];
        for (int i = 0; i < ranked.Length; i++)
        {
            ranked[i] = (i * 7) % 50;
        }

        int[] relevant = [3, 14, 21, 40];
        double sink = 0;
        Assert.Equal(0, Allocations.Measure(Run, calls: 10));
        Assert.True(sink > 0);

        void Run()
        {
            sink += RankingMetrics.HitRate(ranked, relevant, 20) + RankingMetrics.Recall(ranked, relevant, 20)
                + RankingMetrics.Precision(ranked, relevant, 20) + RankingMetrics.Ndcg(ranked, relevant, 20)
                + RankingMetrics.ReciprocalRank(ranked, relevant) + RankingMetrics.ReciprocalRank(ranked, relevant, 10)
                + RankingMetrics.HitCount(ranked, relevant, 5) + RankingMetrics.IdealDcg(4, 20);
        }
    }
}

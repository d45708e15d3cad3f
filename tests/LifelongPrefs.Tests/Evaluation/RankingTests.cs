using LifelongPrefs.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// Full-ranking and sampled-negatives ranks. The oracle is a stable LINQ sort by (NaN last, score
/// descending, index ascending), written independently of <see cref="Ranking.RanksAbove"/>.
/// </summary>
public class RankingTests
{
    private static int[] OracleOrder(float[] scores, IEnumerable<int> candidates) =>
        candidates
            .OrderBy(i => float.IsNaN(scores[i]) ? 1 : 0)
            .ThenByDescending(i => float.IsNaN(scores[i]) ? 0f : scores[i])
            .ThenBy(i => i)
            .ToArray();

    [Fact]
    public void Ties_go_to_the_lower_index_hand_computed()
    {
        float[] scores = [0.5f, 0.9f, 0.5f, 0.1f, 0.9f];
        // Order: 1 (0.9), 4 (0.9, higher index), 0 (0.5), 2 (0.5), 3 (0.1).
        int[] expected = [3, 1, 4, 5, 2];   // rank of item 0, 1, 2, 3, 4
        for (int item = 0; item < scores.Length; item++)
        {
            Assert.Equal(expected[item], Ranking.RankOf(scores, item, []));
        }

        // Excluding item 1 removes it from the ranking: 4, 0, 2, 3.
        Assert.Equal(1, Ranking.RankOf(scores, 4, [1]));
        Assert.Equal(2, Ranking.RankOf(scores, 0, [1]));
        Assert.Equal(4, Ranking.RankOf(scores, 3, [1]));

        int[] top = new int[3];
        Assert.Equal(3, Ranking.TopK(scores, [], top));
        Assert.Equal([1, 4, 0], top);
        Assert.Equal(3, Ranking.TopK(scores, [1], top));
        Assert.Equal([4, 0, 2], top);

        // Best relevant item of {0, 2, 3} is item 0 at rank 3; without item 1 it is rank 2, without 1 and 4 rank 1.
        Assert.Equal(3, Ranking.FirstRelevantRank(scores, [0, 2, 3], []));
        Assert.Equal(2, Ranking.FirstRelevantRank(scores, [0, 2, 3], [1]));
        Assert.Equal(1, Ranking.FirstRelevantRank(scores, [0, 2, 3], [1, 4]));
        Assert.Equal(4, Ranking.FirstRelevantRank(scores, [3], [2]));   // 1, 4, 0, then 3
        Assert.Equal(0, Ranking.FirstRelevantRank(scores, [], [1]));

        int[] ranks = new int[3];
        Ranking.RanksOf(scores, [3, 1, 3], [], ranks);
        Assert.Equal([5, 1, 5], ranks);
    }

    [Fact]
    public void All_ties_rank_by_index_on_the_vector_path_and_the_tail()
    {
        float[] scores = Enumerable.Repeat(1f, 100).ToArray();
        Assert.Equal(51, Ranking.RankOf(scores, 50, []));
        Assert.Equal(100, Ranking.RankOf(scores, 99, []));
        Assert.Equal(1, Ranking.RankOf(scores, 0, []));
        Assert.Equal(49, Ranking.RankOf(scores, 50, [0, 2, 77]));   // two of the excluded were above
        scores[97] = 2f;                                              // a strictly better item after the target
        Assert.Equal(52, Ranking.RankOf(scores, 50, []));
    }

    [Fact]
    public void NaN_ranks_last_and_signed_zeros_tie()
    {
        float[] scores = [float.NaN, 1f, float.NaN, float.NegativeInfinity];
        // Order: 1, 3 (−∞ is still a number), 0, 2 (NaNs by index).
        Assert.Equal(3, Ranking.RankOf(scores, 0, []));
        Assert.Equal(4, Ranking.RankOf(scores, 2, []));
        Assert.Equal(2, Ranking.RankOf(scores, 3, []));
        Assert.Equal(1, Ranking.RankOf(scores, 1, []));

        Assert.Equal(2, Ranking.RankOf([0f, -0f], 1, []));
        Assert.Equal(2, Ranking.RankOf([-0f, 0f], 1, []));
        Assert.False(Ranking.RanksAbove(0f, 3, -0f, 2));
        Assert.True(Ranking.RanksAbove(-0f, 2, 0f, 3));
        Assert.True(Ranking.RanksAbove(float.NegativeInfinity, 9, float.NaN, 0));
        Assert.False(Ranking.RanksAbove(float.NaN, 0, float.NaN, 0));
    }

    [Fact]
    public void Sampled_rank_breaks_ties_by_index_like_the_full_ranking()
    {
        // Target 5 (0.5) against 3 (0.5, lower index: above), 7 (0.5, higher index: below),
        // 9 (0.6: above), 1 (0.2: below) -> rank 3.
        Assert.Equal(3, Ranking.SampledRank(5, 0.5f, [3, 7, 9, 1], [0.5f, 0.5f, 0.6f, 0.2f]));
        Assert.Equal(1, Ranking.SampledRank(5, 0.5f, [], []));
        Assert.Equal(3, Ranking.SampledRank(5, float.NaN, [3, 7], [float.NaN, -1f]));   // NaN target loses to numbers and lower-index NaN
    }

    [Fact]
    public void Invalid_arguments_throw_and_name_the_argument()
    {
        float[] scores = [0.1f, 0.2f, 0.3f];
        var ex1 = Assert.Throws<ArgumentException>(() => Ranking.RankOf(scores, 1, [1]));
        Assert.Equal("target", ex1.ParamName);
        Assert.Contains("excluded", ex1.Message, StringComparison.Ordinal);
        Assert.Equal("target", Assert.Throws<ArgumentOutOfRangeException>(() => Ranking.RankOf(scores, 3, [])).ParamName);
        Assert.Equal("excludedSorted", Assert.Throws<ArgumentException>(() => Ranking.RankOf(scores, 0, [2, 1])).ParamName);
        Assert.Equal("excludedSorted", Assert.Throws<ArgumentOutOfRangeException>(() => Ranking.RankOf(scores, 0, [5])).ParamName);

        var ex2 = Assert.Throws<ArgumentException>(() => Ranking.FirstRelevantRank(scores, [0, 2], [2]));
        Assert.Equal("relevantSorted", ex2.ParamName);
        Assert.Equal("relevantSorted", Assert.Throws<ArgumentOutOfRangeException>(() => Ranking.FirstRelevantRank(scores, [0, 3], [])).ParamName);

        int[] ranks = [-7, -7];
        Assert.Equal("ranks", Assert.Throws<ArgumentException>(() => Ranking.RanksOf(scores, [0], [], ranks)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Ranking.RanksOf(scores, [0, 1], [1], ranks)).ParamName);
        Assert.Equal([-7, -7], ranks);   // validated before writing anything

        Assert.Equal("negativeItems", Assert.Throws<ArgumentException>(() => Ranking.SampledRank(4, 0f, [1, 4], [0f, 0f])).ParamName);
        Assert.Equal("negativeScores", Assert.Throws<ArgumentException>(() => Ranking.SampledRank(4, 0f, [1, 2], [0f])).ParamName);
        Assert.Equal("targetItem", Assert.Throws<ArgumentOutOfRangeException>(() => Ranking.SampledRank(-1, 0f, [], [])).ParamName);
        Assert.Equal("negativeItems", Assert.Throws<ArgumentOutOfRangeException>(() => Ranking.SampledRank(1, 0f, [-3], [0f])).ParamName);

        Assert.Equal("excludedSorted", Assert.Throws<ArgumentException>(() => Ranking.TopK(scores, [1, 1], new int[2])).ParamName);
    }

    [Fact]
    public void Ranking_helpers_allocate_nothing()
    {
        float[] scores = new float[3000];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = (i * 37) % 101;   // many ties
        }

        int[] excluded = [5, 100, 2000], relevant = [7, 300, 2999], targets = [7, 8], ranks = new int[2];
        int[] top = new int[20], bigTop = new int[300];
        float[] topScores = new float[20];
        int[] negativeItems = [1, 2, 3, 4];
        float[] negativeScores = [5f, 50f, 70f, 99f];
        long sink = 0;
        Assert.Equal(0, Allocations.Measure(Run, calls: 5));
        Assert.True(sink > 0);

        void Run()
        {
            sink += Ranking.RankOf(scores, 7, excluded);
            sink += Ranking.FirstRelevantRank(scores, relevant, excluded);
            Ranking.RanksOf(scores, targets, excluded, ranks);
            sink += Ranking.TopK(scores, excluded, top, topScores);
            sink += Ranking.TopK(scores, excluded, top);
            sink += Ranking.TopK(scores, excluded, bigTop);   // k > 256: pooled scratch
            sink += Ranking.SampledRank(9, 50f, negativeItems, negativeScores);
        }
    }

    // ---- properties ----

    /// <summary>Scores on a coarse grid (many ties) with occasional NaN, ±0 and ±∞, plus an exclusion mask.</summary>
    internal sealed record ScoreCase(float[] Scores, bool[] Excluded)
    {
        public int[] ExcludedSorted => Enumerable.Range(0, Scores.Length).Where(i => Excluded[i]).ToArray();

        public int[] Candidates => Enumerable.Range(0, Scores.Length).Where(i => !Excluded[i]).ToArray();

        public override string ToString() =>
            $"scores [{string.Join(", ", Scores.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}], excluded [{string.Join(", ", ExcludedSorted)}]";
    }

    private static Arbitrary<ScoreCase> ScoreCases()
    {
        Gen<float> score = Gen.Frequency(
            (12, Gen.Elements(-2f, -1f, -0.5f, 0f, 0.5f, 1f, 2f)),
            (1, Gen.Elements(float.NaN, -0f, float.PositiveInfinity, float.NegativeInfinity)));
        Gen<ScoreCase> gen =
            from n in Gen.Choose(1, 70)
            from scores in Gen.ArrayOf(score, n)
            from excluded in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false))), n)
            select new ScoreCase(scores, excluded);
        return Arb.From(gen);
    }

    [Property(MaxTest = 150)]
    public Property Rank_equals_position_in_a_stable_sort_by_descending_score_then_index() =>
        Prop.ForAll(ScoreCases(), c =>
        {
            int[] order = OracleOrder(c.Scores, c.Candidates);
            int[] excluded = c.ExcludedSorted;
            for (int p = 0; p < order.Length; p++)
            {
                Assert.Equal(p + 1, Ranking.RankOf(c.Scores, order[p], excluded));
            }

            int[] ranks = new int[order.Length];
            Ranking.RanksOf(c.Scores, order, excluded, ranks);
            Assert.Equal(Enumerable.Range(1, order.Length), ranks);
        });

    [Property(MaxTest = 150)]
    public Property TopK_is_the_prefix_of_the_same_order() =>
        Prop.ForAll(ScoreCases(), Arb.From(Gen.Choose(0, 80)), (c, k) =>
        {
            int[] order = OracleOrder(c.Scores, c.Candidates);
            int[] top = new int[k];
            int written = Ranking.TopK(c.Scores, c.ExcludedSorted, top);
            Assert.Equal(Math.Min(k, order.Length), written);
            Assert.Equal(order.Take(k), top.Take(written));
        });

    [Property(MaxTest = 150)]
    public Property First_relevant_rank_is_the_best_rank_of_the_relevant_items() =>
        Prop.ForAll(ScoreCases(), Arb.From(Gen.Choose(0, int.MaxValue)), (c, seed) =>
        {
            var random = new Random(seed);
            int[] relevant = c.Candidates.Where(_ => random.Next(4) == 0).ToArray();
            int[] order = OracleOrder(c.Scores, c.Candidates);
            int expected = relevant.Length == 0 ? 0 : relevant.Min(item => Array.IndexOf(order, item) + 1);
            Assert.Equal(expected, Ranking.FirstRelevantRank(c.Scores, relevant, c.ExcludedSorted));

            // The metric built on top agrees: MRR on the explicit full ranking equals 1 / that rank.
            Assert.Equal(expected == 0 ? 0 : 1.0 / expected, RankingMetrics.ReciprocalRank(order, relevant));
        });

    [Property(MaxTest = 150)]
    public Property Sampled_rank_equals_the_full_rank_restricted_to_target_and_negatives() =>
        Prop.ForAll(ScoreCases(), Arb.From(Gen.Choose(0, int.MaxValue)), (c, seed) =>
        {
            var random = new Random(seed);
            int target = random.Next(c.Scores.Length);
            int[] negatives = Enumerable.Range(0, c.Scores.Length)
                .Where(i => i != target && random.Next(3) != 0)
                .OrderBy(_ => random.Next())   // sampling order must not matter
                .ToArray();
            float[] negativeScores = negatives.Select(i => c.Scores[i]).ToArray();
            int[] restricted = OracleOrder(c.Scores, negatives.Append(target));
            Assert.Equal(Array.IndexOf(restricted, target) + 1,
                Ranking.SampledRank(target, c.Scores[target], negatives, negativeScores));
        });
}

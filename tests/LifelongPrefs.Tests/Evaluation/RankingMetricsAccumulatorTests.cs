using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>The accumulator on a hand-computed three-user case, its validation and its allocation behaviour.</summary>
public class RankingMetricsAccumulatorTests
{
    private const double Tol = 1e-5;

    private static RankingMetricsAccumulator ThreeUsers()
    {
        var acc = new RankingMetricsAccumulator(10, 3, 2);
        // A: hit at rank 2 only (item 3); items 1 and 8 are relevant but not in the top 3.
        acc.Add([5, 3, 9, 1], [1, 3, 8]);
        // B: hit at rank 1, its only relevant item.
        acc.Add([2, 0, 4, 6], [2]);
        // C: nothing relevant -> skipped in the averages, but its list counts toward coverage.
        acc.Add([7, 8, 9, 0], []);
        return acc;
    }

    [Fact]
    public void Three_users_hand_computed()
    {
        RankingMetricsAccumulator acc = ThreeUsers();
        IReadOnlyDictionary<string, double> r = acc.Results();

        Assert.Equal(2, acc.UsersEvaluated);
        Assert.Equal(1, acc.UsersSkipped);
        Assert.Equal([2, 3], acc.Cutoffs.ToArray());

        // K = 2. A: recall 1/3, precision 1/2, DCG 1/log2(3) = 0.630930 over IDCG(min(3,2) = 2) = 1.630930
        // -> NDCG 0.386853, RR 1/2. B: recall 1, precision 1/2, NDCG 1, RR 1.
        Assert.Equal(1.0, r["HR@2"]);
        Assert.Equal((1.0 / 3 + 1) / 2, r["Recall@2"], Tol);
        Assert.Equal(0.5, r["Precision@2"], Tol);
        Assert.Equal((0.386853 + 1) / 2, r["NDCG@2"], Tol);
        Assert.Equal(0.75, r["MRR@2"], Tol);

        // K = 3. A: precision 1/3, IDCG(3) = 2.130930 -> NDCG 0.296082. B: precision 1/3, NDCG 1.
        Assert.Equal(1.0, r["HR@3"]);
        Assert.Equal((1.0 / 3 + 1) / 2, r["Recall@3"], Tol);
        Assert.Equal(1.0 / 3, r["Precision@3"], Tol);
        Assert.Equal((0.296082 + 1) / 2, r["NDCG@3"], Tol);
        Assert.Equal(0.75, r["MRR"], Tol);

        // Coverage@2: {5,3} ∪ {2,0} ∪ {7,8} = 6 of 10; Coverage@3 adds 9 and 4: 8 of 10.
        Assert.Equal(0.6, r["Coverage@2"], Tol);
        Assert.Equal(0.8, r["Coverage@3"], Tol);
        Assert.Equal(0.8, acc.Coverage(50), Tol);   // clamped to the largest cutoff
        Assert.Equal(0.3, acc.Coverage(1), Tol);    // {5, 2, 7}
    }

    [Fact]
    public void Full_rank_overload_feeds_MRR_and_rejects_contradictions()
    {
        var acc = new RankingMetricsAccumulator(10, 2);
        acc.Add([5, 9], [3], 7);          // relevant item 3 is outside the top 2, at full rank 7
        acc.Add([4, 3], [3], 2);          // consistent with the list
        acc.Add([6, 1], [8], 0);          // never ranked (e.g. catalog cut) -> contributes 0
        Assert.Equal((1.0 / 7 + 0.5 + 0) / 3, acc.Results()["MRR"], 1e-12);
        Assert.Equal((0 + 0.5 + 0) / 3, acc.Results()["MRR@2"], 1e-12);

        Assert.Throws<ArgumentException>(() => acc.Add([5, 3], [3], 1));   // the list has it at rank 2
        Assert.Throws<ArgumentException>(() => acc.Add([5, 3], [3], 0));   // the list ranks it
        Assert.Throws<ArgumentException>(() => acc.Add([5, 4], [3], 2));   // rank 2 would be listed
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => acc.Add([5, 4], [3], 11));
        Assert.Equal("firstRelevantRank", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => acc.Add([5, 4], [3], -1));
        Assert.Equal(3, acc.UsersEvaluated);
    }

    [Fact]
    public void A_rejected_add_changes_nothing()
    {
        RankingMetricsAccumulator acc = ThreeUsers();
        var before = acc.Results().ToArray();
        double coverage1 = acc.Coverage(1);

        var ex1 = Assert.Throws<ArgumentOutOfRangeException>(() => acc.Add([1, 10], [1]));
        Assert.Equal("ranked", ex1.ParamName);
        Assert.Contains("ranked[1] = 10", ex1.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => acc.Add([1, -1], [1]));
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => acc.Add([1, 4], [4, 12]));
        Assert.Equal("relevantSorted", ex2.ParamName);
        Assert.Throws<ArgumentException>(() => acc.Add([1, 4], [4, 1]));
        Assert.Throws<ArgumentException>(() => acc.Add([1, 1, 4], [1]));   // a relevant item repeated

        Assert.Equal(before, acc.Results().ToArray());
        Assert.Equal(coverage1, acc.Coverage(1));
        Assert.Equal(2, acc.UsersEvaluated);
        Assert.Equal(1, acc.UsersSkipped);
    }

    [Fact]
    public void Empty_and_reset_accumulators_report_NaN_averages_and_zero_coverage()
    {
        RankingMetricsAccumulator acc = ThreeUsers();
        acc.Reset();
        IReadOnlyDictionary<string, double> r = acc.Results();
        Assert.Equal(0, acc.UsersEvaluated);
        Assert.Equal(0, acc.UsersSkipped);
        Assert.True(double.IsNaN(r["NDCG@3"]));
        Assert.True(double.IsNaN(r["MRR"]));
        Assert.Equal(0.0, r["Coverage@3"]);

        // After a reset the accumulator reproduces a fresh run exactly.
        acc.Add([5, 3, 9, 1], [1, 3, 8]);
        acc.Add([2, 0, 4, 6], [2]);
        acc.Add([7, 8, 9, 0], []);
        Assert.Equal(ThreeUsers().Results().ToArray(), acc.Results().ToArray());
    }

    [Fact]
    public void Catalog_smaller_than_the_cutoff_and_short_lists_work()
    {
        var acc = new RankingMetricsAccumulator(3, 20);
        acc.Add([2, 0, 1], [0, 1]);
        // hits at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4) = 1.130930; IDCG(min(2, 20)) = 1.630930.
        Assert.Equal(1.130930 / 1.630930, acc.Results()["NDCG@20"], Tol);
        Assert.Equal(2.0 / 20, acc.Results()["Precision@20"], Tol);
        Assert.Equal(1.0, acc.Results()["Coverage@20"]);
    }

    [Fact]
    public void Constructor_validates()
    {
        Assert.Equal("catalogSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RankingMetricsAccumulator(0, 10)).ParamName);
        Assert.Equal("cutoffs", Assert.Throws<ArgumentException>(() => new RankingMetricsAccumulator(5)).ParamName);
        Assert.Equal("cutoffs", Assert.Throws<ArgumentOutOfRangeException>(() => new RankingMetricsAccumulator(5, 10, 0)).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => new RankingMetricsAccumulator(5, 10, 20, 10));
        Assert.Contains("10", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_allocates_nothing()
    {
        var acc = new RankingMetricsAccumulator(100, 5, 10, 20);
        int[] ranked = new int[20];
        int[] relevant = [4, 17, 33, 60];
        for (int i = 0; i < ranked.Length; i++)
        {
            ranked[i] = (i * 17) % 100;
        }

        int[] none = [];
        int runs = 0;
        Assert.Equal(0, Allocations.Measure(Run, calls: 10));
        Assert.Equal(2 * runs, acc.UsersEvaluated);   // the empty-relevant call is not counted

        void Run()
        {
            acc.Add(ranked, relevant);
            acc.Add(ranked, none, 0);
            acc.Add(ranked, relevant, 2);
            runs++;
        }
    }
}

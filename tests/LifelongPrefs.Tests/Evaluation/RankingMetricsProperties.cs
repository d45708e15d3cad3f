using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// Generated-input properties of the per-user ranking metrics and the accumulator, against oracles written
/// directly from the definitions (a hash set of relevant items and an explicit DCG loop).
/// </summary>
public class RankingMetricsProperties
{
    /// <summary>One user: a ranking without repeats over a catalog of up to 30 items, a relevant set, a cutoff.</summary>
    internal sealed record RankingCase(int Catalog, int[] Ranked, int[] Relevant, int K)
    {
        public override string ToString() =>
            $"catalog {Catalog}, ranked [{string.Join(", ", Ranked)}], relevant [{string.Join(", ", Relevant)}], K {K}";
    }

    internal static Gen<RankingCase> CaseGen =>
        from n in Gen.Choose(1, 30)
        from keys in Gen.ArrayOf(Gen.Choose(0, 1_000_000), n)
        from length in Gen.Choose(0, n)
        from mask in Gen.ArrayOf(Gen.Choose(0, 2), n)
        from k in Gen.Choose(1, 35)
        select new RankingCase(
            n,
            Enumerable.Range(0, n).OrderBy(i => keys[i]).ThenBy(i => i).Take(length).ToArray(),
            Enumerable.Range(0, n).Where(i => mask[i] == 0).ToArray(),
            k);

    private static Arbitrary<RankingCase> Cases() => Arb.From(CaseGen);

    [Property(MaxTest = 200)]
    public Property Metrics_match_the_definitions_and_lie_in_unit_interval() =>
        Prop.ForAll(Cases(), c =>
        {
            var relevant = new HashSet<int>(c.Relevant);
            int[] top = c.Ranked.Take(c.K).ToArray();
            int hits = top.Count(relevant.Contains);
            double dcg = 0, idcg = 0;
            for (int i = 0; i < top.Length; i++)
            {
                dcg += relevant.Contains(top[i]) ? 1 / Math.Log2(i + 2) : 0;
            }

            for (int i = 0; i < Math.Min(relevant.Count, c.K); i++)
            {
                idcg += 1 / Math.Log2(i + 2);
            }

            int first = Array.FindIndex(c.Ranked, relevant.Contains);

            double hr = RankingMetrics.HitRate(c.Ranked, c.Relevant, c.K);
            double recall = RankingMetrics.Recall(c.Ranked, c.Relevant, c.K);
            double precision = RankingMetrics.Precision(c.Ranked, c.Relevant, c.K);
            double ndcg = RankingMetrics.Ndcg(c.Ranked, c.Relevant, c.K);
            double rr = RankingMetrics.ReciprocalRank(c.Ranked, c.Relevant);
            double rrAtK = RankingMetrics.ReciprocalRank(c.Ranked, c.Relevant, c.K);

            Assert.Equal(hits, RankingMetrics.HitCount(c.Ranked, c.Relevant, c.K));
            Assert.Equal(hits > 0 ? 1.0 : 0.0, hr);
            Assert.Equal(relevant.Count == 0 ? 0 : (double)hits / relevant.Count, recall, 1e-12);
            Assert.Equal((double)hits / c.K, precision, 1e-12);
            Assert.Equal(idcg == 0 ? 0 : dcg / idcg, ndcg, 1e-12);
            Assert.Equal(first < 0 ? 0 : 1.0 / (first + 1), rr, 1e-12);
            Assert.Equal(first < 0 || first >= c.K ? 0 : 1.0 / (first + 1), rrAtK, 1e-12);
            foreach (double m in (double[])[hr, recall, precision, ndcg, rr, rrAtK])
            {
                Assert.InRange(m, 0.0, 1.0);
            }
        });

    [Property(MaxTest = 200)]
    public Property Ndcg_is_one_exactly_when_the_top_min_of_relevant_and_K_are_all_relevant() =>
        Prop.ForAll(Cases(), c =>
        {
            int m = Math.Min(c.Relevant.Length, c.K);
            bool idealTop = c.Relevant.Length > 0
                && c.Ranked.Length >= m
                && c.Ranked.Take(m).All(item => Array.IndexOf(c.Relevant, item) >= 0);
            Assert.Equal(idealTop, RankingMetrics.Ndcg(c.Ranked, c.Relevant, c.K) == 1.0);
        });

    [Property(MaxTest = 100)]
    public Property Recall_hits_and_hit_rate_never_decrease_with_K() =>
        Prop.ForAll(Cases(), c =>
        {
            for (int k = 1; k < 35; k++)
            {
                Assert.True(RankingMetrics.Recall(c.Ranked, c.Relevant, k) <= RankingMetrics.Recall(c.Ranked, c.Relevant, k + 1));
                Assert.True(RankingMetrics.HitCount(c.Ranked, c.Relevant, k) <= RankingMetrics.HitCount(c.Ranked, c.Relevant, k + 1));
                Assert.True(RankingMetrics.HitRate(c.Ranked, c.Relevant, k) <= RankingMetrics.HitRate(c.Ranked, c.Relevant, k + 1));
            }
        });

    [Property(MaxTest = 60)]
    public Property Accumulator_averages_the_per_user_functions_and_skips_users_without_relevant_items() =>
        Prop.ForAll(Arb.From(Gen.ListOf(CaseGen)), users =>
        {
            var acc = new RankingMetricsAccumulator(30, 20, 5);
            var sums = new Dictionary<string, double>();
            int evaluated = 0, skipped = 0;
            var shown5 = new HashSet<int>();
            var shown20 = new HashSet<int>();
            foreach (RankingCase c in users)
            {
                acc.Add(c.Ranked, c.Relevant);
                shown5.UnionWith(c.Ranked.Take(5));
                shown20.UnionWith(c.Ranked.Take(20));
                if (c.Relevant.Length == 0)
                {
                    skipped++;
                    continue;
                }

                evaluated++;
                foreach (int k in (int[])[5, 20])
                {
                    Add(sums, $"HR@{k}", RankingMetrics.HitRate(c.Ranked, c.Relevant, k));
                    Add(sums, $"Recall@{k}", RankingMetrics.Recall(c.Ranked, c.Relevant, k));
                    Add(sums, $"Precision@{k}", RankingMetrics.Precision(c.Ranked, c.Relevant, k));
                    Add(sums, $"NDCG@{k}", RankingMetrics.Ndcg(c.Ranked, c.Relevant, k));
                    Add(sums, $"MRR@{k}", RankingMetrics.ReciprocalRank(c.Ranked, c.Relevant, k));
                }

                Add(sums, "MRR", RankingMetrics.ReciprocalRank(c.Ranked, c.Relevant));
            }

            IReadOnlyDictionary<string, double> results = acc.Results();
            Assert.Equal(evaluated, acc.UsersEvaluated);
            Assert.Equal(skipped, acc.UsersSkipped);
            Assert.Equal(
                ["HR@5", "Recall@5", "Precision@5", "NDCG@5", "MRR@5", "Coverage@5",
                 "HR@20", "Recall@20", "Precision@20", "NDCG@20", "MRR@20", "Coverage@20", "MRR"],
                results.Keys);
            foreach ((string key, double sum) in sums)
            {
                // Same terms added in the same order: the averages agree bit for bit.
                Assert.Equal(sum / evaluated, results[key]);
            }

            if (evaluated == 0)
            {
                Assert.True(double.IsNaN(results["Recall@20"]));
            }

            Assert.Equal(shown5.Count / 30.0, results["Coverage@5"]);
            Assert.Equal(shown20.Count / 30.0, results["Coverage@20"]);
        });

    private static void Add(Dictionary<string, double> sums, string key, double value) =>
        sums[key] = sums.GetValueOrDefault(key) + value;
}

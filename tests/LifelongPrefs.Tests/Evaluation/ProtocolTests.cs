using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Evaluation;

public class ProtocolTests
{
    private static InteractionLog SmallLog()
    {
        // User a: baskets b1 {x, y}, b2 {y}, b3 {z, x}; user b: one basket only (not evaluated).
        var log = new InteractionLog();
        var t0 = new DateTimeOffset(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);
        void Buy(string user, string item, string basket, int day) =>
            log.Add(new InteractionEvent(user, item, t0.AddDays(day), EventKind.Purchase, 1f, 1f, basket));
        Buy("a", "x", "b1", 0);
        Buy("a", "y", "b1", 0);
        Buy("b", "x", "b9", 1);
        Buy("a", "y", "b2", 2);
        Buy("a", "z", "b3", 3);
        Buy("a", "x", "b3", 3);
        return log;
    }

    [Fact]
    public void Next_basket_trains_without_test_baskets_and_scores_with_the_earlier_history()
    {
        InteractionLog log = SmallLog();
        HoldoutProtocol protocol = HoldoutProtocol.NextBasket(log, explore: false, cutoff: 2);
        Assert.Equal(1, protocol.UserCount);
        int b3 = log.Baskets.Ids.ToList().IndexOf("b3");
        Assert.DoesNotContain(protocol.TrainingEvents, e => e.Basket == b3);
        Assert.Equal(log.Count - 2, protocol.TrainingEvents.Count);

        // PersonalPopularity on a's history {x, y, y}: ranks y, x, then z. The test basket {x, z} has x at rank 2:
        // Recall@2 = 1/2, NDCG@2 = (1/log2 3) / (1 + 1/log2 3).
        ProtocolResult result = protocol.FitAndEvaluate(new PersonalPopularity());
        Assert.Equal(0.5, result.Metrics["Recall@2"], 12);
        double dcg = 1 / Math.Log2(3);
        Assert.Equal(dcg / (1 + dcg), result.Metrics["NDCG@2"], 12);
    }

    [Fact]
    public void Explore_excludes_previously_bought_items_from_ranking_and_relevance()
    {
        HoldoutProtocol protocol = HoldoutProtocol.NextBasket(SmallLog(), explore: true, cutoff: 1);
        // Only z is new; with x and y excluded, the single slot goes to z.
        ProtocolResult result = protocol.FitAndEvaluate(new PersonalPopularity());
        Assert.Equal(1.0, result.Metrics["HR@1"]);
        Assert.Equal(1, result.Users);
    }

    [Fact]
    public void Sampled_leave_last_item_ranks_the_target_among_fresh_negatives()
    {
        // 40 items; every user buys item 0 last (held out) after two others. Item 0 is also the most popular, so
        // Popularity puts it first among any negatives: HR@1 = MRR = 1. A reversed score (anti-popularity) is last.
        var log = new InteractionLog();
        var t0 = new DateTimeOffset(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 40; i++)
        {
            log.Items.GetOrAdd($"i{i}");
        }

        for (int u = 0; u < 10; u++)
        {
            log.Add(new InteractionEvent($"u{u}", $"i{1 + u}", t0.AddDays(u), EventKind.Purchase, 1f, 1f, $"b{u}a"));
            log.Add(new InteractionEvent($"u{u}", $"i{20 + u}", t0.AddDays(u + 1), EventKind.Purchase, 1f, 1f, $"b{u}b"));
            log.Add(new InteractionEvent($"u{u}", "i0", t0.AddDays(u + 2), EventKind.Purchase, 1f, 1f, $"b{u}c"));
            log.Add(new InteractionEvent($"v{u}", "i0", t0.AddDays(u), EventKind.Purchase, 1f, 1f, $"c{u}"));
        }

        HoldoutProtocol protocol = HoldoutProtocol.LeaveLastItemSampled(log, negatives: 5, seed: 1, cutoff: 1);
        ProtocolResult result = protocol.FitAndEvaluate(new Popularity());
        Assert.Equal("leave-last-item-sampled", result.Protocol);
        Assert.Equal(10, result.Users);
        Assert.Equal(1.0, result.Metrics["HR@1"]);
        Assert.Equal(1.0, result.Metrics["MRR"]);
        Assert.Equal(result.Metrics, HoldoutProtocol.LeaveLastItemSampled(log, negatives: 5, seed: 1, cutoff: 1).FitAndEvaluate(new Popularity()).Metrics);
    }

    /// <summary>
    /// The reference numbers for next basket on Online Retail come from an independent numpy
    /// implementation (1,998 users; Popularity NDCG@20 0.069 / Recall@20 0.056; PersonalPopularity 0.292 / 0.275).
    /// Our deterministic baselines must land within ±0.003 of them.
    /// </summary>
    [Fact]
    public void Baselines_reproduce_the_reference_numbers_on_online_retail()
    {
        string path = Path.Combine(Repository.Root, OnlineRetail.SamplePath);
        Assert.True(File.Exists(path), $"Bundled data missing at {path}: the test needs samples/data (see its README).");
        InteractionLog log = OnlineRetail.Load(path).Log;
        HoldoutProtocol protocol = HoldoutProtocol.NextBasket(log, explore: false);
        Assert.Equal(1998, protocol.UserCount);

        ProtocolResult popularity = protocol.FitAndEvaluate(new Popularity());
        ProtocolResult personal = protocol.FitAndEvaluate(new PersonalPopularity());
        Assert.InRange(popularity.Metrics["NDCG@20"], 0.066, 0.072);
        Assert.InRange(popularity.Metrics["Recall@20"], 0.053, 0.059);
        Assert.InRange(personal.Metrics["NDCG@20"], 0.289, 0.295);
        Assert.InRange(personal.Metrics["Recall@20"], 0.272, 0.278);
    }
}

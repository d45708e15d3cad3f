using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// Test-then-train: hand-computed metrics on a five-basket stream, and a model that cheats whenever the protocol lets
/// it see a purchase before ranking it.
/// </summary>
public class PrequentialProtocolTests
{
    private static readonly DateTimeOffset Monday = new(2011, 1, 10, 0, 0, 0, TimeSpan.Zero);

    private static InteractionLog HandLog()
    {
        // Day 0: u0 buys i0 and i1, u1 buys i0. Day 1: u0 buys i0. Day 2: u1 buys i1; u2 (no history) buys i0.
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u0", "i0", Monday.AddHours(9), EventKind.Purchase, BasketId: "b1"));
        log.Add(new InteractionEvent("u0", "i1", Monday.AddHours(9), EventKind.Purchase, BasketId: "b1"));
        log.Add(new InteractionEvent("u1", "i0", Monday.AddHours(10), EventKind.Purchase, BasketId: "b2"));
        log.Add(new InteractionEvent("u0", "i0", Monday.AddDays(1).AddHours(9), EventKind.Purchase, BasketId: "b3"));
        log.Add(new InteractionEvent("u1", "i1", Monday.AddDays(2).AddHours(9), EventKind.Purchase, BasketId: "b4"));
        log.Add(new InteractionEvent("u2", "i0", Monday.AddDays(2).AddHours(10), EventKind.Purchase, BasketId: "b5"));
        return log;
    }

    [Fact]
    public void Each_basket_is_ranked_by_the_model_of_the_previous_steps_with_hand_computed_metrics()
    {
        // Fitted on day 0: counts i0 = 2, i1 = 1. b3 (u0 buys i0): i0 ranks first → NDCG 1. Then day 1 is learned (i0 = 3).
        // b4 (u1 buys i1): i1 ranks second → NDCG 1/log2(3). b5 is u2's first basket: no history, not evaluated.
        var protocol = PrequentialProtocol.Create(HandLog(), Monday.AddDays(1));
        var model = new CountingModel();
        PrequentialResult result = protocol.Run(model);
        Assert.Equal(2, result.Baskets);
        Assert.Equal((1 + (1 / Math.Log2(3))) / 2, result.Ndcg, 12);
        Assert.Equal(1.0, result.Recall, 12);
        PrequentialPeriod week = Assert.Single(result.Weeks);
        Assert.Equal((new DateTime(2011, 1, 10, 0, 0, 0, DateTimeKind.Utc), 2), (week.Start, week.Baskets));
        Assert.Equal(new DateTime(2011, 1, 1, 0, 0, 0, DateTimeKind.Utc), Assert.Single(result.Months).Start);

        // The fit saw day 0; each update exactly one day, in stream order, with the ids seen so far.
        Assert.Equal([3, 1, 2], model.Batches.Select(b => b.Events.Length));
        Assert.Equal([(2, 2), (2, 2), (3, 2)], model.Batches.Select(b => (b.Users, b.Items)));

        // Explore: b3 is only a re-buy (skipped); b4's i1 is new to u1 and i0 (owned) leaves the ranking → rank 1.
        PrequentialResult explore = PrequentialProtocol.Create(HandLog(), Monday.AddDays(1), explore: true).Run(new CountingModel());
        Assert.Equal((1, 1.0), (explore.Baskets, explore.Ndcg));
    }

    [Fact]
    public void A_model_that_cheats_whenever_it_can_never_gets_the_chance()
    {
        // The cheater boosts every item it has learned for the user that the history it is given does not contain: a
        // purchase it was trained on before being asked to rank it. Over a random stream it must never find one, so its
        // metrics equal the honest model's; and the test double really does cheat when handed the future.
        var random = new Random(5);
        var log = new InteractionLog();
        for (int t = 0; t < 600; t++)
        {
            int user = random.Next(12);
            log.Add(new InteractionEvent($"u{user}", $"i{random.Next(30)}", Monday.AddHours(t * 2.5), random.Next(4) == 0 ? EventKind.View : EventKind.Purchase,
                BasketId: $"b{user}-{t / 3}"));
        }

        foreach (bool explore in new[] { false, true })
        {
            var protocol = PrequentialProtocol.Create(log, Monday.AddDays(10), TimeSpan.FromHours(12), cutoff: 5, explore: explore);
            var cheater = new CountingModel { Cheat = true };
            PrequentialResult honest = protocol.Run(new CountingModel()), cheated = protocol.Run(cheater);
            Assert.True(honest.Baskets > 100, $"{honest.Baskets} baskets evaluated");
            Assert.Equal(0, cheater.Leaks);
            Assert.Equal((honest.Ndcg, honest.Recall, honest.Baskets), (cheated.Ndcg, cheated.Recall, cheated.Baskets));
            Assert.Equal(honest.Weeks, cheated.Weeks);

            // Every event was learned exactly once, in time order.
            Assert.Equal(log.Events.OrderBy(e => e.Ticks), cheater.Batches.SelectMany(b => b.Events));
        }

        var sanity = new CountingModel { Cheat = true };
        sanity.Fit([new Interaction(0, 3, 1, EventKind.Purchase, 1f, 1f, 1)], 1, 5);
        var scores = new float[5];
        sanity.Score(0, [], scores);
        Assert.Equal(3, Array.IndexOf(scores, scores.Max()));
        Assert.Equal(1, sanity.Leaks);
    }

    [Fact]
    public void Bad_arguments_are_rejected_by_name()
    {
        Assert.Equal("log", Assert.Throws<ArgumentNullException>(() => PrequentialProtocol.Create(null!, Monday)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => PrequentialProtocol.Create(HandLog(), Monday, TimeSpan.FromMilliseconds(10))).ParamName);
        Assert.Equal("cutoff", Assert.Throws<ArgumentOutOfRangeException>(() => PrequentialProtocol.Create(HandLog(), Monday, cutoff: 0)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => PrequentialProtocol.Create(HandLog(), Monday).Run(null!)).ParamName);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// The continual protocol: forward and backward measures hand-computed on a three-month log, the forward measure
/// against <see cref="MonthlyProtocol"/> when nobody is a probe, and probe events never reaching a model.
/// </summary>
public class ContinualProtocolTests
{
    private static readonly DateTime Jan = new(2011, 1, 10, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Forward_quality_backward_transfer_and_forgetting_match_the_hand_computed_values()
    {
        // January: p buys i0, q buys i1, r and s buy i2. February: p buys i1 (p is the probe: held out), q buys i2.
        // March: r and s buy i1. The counting model ranks by learned purchases, ties to the lower index.
        var log = new InteractionLog();
        foreach ((string user, string item, int month) in new[]
        {
            ("p", "i0", 0), ("q", "i1", 0), ("r", "i2", 0), ("s", "i2", 0), ("p", "i1", 1), ("q", "i2", 1), ("r", "i1", 2), ("s", "i1", 2),
        })
        {
            log.Add(new InteractionEvent(user, item, Jan.AddMonths(month), EventKind.Purchase));
        }

        var protocol = ContinualProtocol.Create(log, Jan.AddMonths(1), Jan.AddMonths(2), isProbe: (id, m) => id == "p" && m.Month == 2);
        double rank2 = 1 / Math.Log2(3);
        foreach (ContinualResult result in new[] { protocol.Incremental(new CountingModel()), protocol.Retrained(() => new CountingModel()) })
        {
            // February forward (fitted on January: i2 = 2, i0 = i1 = 1): p, owning i0, ranks i2, i1 → rank 2; q ranks i2 first.
            // February is learned without p's purchase (i2 = 3): p's probe ranks i2, i1 → rank 2 right after.
            // March forward: r and s own i2 and rank i0, i1 (a tie, lower index first) → rank 2. After March (i1 = i2 = 3)
            // the tie puts i1 first: p's February target is found at rank 1 in the end. BWT = 1 − 1/log2(3); nothing forgotten.
            Assert.Equal((1 + rank2) / 2, result.Months[0].ForwardNdcg, 12);
            Assert.Equal(rank2, result.Months[1].ForwardNdcg, 12);
            Assert.Equal((rank2, 1.0, 1), (result.Months[0].ProbeAfter, result.Months[0].ProbeFinal, result.Months[0].ProbeUsers));
            Assert.Equal(1 - rank2, result.Bwt, 12);
            Assert.Equal(1 - rank2, result.BwtNoRebuy, 12);   // p never buys i1 again
            Assert.Equal(0, result.Forgetting, 12);
            Assert.Equal(rank2, result.NewestNdcg, 12);
            Assert.Equal(((1 + rank2) / 2 + rank2) / 2, result.ForwardNdcg, 12);
        }
    }

    [Fact]
    public void Without_probe_users_the_forward_measure_is_the_monthly_protocol()
    {
        InteractionLog log = RandomShop(11);
        var continual = ContinualProtocol.Create(log, Jan.AddMonths(2), Jan.AddMonths(5), isProbe: (_, _) => false);
        var monthly = MonthlyProtocol.Create(log, Jan.AddMonths(2), Jan.AddMonths(5));
        MonthlyResult expected = monthly.Retrained(() => new ItemKnn());
        ContinualResult actual = continual.Retrained(() => new ItemKnn());
        Assert.Equal(expected.Months.Select(m => (m.Month, m.Ndcg, m.Recall, m.Users)),
            actual.Months.Select(m => (m.Month, m.ForwardNdcg, m.ForwardRecall, m.ForwardUsers)));
        Assert.True(double.IsNaN(actual.Bwt), "no probe users, no backward transfer");
    }

    [Fact]
    public void A_probe_users_purchases_of_their_month_never_reach_the_model()
    {
        InteractionLog log = RandomShop(12);
        var protocol = ContinualProtocol.Create(log, Jan.AddMonths(1), Jan.AddMonths(5));
        var model = new CountingModel();
        ContinualResult result = protocol.Incremental(model);
        Interaction[] learned = [.. model.Batches.SelectMany(b => b.Events)];
        Assert.All(learned, e =>
        {
            var time = new DateTime(e.Ticks, DateTimeKind.Utc);
            var month = new DateTime(time.Year, time.Month, 1, 0, 0, 0, DateTimeKind.Utc);
            Assert.False(month >= protocol.Months[0] && ContinualProtocol.IsProbe(log.Users.GetId(e.User), month), $"a probe event of {month:yyyy-MM} was learned");
        });

        // Everything else was learned exactly once, in time order; one model per month boundary.
        int probeEvents = log.Events.Count - learned.Length;
        Assert.True(probeEvents > 0 && result.Months.All(m => m.ProbeUsers > 0), $"{probeEvents} held-out events");
        Assert.Equal(protocol.Months.Count + 1, model.Batches.Count);
    }

    [Fact]
    public void The_default_probe_rule_picks_one_user_in_five_per_month_and_arguments_are_checked()
    {
        var month = new DateTime(2011, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.True(ContinualProtocol.IsProbe("12347", month));    // (12347 + 3) % 5 == 0
        Assert.False(ContinualProtocol.IsProbe("12348", month));
        Assert.True(ContinualProtocol.IsProbe("-3", month));
        int chosen = Enumerable.Range(0, 10_000).Count(i => ContinualProtocol.IsProbe($"user-{i}", month));
        Assert.InRange(chosen, 1_800, 2_200);
        Assert.Equal("log", Assert.Throws<ArgumentNullException>(() => ContinualProtocol.Create(null!, Jan, Jan)).ParamName);
        Assert.Equal("last", Assert.Throws<ArgumentOutOfRangeException>(() => ContinualProtocol.Create(new InteractionLog(), Jan, Jan.AddMonths(-1))).ParamName);
        Assert.Equal("cutoff", Assert.Throws<ArgumentOutOfRangeException>(() => ContinualProtocol.Create(new InteractionLog(), Jan, Jan, 0)).ParamName);
    }

    /// <summary>Six months of 30 numeric-id users buying from three overlapping item groups.</summary>
    private static InteractionLog RandomShop(int seed)
    {
        var random = new Random(seed);
        var log = new InteractionLog();
        for (int day = 0; day < 180; day++)
        {
            for (int k = 0; k < 4; k++)
            {
                int user = random.Next(30);
                for (int j = 0; j < 3; j++)
                {
                    log.Add(new InteractionEvent($"{1000 + user}", $"i{((user % 3) * 6) + random.Next(10)}", new DateTimeOffset(Jan.AddDays(day).AddHours(k)),
                        EventKind.Purchase, BasketId: $"b{day}-{k}"));
                }
            }
        }

        return log;
    }
}

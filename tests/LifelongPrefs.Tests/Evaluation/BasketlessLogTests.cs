using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>
/// Every event has a basket: a log without a basket column behaves exactly like the same log whose basket column names
/// one basket per user and time stamp, in every split, protocol and model; and when every time stamp holds one event,
/// next basket and leave last item are the same protocol.
/// </summary>
public class BasketlessLogTests
{
    private static readonly DateTimeOffset Day0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Random purchase lines in time order: each user visits at random hours and buys 1-3 lines per visit
    /// (<paramref name="linesPerVisit"/> caps it). With <paramref name="basketIds"/> every line names the basket
    /// "user@time"; without, no line has a basket id.
    /// </summary>
    private static InteractionLog RandomLog(int seed, bool basketIds, int linesPerVisit = 3)
    {
        var random = new Random(seed);
        var lines = new List<(int User, int Item, int Hour)>();
        for (int u = 0; u < 8; u++)
        {
            int visits = random.Next(0, 7);
            for (int v = 0; v < visits; v++)
            {
                // Distinct hours per user (a repeated hour would merge two visits in both logs alike).
                int hour = (v * 30) + random.Next(30);
                int n = random.Next(1, linesPerVisit + 1);
                for (int k = 0; k < n; k++)
                {
                    lines.Add((u, random.Next(12), hour));
                }
            }
        }

        var log = new InteractionLog();
        foreach (var (user, item, hour) in lines.OrderBy(l => l.Hour))
        {
            DateTimeOffset time = Day0.AddHours(hour);
            log.Add(new InteractionEvent($"u{user}", $"i{item}", time, EventKind.Purchase, 1f, 2f, basketIds ? $"u{user}@{time.UtcTicks}" : null));
        }

        return log;
    }

    private static IEnumerable<ISavableRecommender> Models() =>
    [
        new Popularity(),
        new PersonalPopularity(),
        new ItemKnn(),
        new RepeatAware(new RepeatAwareOptions { Hidden = 8, MaxEpochs = 3, Patience = 3, UpdateEpochs = 1, BatchSize = 16,
            ExploreCandidates = 5, RandomNegatives = 4, ValidationUsers = 3, Seed = 5 }),
    ];

    /// <summary>An event without its basket index, which is the only thing the two logs are allowed to differ in.</summary>
    private static (int, int, long, EventKind, float, float) Content(Interaction e) => (e.User, e.Item, e.Ticks, e.Kind, e.Quantity, e.Value);

    private static object Describe(HoldoutProtocol protocol) => new
    {
        protocol.UserCount,
        Train = string.Join(' ', protocol.TrainingEvents.Select(Content)),
        Cases = string.Join(' ', protocol.Cases.Select(c => $"{c.User}:{string.Join(',', c.History.Select(Content))}->{string.Join(',', c.Relevant)}")),
    };

    private static object Describe(IReadOnlyList<Basket> baskets) => string.Join(' ', baskets.Select(b => $"{b.Ticks}:{string.Join(',', b.Items)}"));

    [Property(MaxTest = 25)]
    public void A_log_without_baskets_splits_like_explicit_per_time_stamp_baskets(PositiveInt seed)
    {
        InteractionLog none = RandomLog(seed.Get, basketIds: false), named = RandomLog(seed.Get, basketIds: true);
        Assert.All(none.Events, e => Assert.Equal(-1, e.Basket));

        BasketSplit a = Splits.LeaveLastBasketOut(none, 2), b = Splits.LeaveLastBasketOut(named, 2);
        Assert.Equal(b.ExcludedUsers, a.ExcludedUsers);
        Assert.Equal(b.Users.Select(u => (u.User, Describe(u.History), Describe([u.Validation]), Describe([u.Test]))),
            a.Users.Select(u => (u.User, Describe(u.History), Describe([u.Validation]), Describe([u.Test]))));

        ItemSplit c = Splits.LeaveLastItemOut(none), d = Splits.LeaveLastItemOut(named);
        Assert.Equal(d.ExcludedUsers, c.ExcludedUsers);
        Assert.Equal(d.Users.Select(u => (u.User, string.Join(',', u.History), u.Validation, u.Test)),
            c.Users.Select(u => (u.User, string.Join(',', u.History), u.Validation, u.Test)));

        Assert.Equal(UserBaskets.Build(named).Select(Describe), UserBaskets.Build(none).Select(Describe));
        Assert.Equal(SequenceBuilder.UserSequences(named), SequenceBuilder.UserSequences(none));
        EventSplit cutNone = Splits.TemporalCut(none, Day0.AddHours(100)), cutNamed = Splits.TemporalCut(named, Day0.AddHours(100));
        Assert.Equal(cutNamed.Train, cutNone.Train);
        Assert.Equal(cutNamed.Test, cutNone.Test);
        RfmFeatures rfmNone = RfmFeatures.Compute(none, Day0.AddHours(150)), rfmNamed = RfmFeatures.Compute(named, Day0.AddHours(150));
        Assert.Equal(rfmNamed.Frequency, rfmNone.Frequency);

        Assert.Equal(Describe(HoldoutProtocol.NextBasket(named, explore: false, minBaskets: 2)), Describe(HoldoutProtocol.NextBasket(none, explore: false, minBaskets: 2)));
        Assert.Equal(Describe(HoldoutProtocol.LeaveLastItem(named)), Describe(HoldoutProtocol.LeaveLastItem(none)));
    }

    [Fact]
    public void A_log_without_baskets_gives_every_model_the_metrics_of_explicit_per_time_stamp_baskets()
    {
        InteractionLog none = RandomLog(11, basketIds: false), named = RandomLog(11, basketIds: true);
        Func<InteractionLog, HoldoutProtocol>[] protocols =
        [
            log => HoldoutProtocol.NextBasket(log, explore: false, cutoff: 5),
            log => HoldoutProtocol.NextBasket(log, explore: true, cutoff: 5),
            log => HoldoutProtocol.LeaveLastItem(log, cutoff: 5),
        ];
        foreach (Func<InteractionLog, HoldoutProtocol> protocol in protocols)
        {
            HoldoutProtocol a = protocol(none), b = protocol(named);
            Assert.True(a.UserCount > 3, "the random log must evaluate a few users");
            foreach (var (modelA, modelB) in Models().Zip(Models()))
            {
                ProtocolResult resultA = a.FitAndEvaluate(modelA), resultB = b.FitAndEvaluate(modelB);
                Assert.Equal(resultB.Users, resultA.Users);
                Assert.Equal(resultB.Metrics, resultA.Metrics);
            }
        }
    }

    [Fact]
    public void Next_basket_on_a_log_without_baskets_holds_out_only_the_last_visit()
    {
        // The bug this guards: every event had basket -1, so "the test basket -1" held out the whole log.
        InteractionLog log = RandomLog(5, basketIds: false);
        HoldoutProtocol protocol = HoldoutProtocol.NextBasket(log, explore: false);
        int heldOut = 0;
        foreach (var (user, history, _) in protocol.Cases)
        {
            long last = log.Events.Where(e => e.User == user).Max(e => e.Ticks);
            heldOut += log.Events.Count(e => e.User == user && e.Ticks == last);
            Assert.DoesNotContain(history, e => e.Ticks == last);
            Assert.Equal(log.Events.Count(e => e.User == user && e.Ticks != last), history.Length);
        }

        Assert.True(protocol.UserCount > 0);
        Assert.Equal(log.Count - heldOut, protocol.TrainingEvents.Count);

        // Leave last item holds out the target's lines in the user's last visit; other lines of that item stay.
        HoldoutProtocol lastItem = HoldoutProtocol.LeaveLastItem(log);
        int lines = 0;
        foreach (var (user, _, relevant) in lastItem.Cases)
        {
            long last = log.Events.Where(e => e.User == user).Max(e => e.Ticks);
            lines += log.Events.Count(e => e.User == user && e.Ticks == last && e.Item == relevant[0]);
        }

        Assert.True(lastItem.UserCount > 0);
        Assert.Equal(log.Count - lines, lastItem.TrainingEvents.Count);
    }

    [Property(MaxTest = 25)]
    public void With_one_event_per_time_stamp_next_basket_is_leave_last_item(PositiveInt seed)
    {
        InteractionLog log = RandomLog(seed.Get, basketIds: false, linesPerVisit: 1);
        HoldoutProtocol nextBasket = HoldoutProtocol.NextBasket(log, explore: false, cutoff: 10);
        HoldoutProtocol lastItem = HoldoutProtocol.LeaveLastItem(log, cutoff: 10);
        Assert.Equal(Describe(lastItem), Describe(nextBasket));
        Assert.Equal(Describe(lastItem), Describe(HoldoutProtocol.NextBasket(RandomLog(seed.Get, basketIds: true, linesPerVisit: 1), explore: false, cutoff: 10)));
    }

    [Fact]
    public void With_one_event_per_time_stamp_next_basket_and_leave_last_item_give_the_same_metrics()
    {
        InteractionLog log = RandomLog(21, basketIds: false, linesPerVisit: 1);
        HoldoutProtocol nextBasket = HoldoutProtocol.NextBasket(log, explore: false, cutoff: 5);
        HoldoutProtocol lastItem = HoldoutProtocol.LeaveLastItem(log, cutoff: 5);
        Assert.True(nextBasket.UserCount > 3, "the random log must evaluate a few users");
        foreach (var (modelA, modelB) in Models().Zip(Models()))
        {
            ProtocolResult a = nextBasket.FitAndEvaluate(modelA), b = lastItem.FitAndEvaluate(modelB);
            Assert.Equal(b.Users, a.Users);
            Assert.Equal(b.Metrics, a.Metrics);
        }
    }
}

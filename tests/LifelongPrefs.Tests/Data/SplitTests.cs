using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>Basket building and split properties on hand-made logs, random logs and the real file.</summary>
public class SplitTests
{
    private static readonly DateTimeOffset Day0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static InteractionLog HandLog()
    {
        var log = new InteractionLog();

        // u1: three baskets; b2 repeats item x (deduplicated) and its lines are interleaved with u2's basket.
        log.Add(new InteractionEvent("u1", "x", Day0, EventKind.Purchase, BasketId: "b1"));
        log.Add(new InteractionEvent("u1", "y", Day0, EventKind.Purchase, BasketId: "b1"));
        log.Add(new InteractionEvent("u1", "z", Day0.AddDays(1), EventKind.Purchase, BasketId: "b2"));
        log.Add(new InteractionEvent("u2", "x", Day0.AddDays(1), EventKind.Purchase, BasketId: "c1"));
        log.Add(new InteractionEvent("u1", "x", Day0.AddDays(1), EventKind.Purchase, BasketId: "b2"));
        log.Add(new InteractionEvent("u1", "z", Day0.AddDays(1), EventKind.Purchase, BasketId: "b2"));
        log.Add(new InteractionEvent("u1", "w", Day0.AddDays(2), EventKind.View, BasketId: "b3"));
        log.Add(new InteractionEvent("u1", "y", Day0.AddDays(3), EventKind.Purchase, BasketId: "b4"));
        log.Add(new InteractionEvent("u2", "y", Day0.AddDays(4), EventKind.Purchase, BasketId: "c2"));
        return log;
    }

    [Fact]
    public void Baskets_are_distinct_items_in_first_occurrence_order()
    {
        IReadOnlyList<Basket>[] baskets = UserBaskets.Build(HandLog());
        Assert.Equal(3, baskets[0].Count); // the view basket b3 does not count
        Assert.Equal([0, 1], baskets[0][0].Items);
        Assert.Equal([2, 0], baskets[0][1].Items);
        Assert.Equal([1], baskets[0][2].Items);
        Assert.Equal([0, 1, 2, 0, 1], UserBaskets.Flatten(baskets[0]));
    }

    [Fact]
    public void Leave_last_basket_out_by_hand()
    {
        BasketSplit split = Splits.LeaveLastBasketOut(HandLog(), minBaskets: 3);
        Assert.Equal(1, split.ExcludedUsers); // u2 has two baskets
        UserBasketSplit u1 = Assert.Single(split.Users);
        Assert.Equal(0, u1.User);
        Assert.Equal([0, 1], Assert.Single(u1.History).Items);
        Assert.Equal([2, 0], u1.Validation.Items);
        Assert.Equal([1], u1.Test.Items);

        BasketSplit two = Splits.LeaveLastBasketOut(HandLog(), minBaskets: 2);
        Assert.Equal(2, two.Users.Count);
        Assert.Empty(two.Users[1].History);
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.LeaveLastBasketOut(HandLog(), minBaskets: 1));
    }

    [Fact]
    public void Leave_last_item_out_by_hand()
    {
        ItemSplit split = Splits.LeaveLastItemOut(HandLog(), minItems: 3);
        UserItemSplit u1 = Assert.Single(split.Users);
        Assert.Equal([0, 1, 2], u1.History);
        Assert.Equal(0, u1.Validation);
        Assert.Equal(1, u1.Test);
        Assert.Equal(1, split.ExcludedUsers);
    }

    [Fact]
    public void Temporal_cut_keeps_baskets_whole()
    {
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u", "a", Day0, EventKind.Purchase, BasketId: "b1"));
        log.Add(new InteractionEvent("u", "b", Day0.AddHours(2), EventKind.Purchase, BasketId: "b2"));
        log.Add(new InteractionEvent("u", "c", Day0.AddHours(4), EventKind.Purchase, BasketId: "b2")); // b2 straddles the cut
        log.Add(new InteractionEvent("u", "d", Day0.AddHours(5), EventKind.Purchase));
        EventSplit split = Splits.TemporalCut(log, Day0.AddHours(3));
        Assert.Equal([0, 1, 2], split.Train);
        Assert.Equal([3], split.Test);
    }

    [Fact]
    public void A_log_rejects_an_appended_time_stamp_outside_the_DateTime_range()
    {
        // The basket rule keys a time-stamp basket by ~ticks, which stays apart from basket indices only for ticks >= 0.
        InteractionLog log = HandLog();
        int count = log.Count;
        foreach (long ticks in new[] { -1L, DateTime.MaxValue.Ticks + 1 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => log.Append(log.Events[0] with { Ticks = ticks }));
            Assert.Contains(ticks.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
            Assert.Equal(count, log.Count);
        }

        log.Append(log.Events[0] with { Ticks = DateTime.MaxValue.Ticks });
        Assert.Equal(count + 1, log.Count);
    }

    [Fact]
    public void Rolling_monthly_windows_by_hand()
    {
        var log = new InteractionLog();
        for (int m = 0; m < 4; m++)
        {
            log.Add(new InteractionEvent("u", $"i{m}", new DateTimeOffset(2024, 1 + m, 15, 0, 0, 0, TimeSpan.Zero), EventKind.Purchase));
        }

        IReadOnlyList<TimeWindow> sliding = Splits.RollingMonthly(log, trainMonths: 2);
        Assert.Equal(2, sliding.Count);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), sliding[0].TrainStart);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero), sliding[0].TestStart);
        Assert.Equal([0, 1], sliding[0].Split.Train);
        Assert.Equal([2], sliding[0].Split.Test);
        Assert.Equal([1, 2], sliding[1].Split.Train);
        Assert.Equal([3], sliding[1].Split.Test);

        IReadOnlyList<TimeWindow> expanding = Splits.RollingMonthly(log, trainMonths: 2, expanding: true);
        Assert.Equal([0, 1, 2], expanding[1].Split.Train);
        Assert.Empty(Splits.RollingMonthly(new InteractionLog(), 1));
    }

    /// <summary>Random logs: several users, baskets with 1-4 lines at random times (lines of a basket share it).</summary>
    private static InteractionLog RandomLog(int seed)
    {
        var random = new Random(seed);
        var lines = new List<InteractionEvent>();
        int basket = 0;
        for (int u = 0; u < 6; u++)
        {
            int baskets = random.Next(0, 6);
            for (int b = 0; b < baskets; b++, basket++)
            {
                var time = Day0.AddHours(random.Next(0, 200));
                int n = random.Next(1, 5);
                for (int k = 0; k < n; k++)
                {
                    lines.Add(new InteractionEvent($"u{u}", $"i{random.Next(0, 8)}", time, EventKind.Purchase, BasketId: $"b{basket}"));
                }
            }
        }

        var log = new InteractionLog();
        foreach (InteractionEvent e in lines.OrderBy(e => e.Timestamp))
        {
            log.Add(e);
        }

        return log;
    }

    [Property(MaxTest = 60)]
    public void Basket_split_properties(PositiveInt seedArg, PositiveInt minArg)
    {
        InteractionLog log = RandomLog(seedArg.Get);
        int minBaskets = 2 + (minArg.Get % 3);
        BasketSplit split = Splits.LeaveLastBasketOut(log, minBaskets);
        IReadOnlyList<Basket>[] all = UserBaskets.Build(log);
        int eligible = all.Count(b => b.Count >= minBaskets);
        Assert.Equal(eligible, split.Users.Count);
        Assert.Equal(all.Length - eligible, split.ExcludedUsers);
        foreach (UserBasketSplit u in split.Users)
        {
            Assert.True(u.History.Count + 2 >= minBaskets);

            // No held-out basket appears in training (basket integrity) and chronology holds.
            Assert.DoesNotContain(u.History, b => b.Id == u.Test.Id || b.Id == u.Validation.Id);
            Assert.NotEqual(u.Validation.Id, u.Test.Id);
            Assert.All(u.History, b => Assert.True(b.Ticks <= u.Validation.Ticks));
            Assert.True(u.Validation.Ticks <= u.Test.Ticks);

            // The test basket holds exactly the distinct items its events have.
            var expected = log.Events.Where(e => e.Basket == u.Test.Id).Select(e => e.Item).Distinct().ToArray();
            Assert.Equal(expected, u.Test.Items);
            Assert.All(log.Events.Where(e => e.Basket == u.Test.Id), e => Assert.Equal(u.User, e.User));
        }
    }

    [Property(MaxTest = 60)]
    public void Temporal_cut_properties(PositiveInt seedArg, PositiveInt hourArg)
    {
        InteractionLog log = RandomLog(seedArg.Get);
        EventSplit split = Splits.TemporalCut(log, Day0.AddHours(hourArg.Get % 200));
        Assert.Equal(log.Count, split.Train.Count + split.Test.Count);
        Assert.Empty(split.Train.Intersect(split.Test));
        var trainBaskets = split.Train.Select(i => log.Events[i].Basket).ToHashSet();
        Assert.DoesNotContain(split.Test, i => trainBaskets.Contains(log.Events[i].Basket));
        foreach (int t in split.Test)
        {
            Interaction test = log.Events[t];
            Assert.All(split.Train.Where(i => log.Events[i].User == test.User), i => Assert.True(log.Events[i].Ticks <= test.Ticks));
        }
    }

    [Fact]
    public void Real_file_headline_split()
    {
        InteractionLog log = SampleFiles.Default.Log;
        BasketSplit split = Splits.LeaveLastBasketOut(log, minBaskets: 3);
        Assert.Equal(log.Users.Count, split.Users.Count + split.ExcludedUsers);
        // python over the same cleaning: 1,506 users with one invoice, 831 with two, 1,998 with three or more.
        Assert.Equal(1_998, split.Users.Count);
        Assert.Equal(1_506 + 831, split.ExcludedUsers);
        foreach (UserBasketSplit u in split.Users)
        {
            Assert.True(u.History.Count >= 1);
            Assert.True(u.History[^1].Ticks <= u.Validation.Ticks && u.Validation.Ticks <= u.Test.Ticks);
        }

        // Deterministic: a second split is identical.
        BasketSplit again = Splits.LeaveLastBasketOut(log, minBaskets: 3);
        Assert.Equal(split.Users.Select(u => (u.User, u.Test.Id, u.Validation.Id)), again.Users.Select(u => (u.User, u.Test.Id, u.Validation.Id)));
    }
}

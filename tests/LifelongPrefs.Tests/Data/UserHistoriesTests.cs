using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Data;

/// <summary>
/// The history store against a LINQ oracle of its order rule (group each user's events by basket key, baskets by
/// earliest time then first arrival, events in arrival order), and its append, removal and rebuild properties.
/// </summary>
public class UserHistoriesTests
{
    private const int Users = 5;

    /// <summary>
    /// Random events out of time order: few time stamps (many ties), and a mix of explicit baskets (whose lines may
    /// carry different times, so a late line can move its basket earlier) and events without a basket id.
    /// </summary>
    private static Interaction[] RandomEvents(int seed, int count)
    {
        var random = new Random(seed);
        var events = new Interaction[count];
        for (int i = 0; i < count; i++)
        {
            int basket = random.Next(3) == 0 ? -1 : random.Next(12);
            events[i] = new Interaction(random.Next(Users), random.Next(8), random.Next(10), EventKind.Purchase, 1f, 0f, basket);
        }

        return events;
    }

    /// <summary>The oracle: each user's (events, basket offsets, basket starts), computed independently of the store.</summary>
    private static (Interaction[] Events, int[] Offsets, long[] Starts)[] Expected(IReadOnlyList<Interaction> events, int users)
    {
        var result = new (Interaction[], int[], long[])[users];
        for (int u = 0; u < users; u++)
        {
            // GroupBy keeps groups in first-appearance order and elements in input order.
            var baskets = events.Select((e, i) => (Event: e, Arrival: i)).Where(x => x.Event.User == u)
                .GroupBy(x => x.Event.Basket >= 0 ? ("id", (long)x.Event.Basket) : ("time", x.Event.Ticks))
                .OrderBy(g => g.Min(x => x.Event.Ticks)).ThenBy(g => g.Min(x => x.Arrival))
                .ToArray();
            var offsets = new List<int> { 0 };
            foreach (var basket in baskets)
            {
                offsets.Add(offsets[^1] + basket.Count());
            }

            result[u] = ([.. baskets.SelectMany(g => g.Select(x => x.Event))], [.. offsets], [.. baskets.Select(g => g.Min(x => x.Event.Ticks))]);
        }

        return result;
    }

    private static void AssertSame((Interaction[] Events, int[] Offsets, long[] Starts)[] expected, UserHistories actual)
    {
        Assert.Equal(expected.Length, actual.UserCount);
        Assert.Equal(expected.Sum(x => x.Events.Length), actual.EventCount);
        for (int u = 0; u < expected.Length; u++)
        {
            Assert.Equal(expected[u].Events, actual.EventsOf(u).ToArray());
            Assert.Equal(expected[u].Offsets, actual.BasketOffsets(u).ToArray());
            Assert.Equal(expected[u].Starts, actual.BasketStarts(u).ToArray());
            Assert.Equal(expected[u].Starts.Length, actual.BasketCount(u));
            for (int b = 0; b < actual.BasketCount(u); b++)
            {
                Assert.Equal(expected[u].Events[expected[u].Offsets[b]..expected[u].Offsets[b + 1]], actual.Basket(u, b).ToArray());
            }
        }
    }

    private static void AssertSame(UserHistories expected, UserHistories actual) =>
        AssertSame([.. Enumerable.Range(0, expected.UserCount).Select(u =>
            (expected.EventsOf(u).ToArray(), expected.BasketOffsets(u).ToArray(), expected.BasketStarts(u).ToArray()))], actual);

    [Property(MaxTest = 100)]
    public void Building_at_once_matches_the_oracle(PositiveInt seed, PositiveInt size)
    {
        Interaction[] events = RandomEvents(seed.Get, size.Get % 120);
        AssertSame(Expected(events, Users), UserHistories.FromEvents(events, Users));
    }

    [Property(MaxTest = 100)]
    public void Appending_in_any_chunking_equals_building_at_once(PositiveInt seed, PositiveInt size)
    {
        Interaction[] events = RandomEvents(seed.Get, size.Get % 120);
        var random = new Random(seed.Get ^ 0x5bd1);
        var chunked = new UserHistories();
        chunked.EnsureUsers(Users);
        int at = 0;
        while (at < events.Length)
        {
            // Chunks of 0..7 events through each of the three append entry points.
            int length = Math.Min(random.Next(8), events.Length - at);
            switch (random.Next(3))
            {
                case 0:
                    chunked.Append(events.AsSpan(at, length));
                    break;
                case 1:
                    chunked.Append(events[at..(at + length)].ToList());
                    break;
                default:
                    for (int i = at; i < at + length; i++)
                    {
                        chunked.Append(events[i]);
                    }

                    break;
            }

            at += length;
        }

        AssertSame(UserHistories.FromEvents(events, Users), chunked);
    }

    [Property(MaxTest = 100)]
    public void Every_event_appears_exactly_once_in_its_users_history(PositiveInt seed, PositiveInt size)
    {
        // Events made distinct by their quantity, so "exactly once" is a statement about each one.
        Interaction[] events = [.. RandomEvents(seed.Get, size.Get % 120).Select((e, i) => e with { Quantity = i + 1 })];
        UserHistories histories = UserHistories.FromEvents(events, Users);
        var stored = new List<Interaction>();
        for (int u = 0; u < Users; u++)
        {
            ReadOnlySpan<Interaction> mine = histories.EventsOf(u);
            foreach (Interaction e in mine)
            {
                Assert.Equal(u, e.User);
            }

            // Each basket holds one key, and no key appears in two baskets.
            ReadOnlySpan<int> offsets = histories.BasketOffsets(u);
            var keys = new HashSet<long>();
            for (int b = 0; b + 1 < offsets.Length; b++)
            {
                long key = mine[offsets[b]].BasketKey;
                Assert.True(keys.Add(key));
                Assert.All(mine[offsets[b]..offsets[b + 1]].ToArray(), e => Assert.Equal(key, e.BasketKey));
            }

            stored.AddRange(mine.ToArray());
        }

        Assert.Equal(events.OrderBy(e => e.Quantity), stored.OrderBy(e => e.Quantity));
    }

    [Property(MaxTest = 100)]
    public void Removing_a_user_removes_exactly_that_user(PositiveInt seed, PositiveInt size, PositiveInt who)
    {
        Interaction[] events = RandomEvents(seed.Get, size.Get % 120);
        int user = who.Get % Users;
        UserHistories histories = UserHistories.FromEvents(events, Users);
        int removed = histories.Remove(user);

        Assert.Equal(events.Count(e => e.User == user), removed);
        var expected = Expected([.. events.Where(e => e.User != user)], Users);
        AssertSame(expected, histories);
        Assert.Equal(0, histories.Remove(user));

        // The user's basket keys went too: their events appended again form the history they would have had alone.
        Interaction[] again = [.. events.Where(e => e.User == user)];
        histories.Append(again);
        Assert.Equal(Expected(again, Users)[user].Events, histories.EventsOf(user).ToArray());
        Assert.Equal(Expected(again, Users)[user].Offsets, histories.BasketOffsets(user).ToArray());
    }

    [Property(MaxTest = 60)]
    public void Appending_each_users_stored_events_rebuilds_the_store(PositiveInt seed, PositiveInt size)
    {
        // What a checkpoint does: write EventsOf(u) per user, read them back by appending.
        UserHistories original = UserHistories.FromEvents(RandomEvents(seed.Get, size.Get % 120), Users);
        var rebuilt = new UserHistories(Users);
        for (int u = Users - 1; u >= 0; u--)
        {
            rebuilt.Append(original.EventsOf(u));
        }

        AssertSame(original, rebuilt);
    }

    [Fact]
    public void A_users_events_without_a_basket_id_at_one_time_stamp_form_one_basket()
    {
        // User 0: two lines at t=100 without basket, basket 100 (an id equal to the ticks: a different basket), one
        // line at t=200. User 1 at t=100 is a basket of its own.
        Interaction[] events =
        [
            new(0, 1, 100, EventKind.Purchase, 1f, 0f, -1),
            new(1, 1, 100, EventKind.Purchase, 1f, 0f, -1),
            new(0, 2, 100, EventKind.Purchase, 1f, 0f, 100),
            new(0, 3, 100, EventKind.Purchase, 1f, 0f, -1),
            new(0, 4, 200, EventKind.Purchase, 1f, 0f, -1),
        ];
        UserHistories histories = UserHistories.FromEvents(events, 2);
        Assert.Equal([1, 3, 2, 4], histories.EventsOf(0).ToArray().Select(e => e.Item));
        Assert.Equal([0, 2, 3, 4], histories.BasketOffsets(0).ToArray());
        Assert.Equal([100L, 100L, 200L], histories.BasketStarts(0).ToArray());
        Assert.Equal(1, histories.BasketCount(1));
    }

    [Fact]
    public void A_late_line_moves_its_basket_to_its_earliest_time()
    {
        // Basket 7 starts at t=50, basket 8 at t=40; a line of basket 7 at t=30 makes it the first basket.
        var histories = new UserHistories(1);
        histories.Append(new Interaction(0, 1, 50, EventKind.Purchase, 1f, 0f, 7));
        histories.Append(new Interaction(0, 2, 40, EventKind.Purchase, 1f, 0f, 8));
        Assert.Equal([2, 1], histories.EventsOf(0).ToArray().Select(e => e.Item));
        histories.Append(new Interaction(0, 3, 30, EventKind.Purchase, 1f, 0f, 7));
        Assert.Equal([1, 3, 2], histories.EventsOf(0).ToArray().Select(e => e.Item));
        Assert.Equal([0, 2, 3], histories.BasketOffsets(0).ToArray());
        Assert.Equal([30L, 40L], histories.BasketStarts(0).ToArray());
    }

    [Fact]
    public void A_rejected_append_changes_nothing_and_names_the_bad_value()
    {
        Interaction good = new(0, 1, 10, EventKind.Purchase, 1f, 0f, -1);
        var histories = new UserHistories(2);
        histories.Append(good);
        (Interaction Bad, string Value)[] cases =
        [
            (good with { User = 2 }, "user index 2"),
            (good with { User = -1 }, "user index -1"),
            (good with { Item = -3 }, "item index -3"),
            (good with { Basket = -2 }, "basket index -2"),
            (good with { Ticks = -1 }, "time stamp -1"),
        ];
        foreach (var (bad, value) in cases)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => histories.Append([good, good, bad]));
            Assert.Contains("Event 2", error.Message, StringComparison.Ordinal);
            Assert.Contains(value, error.Message, StringComparison.Ordinal);
            Assert.Equal("events", error.ParamName);
            Assert.Equal("interaction", Assert.Throws<ArgumentOutOfRangeException>(() => histories.Append(bad)).ParamName);
            Assert.Equal(1, histories.EventCount);
            Assert.Equal([good], histories.EventsOf(0).ToArray());
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => histories.EventsOf(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => histories.Basket(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => histories.Remove(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UserHistories(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => histories.EnsureUsers(-1));
        Assert.Throws<ArgumentNullException>(() => histories.Append((IReadOnlyList<Interaction>)null!));
    }

    [Fact]
    public void A_huge_user_count_allocates_nothing_until_events_arrive()
    {
        var histories = new UserHistories(int.MaxValue);
        Assert.Equal(0, histories.EventsOf(int.MaxValue - 1).Length);
        Assert.Equal([0], histories.BasketOffsets(int.MaxValue - 1).ToArray());
        histories.Append(new Interaction(3, 0, 0, EventKind.View, 1f, 0f, -1));
        Assert.Equal(1, histories.EventsOf(3).Length);
    }

    [Fact]
    public void Reading_and_appending_to_the_open_basket_allocate_nothing()
    {
        // 1,025 lines of one basket: the event buffer has doubled to 2,048, so the probe's appends need no growth.
        var histories = new UserHistories(2);
        Interaction line = new(1, 3, 500, EventKind.Purchase, 1f, 0f, 9);
        for (int i = 0; i < 1025; i++)
        {
            histories.Append(line);
        }

        long sink = 0;
        Allocations.AssertNone("reads", () =>
        {
            sink += histories.EventsOf(1).Length + histories.BasketOffsets(1)[^1] + histories.BasketStarts(1)[0] + histories.Basket(1, 0).Length;
            sink += histories.EventsOf(0).Length + histories.BasketOffsets(0).Length;
        });
        Allocations.AssertNone("an append to the open basket", () => histories.Append(line));
        Assert.True(sink > 0);
        Assert.Equal(1, histories.BasketCount(1));
    }

    [Fact]
    public void Clear_empties_every_history_and_keeps_the_users()
    {
        UserHistories histories = UserHistories.FromEvents(RandomEvents(3, 50), Users);
        histories.Clear();
        Assert.Equal(Users, histories.UserCount);
        Assert.Equal(0, histories.EventCount);
        Interaction[] events = RandomEvents(4, 50);
        histories.Append(events);
        AssertSame(Expected(events, Users), histories);
    }

    [Fact]
    public void From_log_keeps_the_kind_asked_for_and_the_logs_users()
    {
        var log = new InteractionLog();
        var t0 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        log.Add(new InteractionEvent("a", "x", t0, EventKind.View));
        log.Add(new InteractionEvent("a", "y", t0, EventKind.Purchase));
        log.Add(new InteractionEvent("b", "x", t0.AddDays(1), EventKind.View));
        UserHistories purchases = UserHistories.FromLog(log, EventKind.Purchase);
        Assert.Equal(2, purchases.UserCount);
        Assert.Equal([log.Events[1]], purchases.EventsOf(0).ToArray());
        Assert.Equal(0, purchases.EventsOf(1).Length);
        UserHistories all = UserHistories.FromLog(log);
        Assert.Equal(3, all.EventCount);
        Assert.Equal(1, all.BasketCount(0)); // the view and the purchase share a's time stamp
    }
}

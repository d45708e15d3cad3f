using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The sequences and item sets the models derive from <see cref="UserHistories"/> against the per-model appending
/// rules they replaced, written out here as the oracle: on a log in time order with each basket's lines together
/// (how the loaders deliver events), the derived views are exactly what the models' own copies held.
/// </summary>
public class HistoryViewsTests
{
    private const int Users = 4, Items = 6;

    /// <summary>A log in time order: per user a few baskets (some without basket id), repeats, returns and zero quantities.</summary>
    private static List<Interaction> TimeOrderedLog(int seed, int baskets)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        long ticks = 0;
        for (int b = 0; b < baskets; b++)
        {
            int user = random.Next(Users), lines = 1 + random.Next(4);
            bool withId = random.Next(3) > 0;
            ticks += 1 + random.Next(3);
            for (int line = 0; line < lines; line++)
            {
                EventKind kind = random.Next(6) == 0 ? EventKind.Return : EventKind.Purchase;
                float quantity = random.Next(8) == 0 ? 0f : 1f;
                events.Add(new Interaction(user, random.Next(Items), ticks, kind, quantity, 1f, withId ? b : -1));
            }
        }

        return events;
    }

    private static bool Positive(Interaction e) => e.Kind != EventKind.Return && e.Quantity > 0f;

    /// <summary>Whether <paramref name="derive"/> gives every user of a random time-ordered log what <paramref name="oracle"/> computes from their positive events.</summary>
    private static bool EveryUser(int seed, int baskets, Func<List<Interaction>, List<int>> oracle, Action<UserHistories, int, List<int>> derive)
    {
        List<Interaction> events = TimeOrderedLog(seed, baskets % 40);
        UserHistories histories = UserHistories.FromEvents(events, Users);
        bool all = true;
        for (int u = 0; u < Users; u++)
        {
            var actual = new List<int>();
            derive(histories, u, actual);
            all &= oracle([.. events.Where(e => e.User == u && Positive(e))]).SequenceEqual(actual);
        }

        return all;
    }

    [Property(MaxTest = 200)]
    public Property The_basket_sequence_is_the_old_open_basket_flattening(PositiveInt seed, PositiveInt baskets) =>
        EveryUser(seed.Get, baskets.Get, positives =>
        {
            // The rule SASRec's own sequences followed: a basket is open while positive events share its key.
            var expected = new List<int>();
            var open = new HashSet<int>();
            long key = long.MinValue;
            foreach (Interaction e in positives)
            {
                if (e.BasketKey != key)
                {
                    (key, open) = (e.BasketKey, []);
                }

                if (open.Add(e.Item))
                {
                    expected.Add(e.Item);
                }
            }

            return expected;
        }, (histories, u, actual) => HistoryViews.BasketSequence(histories, u, actual, [])).Label("every user's flattened sequence");

    [Property(MaxTest = 200)]
    public Property The_item_sequence_drops_only_immediate_repeats(PositiveInt seed, PositiveInt baskets) =>
        EveryUser(seed.Get, baskets.Get, positives =>
        {
            var expected = new List<int>();
            foreach (Interaction e in positives)
            {
                if (expected.Count == 0 || expected[^1] != e.Item)
                {
                    expected.Add(e.Item);
                }
            }

            return expected;
        }, (histories, u, actual) => HistoryViews.ItemSequence(histories.EventsOf(u), actual)).Label("every user's item sequence");

    [Property(MaxTest = 200)]
    public Property Positive_baskets_and_item_sets_match_a_direct_count(PositiveInt seed, PositiveInt baskets)
    {
        List<Interaction> events = TimeOrderedLog(seed.Get, baskets.Get % 40);
        UserHistories histories = UserHistories.FromEvents(events, Users);
        UserItemSets sets = UserItemSets.FromHistories(histories);
        bool all = sets.UserCount == Users;
        for (int u = 0; u < Users; u++)
        {
            List<Interaction> positives = [.. events.Where(e => e.User == u && Positive(e))];
            long[] keys = [.. positives.Select(e => e.BasketKey).Distinct()];
            int count = HistoryViews.PositiveBaskets(histories.EventsOf(u), out long last);
            all &= count == keys.Length && last == (keys.Length == 0 ? long.MinValue : keys[^1]);
            all &= sets.Of(u).Order().SequenceEqual(positives.Select(e => e.Item).Distinct().Order());
        }

        return all.Label("basket counts, last keys and item sets");
    }

    [Fact]
    public void The_basket_counter_numbers_key_changes_from_one()
    {
        var counter = default(HistoryViews.BasketCounter);
        Assert.Equal(long.MinValue, counter.Key);
        int[] numbers =
        [
            counter.Next(new Interaction(0, 1, 5, EventKind.Purchase, 1f, 1f, 7)),
            counter.Next(new Interaction(0, 2, 6, EventKind.Purchase, 1f, 1f, 7)),
            counter.Next(new Interaction(0, 3, 9, EventKind.Purchase, 1f, 1f, -1)),
            counter.Next(new Interaction(0, 4, 9, EventKind.Purchase, 1f, 1f, -1)),
            counter.Next(new Interaction(0, 5, 10, EventKind.Purchase, 1f, 1f, 7)),
        ];
        Assert.Equal([1, 1, 2, 2, 3], numbers);
        Assert.Equal(3, counter.Count);
        Assert.Equal(7, counter.Key);
    }
}

namespace LifelongPrefs.Data;

/// <summary>One user's share of a leave-last-basket-out split.</summary>
/// <param name="User">The dense user index.</param>
/// <param name="History">All baskets before the validation basket, in time order (what a model trains on).</param>
/// <param name="Validation">The second-to-last basket.</param>
/// <param name="Test">The last basket.</param>
public sealed record UserBasketSplit(int User, IReadOnlyList<Basket> History, Basket Validation, Basket Test);

/// <summary>A leave-last-basket-out split.</summary>
/// <param name="Users">The users with at least <paramref name="MinBaskets"/> baskets, by increasing user index.</param>
/// <param name="ExcludedUsers">How many users had fewer baskets (including none).</param>
/// <param name="MinBaskets">The minimum number of baskets a user needed.</param>
public sealed record BasketSplit(IReadOnlyList<UserBasketSplit> Users, int ExcludedUsers, int MinBaskets);

/// <summary>One user's share of a leave-last-item-out split.</summary>
/// <param name="User">The dense user index.</param>
/// <param name="History">The items before the validation item, in time order.</param>
/// <param name="Validation">The second-to-last item.</param>
/// <param name="Test">The last item.</param>
public sealed record UserItemSplit(int User, IReadOnlyList<int> History, int Validation, int Test);

/// <summary>A leave-last-item-out split.</summary>
/// <param name="Users">The users with at least <paramref name="MinItems"/> items, by increasing user index.</param>
/// <param name="ExcludedUsers">How many users had fewer items.</param>
/// <param name="MinItems">The minimum sequence length a user needed.</param>
public sealed record ItemSplit(IReadOnlyList<UserItemSplit> Users, int ExcludedUsers, int MinItems);

/// <summary>A split of a log's events into train and test positions (indices into <see cref="InteractionLog.Events"/>).</summary>
/// <param name="Train">Positions of training events, ascending.</param>
/// <param name="Test">Positions of test events, ascending.</param>
public sealed record EventSplit(IReadOnlyList<int> Train, IReadOnlyList<int> Test);

/// <summary>One rolling window: train on [TrainStart, TestStart), test on [TestStart, TestEnd).</summary>
/// <param name="TrainStart">Start of the training period (inclusive).</param>
/// <param name="TestStart">End of training and start of the test period.</param>
/// <param name="TestEnd">End of the test period (exclusive).</param>
/// <param name="Split">The event positions of each side.</param>
public sealed record TimeWindow(DateTimeOffset TrainStart, DateTimeOffset TestStart, DateTimeOffset TestEnd, EventSplit Split);

/// <summary>
/// Evaluation splits. All respect chronology, and the basket-level ones never split a basket: a basket belongs to the
/// side of its earliest event.
/// </summary>
public static class Splits
{
    /// <summary>
    /// Leave-last-basket-out per user: the last basket is the test basket, the second-to-last the validation basket,
    /// earlier baskets the history. Users with fewer than <paramref name="minBaskets"/> baskets are excluded.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="minBaskets">The minimum number of baskets, at least 2 (the headline protocol uses 3).</param>
    /// <param name="kind">Which events form baskets (purchases by default).</param>
    /// <returns>The split.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBaskets"/> is less than 2.</exception>
    public static BasketSplit LeaveLastBasketOut(InteractionLog log, int minBaskets = 3, EventKind kind = EventKind.Purchase)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(minBaskets, 2);
        IReadOnlyList<Basket>[] baskets = UserBaskets.Build(log, kind);
        var users = new List<UserBasketSplit>();
        int excluded = 0;
        for (int user = 0; user < baskets.Length; user++)
        {
            IReadOnlyList<Basket> b = baskets[user];
            if (b.Count < minBaskets)
            {
                excluded++;
                continue;
            }

            var history = new Basket[b.Count - 2];
            for (int i = 0; i < history.Length; i++)
            {
                history[i] = b[i];
            }

            users.Add(new UserBasketSplit(user, history, b[^2], b[^1]));
        }

        return new BasketSplit(users, excluded, minBaskets);
    }

    /// <summary>
    /// Leave-last-item-out per user on the flattened sequence (baskets in time order, distinct items within a basket):
    /// the last item is the test item, the second-to-last the validation item. Note that in basket data the test item's
    /// basket-mates stay in the history (the usual sequential protocol); use <see cref="LeaveLastBasketOut"/> when that
    /// leakage matters.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="minItems">The minimum sequence length, at least 2.</param>
    /// <param name="kind">Which events count (purchases by default).</param>
    /// <returns>The split.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minItems"/> is less than 2.</exception>
    public static ItemSplit LeaveLastItemOut(InteractionLog log, int minItems = 3, EventKind kind = EventKind.Purchase)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(minItems, 2);
        IReadOnlyList<Basket>[] baskets = UserBaskets.Build(log, kind);
        var users = new List<UserItemSplit>();
        int excluded = 0;
        for (int user = 0; user < baskets.Length; user++)
        {
            int[] sequence = UserBaskets.Flatten(baskets[user]);
            if (sequence.Length < minItems)
            {
                excluded++;
                continue;
            }

            users.Add(new UserItemSplit(user, sequence[..^2], sequence[^2], sequence[^1]));
        }

        return new ItemSplit(users, excluded, minItems);
    }

    /// <summary>
    /// A temporal cut: events whose basket (by <see cref="Interaction.BasketKey"/>) started before <paramref name="cut"/>
    /// train, the rest test. Every training event is thus earlier than every test basket's start.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="cut">The cut time.</param>
    /// <returns>The split.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public static EventSplit TemporalCut(InteractionLog log, DateTimeOffset cut)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Window(BasketStarts(log), long.MinValue, cut.UtcTicks, long.MaxValue);
    }

    /// <summary>
    /// Rolling monthly windows (calendar months, UTC): the first window trains on the first
    /// <paramref name="trainMonths"/> months of the data and tests on the next <paramref name="testMonths"/>; each
    /// next window moves one month on. A sliding window keeps <paramref name="trainMonths"/> months of training; an
    /// expanding one always starts training at the data's first month. Windows continue while the test period starts
    /// no later than the last event's month.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="trainMonths">Months of training data in the first window, at least 1.</param>
    /// <param name="testMonths">Months of test data per window, at least 1.</param>
    /// <param name="expanding">Whether training always starts at the first month.</param>
    /// <returns>The windows in time order (empty for an empty log).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A month count is less than 1.</exception>
    public static IReadOnlyList<TimeWindow> RollingMonthly(InteractionLog log, int trainMonths, int testMonths = 1, bool expanding = false)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainMonths, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(testMonths, 1);
        var windows = new List<TimeWindow>();
        if (log.Count == 0)
        {
            return windows;
        }

        long[] starts = BasketStarts(log);
        long min = long.MaxValue, max = long.MinValue;
        foreach (Interaction e in log.Events)
        {
            min = Math.Min(min, e.Ticks);
            max = Math.Max(max, e.Ticks);
        }

        var firstMonth = new DateTimeOffset(new DateTime(min, DateTimeKind.Utc).Year, new DateTime(min, DateTimeKind.Utc).Month, 1, 0, 0, 0, TimeSpan.Zero);
        for (int offset = 0; ; offset++)
        {
            DateTimeOffset trainStart = expanding ? firstMonth : firstMonth.AddMonths(offset);
            DateTimeOffset testStart = firstMonth.AddMonths(offset + trainMonths);
            if (testStart.UtcTicks > max)
            {
                break;
            }

            DateTimeOffset testEnd = testStart.AddMonths(testMonths);
            windows.Add(new TimeWindow(trainStart, testStart, testEnd, Window(starts, trainStart.UtcTicks, testStart.UtcTicks, testEnd.UtcTicks)));
        }

        return windows;
    }

    /// <summary>
    /// Each event's basket start (the earliest time in its basket, by the one basket rule), by log position, so whole
    /// baskets fall on one side of a cut.
    /// </summary>
    private static long[] BasketStarts(InteractionLog log)
    {
        UserHistories histories = UserHistories.FromLog(log);
        var startOf = new Dictionary<(int User, long Key), long>();
        for (int user = 0; user < histories.UserCount; user++)
        {
            ReadOnlySpan<Interaction> events = histories.EventsOf(user);
            ReadOnlySpan<int> offsets = histories.BasketOffsets(user);
            ReadOnlySpan<long> starts = histories.BasketStarts(user);
            for (int b = 0; b < starts.Length; b++)
            {
                startOf.Add((user, events[offsets[b]].BasketKey), starts[b]);
            }
        }

        var result = new long[log.Count];
        for (int i = 0; i < result.Length; i++)
        {
            Interaction e = log.Events[i];
            result[i] = startOf[(e.User, e.BasketKey)];
        }

        return result;
    }

    private static EventSplit Window(long[] basketStarts, long trainStart, long cut, long testEnd)
    {
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < basketStarts.Length; i++)
        {
            long t = basketStarts[i];
            if (t >= trainStart && t < cut)
            {
                train.Add(i);
            }
            else if (t >= cut && t < testEnd)
            {
                test.Add(i);
            }
        }

        return new EventSplit(train, test);
    }
}

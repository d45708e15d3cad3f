namespace LifelongPrefs.Models;

/// <summary>
/// What the models derive from their one <see cref="UserHistories"/> store, written once: the purchase sequences the
/// sequence models train on, the last purchase basket that RepeatAware targets, and the store's state sections.
/// </summary>
/// <remarks>
/// Every derivation reads a user's events in the store's order (baskets in time order, a basket's events in arrival
/// order) and skips events that are not positive (<see cref="RecommenderGuard.IsPositive"/>): returns and zero
/// quantities stay in the store for the features that read them, but no sequence or target is built from them.
/// </remarks>
internal static class HistoryViews
{
    /// <summary>
    /// Appends one user's positive items in order, a repeat of the item just before dropped (GRU4Rec's sequence:
    /// buying the same item twice in a row is one step, not a transition to itself).
    /// </summary>
    internal static void ItemSequence(ReadOnlySpan<Interaction> events, List<int> sequence)
    {
        foreach (ref readonly Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e) && (sequence.Count == 0 || sequence[^1] != e.Item))
            {
                sequence.Add(e.Item);
            }
        }
    }

    /// <summary>
    /// Appends one user's baskets flattened: each basket's distinct positive items, first occurrence first (SASRec's
    /// sequence: the order of items inside a basket carries little, a repeat inside one basket none).
    /// </summary>
    internal static void BasketSequence(UserHistories histories, int user, List<int> sequence, HashSet<int> scratch)
    {
        ReadOnlySpan<Interaction> events = histories.EventsOf(user);
        ReadOnlySpan<int> offsets = histories.BasketOffsets(user);
        for (int b = 0; b + 1 < offsets.Length; b++)
        {
            scratch.Clear();
            foreach (ref readonly Interaction e in events[offsets[b]..offsets[b + 1]])
            {
                if (RecommenderGuard.IsPositive(e) && scratch.Add(e.Item))
                {
                    sequence.Add(e.Item);
                }
            }
        }
    }

    /// <summary>How many of a user's baskets hold a positive event, and the basket key of the last of them (<see cref="long.MinValue"/> if none).</summary>
    internal static int PositiveBaskets(ReadOnlySpan<Interaction> events, out long lastKey)
    {
        var counter = default(BasketCounter);
        foreach (ref readonly Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e))
            {
                counter.Next(e);
            }
        }

        lastKey = counter.Key;
        return counter.Count;
    }

    /// <summary>
    /// Numbers the baskets of a history as its events are read in order: a new basket starts where the basket key
    /// changes. The one copy of that rule for the readers of a history span (the features read a caller's history,
    /// which need not come from a store); allocation-free, for the scoring paths.
    /// </summary>
    internal struct BasketCounter
    {
        /// <summary>Gets the baskets seen so far.</summary>
        internal int Count { get; private set; }

        /// <summary>Gets the current basket's key (<see cref="long.MinValue"/> before the first event).</summary>
        internal readonly long Key => Count == 0 ? long.MinValue : _key;

        private long _key;

        /// <summary>Takes the next event; returns its basket's 1-based number.</summary>
        internal int Next(in Interaction e)
        {
            long key = e.BasketKey;
            if (Count == 0 || key != _key)
            {
                _key = key;
                Count++;
            }

            return Count;
        }
    }

    /// <summary>
    /// Adds the store as sections: a CSR over users whose columns are the items (<paramref name="name"/>), and one
    /// aligned section per other <see cref="Interaction"/> field (<c>.ticks</c>, <c>.kind</c>, <c>.quantity</c>,
    /// <c>.value</c>, <c>.basket</c>), each user's events in store order, for users [0, <paramref name="users"/>)
    /// (default: the store's user count).
    /// </summary>
    internal static void Write(ModelStateWriter writer, string name, UserHistories histories, int users = -1)
    {
        users = users < 0 ? histories.UserCount : users;
        int n = histories.EventCount;
        var offsets = new int[users + 1];
        var items = new int[n];
        var ticks = new long[n];
        var kinds = new int[n];
        var quantities = new float[n];
        var values = new float[n];
        var baskets = new int[n];
        int at = 0;
        for (int u = 0; u < users; u++)
        {
            foreach (ref readonly Interaction e in histories.EventsOf(u))
            {
                (items[at], ticks[at], kinds[at], quantities[at], values[at], baskets[at]) = (e.Item, e.Ticks, (int)e.Kind, e.Quantity, e.Value, e.Basket);
                at++;
            }

            offsets[u + 1] = at;
        }

        writer.AddCsr(name, offsets, items);
        writer.AddLongs(name + ".ticks", ticks);
        writer.AddInts(name + ".kind", kinds);
        writer.AddFloats(name + ".quantity", quantities);
        writer.AddFloats(name + ".value", values);
        writer.AddInts(name + ".basket", baskets);
    }

    /// <summary>
    /// Takes and checks <see cref="Write"/>'s sections for <paramref name="users"/> users (any number when negative)
    /// over <paramref name="items"/> items and rebuilds the store (appending each user's events in their saved order
    /// gives the saved store).
    /// </summary>
    /// <exception cref="ModelStateException">The sections disagree with the counts or hold an invalid event.</exception>
    internal static UserHistories Read(ModelStateReader reader, string name, int users, int items)
    {
        List<List<int>> historyItems = reader.Lists(name, items);
        users = users < 0 ? historyItems.Count : users;
        int n = historyItems.Sum(h => h.Count);
        long[] ticks = reader.Longs(name + ".ticks", n);
        int[] kind = reader.Ints(name + ".kind", n);
        float[] quantity = reader.Floats(name + ".quantity", n);
        float[] value = reader.Floats(name + ".value", n);
        int[] basket = reader.Ints(name + ".basket", n);
        reader.Require(historyItems.Count == users, $"the histories cover {historyItems.Count} users, not {users}");
        var histories = new UserHistories(users);
        int at = 0;
        for (int u = 0; u < users; u++)
        {
            foreach (int item in historyItems[u])
            {
                // Every field is checked with the log's own rules before the event joins the store.
                var e = new Interaction(u, item, ticks[at], (EventKind)kind[at], quantity[at], value[at], basket[at]);
                reader.Require(Enum.IsDefined(e.Kind) && e.Basket >= -1 && (ulong)e.Ticks <= (ulong)DateTime.MaxValue.Ticks
                    && InteractionRules.Problem(e) is null, $"history event {at} is invalid");
                histories.Append(e);
                at++;
            }
        }

        return histories;
    }

    /// <summary>
    /// Appends items as one purchase basket of a user, for a store rebuilt from a state that kept only sequences: the
    /// events get time stamp 0, so every later event sorts after them, and a basket id near <see cref="int.MaxValue"/>
    /// (<paramref name="ordinal"/> counts down from it), which no real basket is expected to share.
    /// </summary>
    internal static void AppendSynthetic(UserHistories histories, int user, ReadOnlySpan<int> items, int ordinal)
    {
        foreach (int item in items)
        {
            histories.Append(new Interaction(user, item, 0, EventKind.Purchase, 1f, 0f, int.MaxValue - ordinal));
        }
    }
}

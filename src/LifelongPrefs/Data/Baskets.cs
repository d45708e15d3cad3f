namespace LifelongPrefs.Data;

/// <summary>One basket of a user: the distinct items of one invoice (or session), in order of first occurrence.</summary>
/// <param name="Id">The dense basket index (<see cref="InteractionLog.Baskets"/>), or -1 for an event without a basket.</param>
/// <param name="Ticks">The UTC ticks of the basket's earliest event.</param>
/// <param name="Items">The distinct item indices, in order of first occurrence.</param>
public sealed record Basket(int Id, long Ticks, IReadOnlyList<int> Items);

/// <summary>Groups a log's events into per-user baskets in time order.</summary>
public static class UserBaskets
{
    /// <summary>
    /// Builds each user's baskets from the events of one kind: events with the same basket id form one basket (items
    /// deduplicated, first occurrence kept); an event without a basket is a basket of its own. Baskets are ordered by
    /// their earliest event time, ties by their first event's position in the log.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="kind">Which events count (purchases by default).</param>
    /// <returns>One list per dense user index (empty for users without such events).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public static IReadOnlyList<Basket>[] Build(InteractionLog log, EventKind kind = EventKind.Purchase)
    {
        ArgumentNullException.ThrowIfNull(log);
        var result = new IReadOnlyList<Basket>[log.Users.Count];
        var slotOf = new Dictionary<int, int>();
        var seen = new HashSet<long>();
        var items = new List<List<int>>();
        var ticks = new List<long>();
        var first = new List<int>();
        var ids = new List<int>();
        for (int user = 0; user < result.Length; user++)
        {
            slotOf.Clear();
            seen.Clear();
            items.Clear();
            ticks.Clear();
            first.Clear();
            ids.Clear();
            foreach (int position in log.EventsOf(user))
            {
                Interaction e = log.Events[position];
                if (e.Kind != kind)
                {
                    continue;
                }

                int slot;
                if (e.Basket < 0 || !slotOf.TryGetValue(e.Basket, out slot))
                {
                    slot = items.Count;
                    items.Add([]);
                    ticks.Add(e.Ticks);
                    first.Add(position);
                    ids.Add(e.Basket);
                    if (e.Basket >= 0)
                    {
                        slotOf.Add(e.Basket, slot);
                    }
                }

                ticks[slot] = Math.Min(ticks[slot], e.Ticks);
                if (seen.Add(((long)slot << 32) | (uint)e.Item))
                {
                    items[slot].Add(e.Item);
                }
            }

            var order = new int[items.Count];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (a, b) => ticks[a] != ticks[b] ? ticks[a].CompareTo(ticks[b]) : first[a].CompareTo(first[b]));
            var baskets = new Basket[order.Length];
            for (int i = 0; i < order.Length; i++)
            {
                int s = order[i];
                baskets[i] = new Basket(ids[s], ticks[s], items[s].ToArray());
            }

            result[user] = baskets;
        }

        return result;
    }

    /// <summary>Flattens baskets into one item sequence in basket order (items in basket order within each).</summary>
    /// <param name="baskets">Baskets in time order.</param>
    /// <returns>The item sequence.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="baskets"/> is null.</exception>
    public static int[] Flatten(IReadOnlyList<Basket> baskets)
    {
        ArgumentNullException.ThrowIfNull(baskets);
        int length = 0;
        foreach (Basket basket in baskets)
        {
            length += basket.Items.Count;
        }

        var sequence = new int[length];
        int k = 0;
        foreach (Basket basket in baskets)
        {
            foreach (int item in basket.Items)
            {
                sequence[k++] = item;
            }
        }

        return sequence;
    }
}

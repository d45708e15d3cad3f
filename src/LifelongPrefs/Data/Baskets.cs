namespace LifelongPrefs.Data;

/// <summary>One basket of a user: the distinct items of one invoice (or session), in order of first occurrence.</summary>
/// <param name="Id">
/// The dense basket index (<see cref="InteractionLog.Baskets"/>), or -1 for a basket formed by a time stamp (the
/// user's events without a basket id at one time, see <see cref="Interaction.BasketKey"/>).
/// </param>
/// <param name="Ticks">The UTC ticks of the basket's earliest event.</param>
/// <param name="Items">The distinct item indices, in order of first occurrence.</param>
public sealed record Basket(int Id, long Ticks, IReadOnlyList<int> Items);

/// <summary>Groups a log's events into per-user baskets in time order.</summary>
public static class UserBaskets
{
    /// <summary>
    /// Builds each user's baskets from the events of one kind, grouped by <see cref="Interaction.BasketKey"/> (events
    /// with the same basket id form one basket, and so do a user's events without a basket id at one time stamp),
    /// items deduplicated with the first occurrence kept. Baskets are in <see cref="UserHistories"/> order: by their
    /// earliest event time, ties by their first event's position in the log.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="kind">Which events count (purchases by default).</param>
    /// <returns>One list per dense user index (empty for users without such events).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public static IReadOnlyList<Basket>[] Build(InteractionLog log, EventKind kind = EventKind.Purchase)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Build(UserHistories.FromLog(log, kind));
    }

    /// <summary>Lists each user's baskets of a history store as <see cref="Basket"/> records.</summary>
    /// <param name="histories">The store.</param>
    /// <returns>One list per user index in [0, <see cref="UserHistories.UserCount"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="histories"/> is null.</exception>
    public static IReadOnlyList<Basket>[] Build(UserHistories histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var result = new IReadOnlyList<Basket>[histories.UserCount];
        var seen = new HashSet<int>();
        var items = new List<int>();
        for (int user = 0; user < result.Length; user++)
        {
            ReadOnlySpan<long> starts = histories.BasketStarts(user);
            var baskets = new Basket[starts.Length];
            for (int b = 0; b < baskets.Length; b++)
            {
                ReadOnlySpan<Interaction> events = histories.Basket(user, b);
                seen.Clear();
                items.Clear();
                foreach (ref readonly Interaction e in events)
                {
                    if (seen.Add(e.Item))
                    {
                        items.Add(e.Item);
                    }
                }

                baskets[b] = new Basket(events[0].Basket, starts[b], items.ToArray());
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

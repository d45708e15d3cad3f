using LifelongPrefs.Data;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Models;

/// <summary>
/// The saved form of a model's <see cref="UserHistories"/> (used by <see cref="TifuKnn"/> and <see cref="UpCf"/>):
/// each user's events in store order as a CSR section over users (the item is the column) with one aligned section
/// per other <see cref="Interaction"/> field; appending them back user by user rebuilds the same store.
/// </summary>
internal static class HistoryState
{
    /// <summary>Adds the histories of users [0, <paramref name="users"/>) under <paramref name="prefix"/>.</summary>
    internal static void Write(ModelStateWriter writer, string prefix, UserHistories histories, int users)
    {
        var items = new List<List<int>>(users);
        var all = new List<Interaction>(histories.EventCount);
        for (int u = 0; u < users; u++)
        {
            ReadOnlySpan<Interaction> events = histories.EventsOf(u);
            var row = new List<int>(events.Length);
            foreach (ref readonly Interaction e in events)
            {
                row.Add(e.Item);
                all.Add(e);
            }

            items.Add(row);
        }

        writer.AddLists(prefix + "history", items);
        writer.AddLongs(prefix + "history.ticks", [.. all.Select(e => e.Ticks)]);
        writer.AddInts(prefix + "history.kind", [.. all.Select(e => (int)e.Kind)]);
        writer.AddFloats(prefix + "history.quantity", [.. all.Select(e => e.Quantity)]);
        writer.AddFloats(prefix + "history.value", [.. all.Select(e => e.Value)]);
        writer.AddInts(prefix + "history.basket", [.. all.Select(e => e.Basket)]);
    }

    /// <summary>
    /// Validates the sections written by <see cref="Write"/> for <paramref name="users"/> users and
    /// <paramref name="itemCount"/> items and rebuilds the store (without touching any model).
    /// </summary>
    internal static UserHistories Read(ModelStateReader reader, string prefix, int users, int itemCount)
    {
        List<List<int>> items = reader.Lists(prefix + "history", itemCount);
        int n = items.Sum(h => h.Count);
        long[] ticks = reader.Longs(prefix + "history.ticks", n);
        int[] kind = reader.Ints(prefix + "history.kind", n);
        float[] quantity = reader.Floats(prefix + "history.quantity", n);
        float[] value = reader.Floats(prefix + "history.value", n);
        int[] basket = reader.Ints(prefix + "history.basket", n);
        reader.Require(items.Count == users, $"the histories cover {items.Count} users, not {users}");
        var histories = new UserHistories(users);
        int at = 0;
        for (int u = 0; u < users; u++)
        {
            foreach (int item in items[u])
            {
                var e = new Interaction(u, item, ticks[at], (EventKind)kind[at], quantity[at], value[at], basket[at]);
                reader.Require(Enum.IsDefined(e.Kind) && e.Basket >= -1 && (ulong)e.Ticks <= (ulong)DateTime.MaxValue.Ticks
                    && InteractionRules.Problem(e) is null, $"history event {at} is invalid");
                histories.Append(e);
                at++;
            }
        }

        return histories;
    }
}

using LifelongPrefs.Data;

namespace LifelongPrefs.Persistence;

/// <summary>
/// A list of events as three sections of a state container: <c>name.ids</c> (user, item, kind, basket per event,
/// int32), <c>name.ticks</c> (int64) and <c>name.amounts</c> (quantity, value, float32). The tracker's logs and queue
/// and the continual learner's replay memory use it.
/// </summary>
internal static class InteractionSections
{
    /// <summary>Adds <paramref name="events"/> as the three sections named after <paramref name="name"/>.</summary>
    internal static void Add(ModelStateWriter writer, string name, IReadOnlyList<Interaction> events)
    {
        var ids = new int[4 * events.Count];
        var ticks = new long[events.Count];
        var amounts = new float[2 * events.Count];
        for (int i = 0; i < events.Count; i++)
        {
            Interaction e = events[i];
            (ids[4 * i], ids[(4 * i) + 1], ids[(4 * i) + 2], ids[(4 * i) + 3]) = (e.User, e.Item, (int)e.Kind, e.Basket);
            ticks[i] = e.Ticks;
            (amounts[2 * i], amounts[(2 * i) + 1]) = (e.Quantity, e.Value);
        }

        writer.AddInts(name + ".ids", ids);
        writer.AddLongs(name + ".ticks", ticks);
        writer.AddFloats(name + ".amounts", amounts);
    }

    /// <summary>
    /// Takes the three sections (<paramref name="count"/> events, or any number for −1) and checks every event: user
    /// below <paramref name="users"/> and item below <paramref name="items"/> (index 0 is accepted when a count is 0, as
    /// the tracker's queue may hold an entry whose catalog is still empty), a defined kind, a basket of at least −1.
    /// </summary>
    /// <exception cref="ModelStateException">A section is missing, has the wrong kind or length, or an event is out of range.</exception>
    internal static Interaction[] Read(ModelStateReader reader, string name, long count, int users, int items)
    {
        long[] ticks = reader.Longs(name + ".ticks", count);
        int[] ids = reader.Ints(name + ".ids", 4L * ticks.Length);
        float[] amounts = reader.Floats(name + ".amounts", 2L * ticks.Length);
        var events = new Interaction[ticks.Length];
        for (int i = 0; i < events.Length; i++)
        {
            int user = ids[4 * i], item = ids[(4 * i) + 1], kind = ids[(4 * i) + 2];
            reader.Require((uint)user < (uint)Math.Max(users, 1) && (uint)item < (uint)Math.Max(items, 1) && Enum.IsDefined((EventKind)kind) && ids[(4 * i) + 3] >= -1,
                $"section '{name}' event {i}");
            events[i] = new Interaction(user, item, ticks[i], (EventKind)kind, amounts[2 * i], amounts[(2 * i) + 1], ids[(4 * i) + 3]);
        }

        return events;
    }
}

using LifelongPrefs.Data;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// The bundled Online Retail log as the shop's own events, in time order: shop ids, the invoice as basket, and each
/// item's description on its first event (so the tracker and the shop's catalog learn it there). The warm-up replays
/// a prefix of it, the load test the part after.
/// </summary>
internal sealed class ShopData
{
    private readonly InteractionEvent[] _events;

    private ShopData(InteractionEvent[] events) => _events = events;

    /// <summary>Gets every event, in time order.</summary>
    public IReadOnlyList<InteractionEvent> Events => _events;

    /// <summary>Loads and cleans an Online Retail file (<c>.csv</c> or <c>.csv.gz</c>); null for the bundled copy.</summary>
    /// <exception cref="FileNotFoundException">The file, or the bundled copy, is not found.</exception>
    /// <exception cref="CsvFormatException">A line is malformed.</exception>
    public static ShopData Load(string? path)
    {
        OnlineRetailData data = OnlineRetail.Load(SampleConsole.DataFile(path));
        InteractionLog log = data.Log;
        var described = new bool[log.Items.Count];
        var events = new InteractionEvent[log.Count];
        for (int i = 0; i < events.Length; i++)
        {
            Interaction e = log.Events[i];
            string description = e.Item < data.ItemDescriptions.Count ? data.ItemDescriptions[e.Item] : string.Empty;
            bool first = !described[e.Item] && description.Length > 0;
            described[e.Item] |= first;

            // A kept return has a negative quantity; the shop posts the number of units, which the tracker wants positive.
            events[i] = new InteractionEvent(log.Users.GetId(e.User), log.Items.GetId(e.Item), new DateTimeOffset(e.Ticks, TimeSpan.Zero),
                e.Kind, Math.Max(1f, Math.Abs(e.Quantity)), Math.Max(0f, e.Value), e.Basket >= 0 ? log.Baskets.GetId(e.Basket) : null,
                first ? new ItemAttributes(Text: description) : null);
        }

        return new ShopData(events);
    }

    /// <summary>Gets the first (at most <paramref name="limit"/>) events before <paramref name="until"/>: the warm-up.</summary>
    public ArraySegment<InteractionEvent> Before(DateTimeOffset until, int limit) =>
        new(_events, 0, Math.Min(limit, IndexOf(until)));

    /// <summary>Gets at most <paramref name="limit"/> events from <paramref name="from"/> on: what the load test replays.</summary>
    public ArraySegment<InteractionEvent> From(DateTimeOffset from, int limit)
    {
        int start = IndexOf(from);
        return new(_events, start, Math.Min(limit, _events.Length - start));
    }

    /// <summary>The index of the first event at or after <paramref name="time"/> (the events are sorted by time).</summary>
    private int IndexOf(DateTimeOffset time)
    {
        int lo = 0, hi = _events.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_events[mid].Timestamp < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}

namespace LifelongPrefs.Lifelong;

/// <summary>
/// One user's recent events for the tracker: appended by the single writer, read by any number of threads without a
/// lock. The writer never changes an element a reader can see — it appends past the published count, and when the
/// array is full it copies the newest events into a fresh array and publishes that — so a reader's span stays valid
/// and unchanged however long it keeps it.
/// </summary>
internal sealed class UserLog
{
    private EventBuffer _buffer = new(new Interaction[4], 0);
    private Dismissal[] _dismissals = [];

    /// <summary>Gets the time of the user's latest event (writer only).</summary>
    internal long LastTicks { get; private set; } = long.MinValue;

    /// <summary>Gets the shop's id of the basket the user's latest event belonged to (writer only).</summary>
    internal string? LastBasketId { get; private set; }

    /// <summary>Gets the basket index of the user's latest event (writer only).</summary>
    internal int LastBasket { get; private set; } = -1;

    /// <summary>Gets the number of events kept (writer only).</summary>
    internal int Count => _buffer.Count;

    /// <summary>Gets the number of events ever appended, kept or not: the position the next event gets (writer only).</summary>
    internal long Appended => _buffer.Start + _buffer.Count;

    /// <summary>Gets the user's newest events, at most <paramref name="max"/>, oldest first. Any thread.</summary>
    internal ReadOnlySpan<Interaction> Recent(int max)
    {
        // A buffer's count only ever describes its own array, so one read of the buffer gives a consistent pair.
        EventBuffer buffer = Volatile.Read(ref _buffer);
        int n = Volatile.Read(ref buffer.Count);
        int from = Math.Max(0, n - max);
        return buffer.Events.AsSpan(from, n - from);
    }

    /// <summary>
    /// Gets the newest kept events, at most <paramref name="max"/>, among those appended before the event at
    /// <paramref name="position"/> (an <see cref="Appended"/> value read when that event was recorded), oldest first:
    /// the history the user had when it arrived, however many events came after. Any thread.
    /// </summary>
    internal ReadOnlySpan<Interaction> Before(long position, int max)
    {
        EventBuffer buffer = Volatile.Read(ref _buffer);
        int n = Volatile.Read(ref buffer.Count);
        int end = (int)Math.Clamp(position - buffer.Start, 0, n);
        int from = Math.Max(0, end - max);
        return buffer.Events.AsSpan(from, end - from);
    }

    /// <summary>Gets the user's dismissals (an immutable array, replaced on every change). Any thread.</summary>
    internal ReadOnlySpan<Dismissal> Dismissals => Volatile.Read(ref _dismissals);

    /// <summary>Appends one event, keeping at least the newest <paramref name="max"/>. Writer only.</summary>
    internal void Append(in Interaction e, string? basketId, int max)
    {
        EventBuffer buffer = _buffer;
        int n = buffer.Count;
        if (n == buffer.Events.Length)
        {
            Interaction[] fresh;
            long start = buffer.Start;
            if (buffer.Events.Length >= 2 * max)
            {
                // Full at twice the limit: keep the newest max in a new array, so appends stay amortised O(1).
                fresh = new Interaction[buffer.Events.Length];
                buffer.Events.AsSpan(n - max, max).CopyTo(fresh);
                start += n - max;
                n = max;
            }
            else
            {
                fresh = new Interaction[Math.Min(buffer.Events.Length * 2, Math.Max(4, 2 * max))];
                buffer.Events.AsSpan(0, n).CopyTo(fresh);
            }

            // Readers of the old buffer keep a valid, unchanged view; new readers see the new pair.
            buffer = new EventBuffer(fresh, n, start);
            Volatile.Write(ref _buffer, buffer);
        }

        buffer.Events[n] = e;
        Volatile.Write(ref buffer.Count, n + 1);
        LastTicks = Math.Max(LastTicks, e.Ticks);
        LastBasketId = basketId;
        LastBasket = e.Basket;
    }

    /// <summary>Hides <paramref name="item"/> until <paramref name="untilTicks"/>, dropping expired entries. Writer only.</summary>
    internal void Dismiss(int item, long untilTicks, long nowTicks)
    {
        Dismissal[] old = _dismissals;
        var kept = new List<Dismissal>(old.Length + 1);
        foreach (Dismissal d in old)
        {
            if (d.UntilTicks > nowTicks && d.Item != item)
            {
                kept.Add(d);
            }
        }

        kept.Add(new Dismissal(item, untilTicks));
        Volatile.Write(ref _dismissals, kept.ToArray());
    }

    /// <summary>Gets the event array (its length decides when the log next trims), the kept count and the trimmed prefix (writer only, or writer parked).</summary>
    internal (Interaction[] Events, int Count, long Start) Buffer => (_buffer.Events, _buffer.Count, _buffer.Start);

    /// <summary>Rebuilds a saved log: the events in an array of the saved length, so it trims at the same points as the original.</summary>
    internal static UserLog Restore(Interaction[] events, int count, long start, long lastTicks, string? lastBasketId, int lastBasket, Dismissal[] dismissals) =>
        new()
        {
            _buffer = new EventBuffer(events, count, start),
            _dismissals = dismissals,
            LastTicks = lastTicks,
            LastBasketId = lastBasketId,
            LastBasket = lastBasket,
        };

    /// <summary>An array of events, how many of them are published, and the position in the user's stream of its first.</summary>
    private sealed class EventBuffer(Interaction[] events, int count, long start = 0)
    {
        /// <summary>How many of the user's events were dropped before <see cref="Events"/>[0] (the trimmed prefix).</summary>
        internal readonly long Start = start;

        /// <summary>The events; slots at and after <see cref="Count"/> are not yet published.</summary>
        internal readonly Interaction[] Events = events;

        /// <summary>The published count (written by the writer with release semantics).</summary>
        internal int Count = count;
    }
}

/// <summary>An item hidden from one user until a stream time.</summary>
/// <param name="Item">The item index.</param>
/// <param name="UntilTicks">The stream time (UTC ticks) from which the item may be recommended again.</param>
internal readonly record struct Dismissal(int Item, long UntilTicks);

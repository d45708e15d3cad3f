namespace LifelongPrefs.Data;

/// <summary>
/// Every user's events, each stored once: per user, grouped into baskets by <see cref="Interaction.BasketKey"/>
/// (so an event without a basket id shares a basket with its user's other events at the same time stamp), baskets in
/// time order. The one history store that the splits, the protocols and the models read, and that replay and erasure
/// will read and edit.
/// </summary>
/// <remarks>
/// <para>
/// <b>Order.</b> Baskets are ordered by their earliest event's time stamp, ties by arrival (the basket whose first
/// event was appended first comes first); events within a basket stay in arrival order. The result depends only on
/// the sequence of appended events, not on how it was cut into calls: appending a list at once or in chunks gives the
/// same store. Events that arrive in time order (the usual case) append at the end of their user's history in O(1)
/// amortised; a late event of an older basket, or a new basket earlier than the latest, is inserted in place.
/// </para>
/// <para>
/// <b>Access.</b> <see cref="EventsOf"/> returns a user's events as one span; <see cref="BasketOffsets"/> gives the
/// basket boundaries in it (basket <c>b</c> is <c>events[offsets[b]..offsets[b + 1]]</c>) and
/// <see cref="BasketStarts"/> each basket's earliest time stamp. Spans stay valid until the next
/// <see cref="Append(in Interaction)"/> or <see cref="Remove"/> touching that user.
/// </para>
/// <para>
/// <b>How a model uses it.</b> <c>Fit(events, users, items)</c>: <c>var h = UserHistories.FromEvents(events, users)</c>
/// (or <c>Clear</c> the model's store and append). <c>Update(events, users, items)</c>: <c>h.EnsureUsers(users)</c>,
/// <c>h.Append(events)</c>, then rebuild what depends on the users in <c>events</c> from <c>h.EventsOf(user)</c>.
/// A checkpoint writes each user's <see cref="EventsOf"/> in order; appending them back user by user rebuilds the
/// same store. Erasing a user is <see cref="Remove"/>. The store keeps every kind of event; a model that learns from
/// purchases only skips the others while it reads.
/// </para>
/// <para>Not synchronised: one writer, or any number of readers with no writer.</para>
/// </remarks>
public sealed class UserHistories
{
    private static readonly int[] NoBaskets = [0];

    // Which (user, basket key) pairs exist, so a new basket is recognised without scanning the user's baskets.
    private readonly HashSet<(int User, long Key)> _keys = [];
    private History?[] _users = [];
    private long _arrivals;

    /// <summary>Initialises an empty store for <paramref name="userCount"/> users.</summary>
    /// <param name="userCount">Dense user indices the store accepts, [0, userCount); 0 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="userCount"/> is negative.</exception>
    public UserHistories(int userCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(userCount);
        UserCount = userCount;
    }

    /// <summary>Gets the number of users the store accepts (valid user indices are [0, UserCount)).</summary>
    public int UserCount { get; private set; }

    /// <summary>Gets the number of stored events over all users.</summary>
    public int EventCount { get; private set; }

    /// <summary>Builds the store of a log's events (all kinds, or only <paramref name="kind"/>), in log order.</summary>
    /// <param name="log">The log; its user count becomes <see cref="UserCount"/>.</param>
    /// <param name="kind">When set, only events of this kind are stored; all events by default.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An event appended to the log as an <see cref="Interaction"/> is
    /// invalid here (see <see cref="Append(in Interaction)"/>), e.g. a negative time stamp.</exception>
    public static UserHistories FromLog(InteractionLog log, EventKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        var histories = new UserHistories(log.Users.Count);
        foreach (Interaction e in log.Events)
        {
            if (kind is null || e.Kind == kind)
            {
                histories.Append(e);
            }
        }

        return histories;
    }

    /// <summary>Builds the store of an event list, appending the events in list order.</summary>
    /// <param name="events">The events.</param>
    /// <param name="userCount">The number of users; every event's user must be below it.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="userCount"/> is negative, or an event is invalid
    /// (see <see cref="Append(in Interaction)"/>).</exception>
    public static UserHistories FromEvents(IReadOnlyList<Interaction> events, int userCount)
    {
        var histories = new UserHistories(userCount);
        histories.Append(events);
        return histories;
    }

    /// <summary>Raises <see cref="UserCount"/> to <paramref name="userCount"/> (a smaller value changes nothing).</summary>
    /// <param name="userCount">The new number of users.</param>
    /// <remarks>Allocates nothing: per-user storage is created when a user's first event arrives.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="userCount"/> is negative.</exception>
    public void EnsureUsers(int userCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(userCount);
        UserCount = Math.Max(UserCount, userCount);
    }

    /// <summary>Appends one event to its user's history, in its basket (a new one if its key is new for the user).</summary>
    /// <param name="interaction">The event.</param>
    /// <exception cref="ArgumentOutOfRangeException">The user is not in [0, <see cref="UserCount"/>), the item is
    /// negative, the basket is below -1, or the time stamp is outside [0, <see cref="DateTime.MaxValue"/>'s ticks]; the
    /// store is then unchanged.</exception>
    public void Append(in Interaction interaction)
    {
        Validate(interaction, -1, nameof(interaction));
        AppendValid(interaction);
    }

    /// <summary>Appends events in order (the same store as appending them one by one).</summary>
    /// <param name="events">The events.</param>
    /// <exception cref="ArgumentOutOfRangeException">An event is invalid (see <see cref="Append(in Interaction)"/>);
    /// every event is checked before any is stored, so the store is then unchanged.</exception>
    public void Append(ReadOnlySpan<Interaction> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            Validate(events[i], i, nameof(events));
        }

        foreach (ref readonly Interaction e in events)
        {
            AppendValid(e);
        }
    }

    /// <summary>Appends events in order (the same store as appending them one by one).</summary>
    /// <param name="events">The events.</param>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An event is invalid (see <see cref="Append(in Interaction)"/>);
    /// every event is checked before any is stored, so the store is then unchanged.</exception>
    public void Append(IReadOnlyList<Interaction> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        for (int i = 0; i < events.Count; i++)
        {
            Validate(events[i], i, nameof(events));
        }

        for (int i = 0; i < events.Count; i++)
        {
            AppendValid(events[i]);
        }
    }

    /// <summary>
    /// Removes every event of one user (the user index stays valid, with an empty history). The removed events are
    /// overwritten before their storage is released, so no copy of them stays in the store.
    /// </summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <returns>How many events were removed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in [0, <see cref="UserCount"/>).</exception>
    public int Remove(int user)
    {
        CheckUser(user);
        History? history = user < _users.Length ? _users[user] : null;
        if (history is null)
        {
            return 0;
        }

        for (int b = 0; b < history.Baskets; b++)
        {
            _keys.Remove((user, history.Events[history.Offsets[b]].BasketKey));
        }

        int removed = history.Count;
        Array.Clear(history.Events);
        _users[user] = null;
        EventCount -= removed;
        return removed;
    }

    /// <summary>Removes every event of every user (<see cref="UserCount"/> stays).</summary>
    public void Clear()
    {
        for (int u = 0; u < _users.Length; u++)
        {
            if (_users[u] is { } history)
            {
                Array.Clear(history.Events);
            }
        }

        _users = [];
        _keys.Clear();
        EventCount = 0;
    }

    /// <summary>Gets one user's events: baskets in time order, each basket's events in arrival order.</summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <returns>The events (empty for a user without events), valid until the store next changes for this user.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in [0, <see cref="UserCount"/>).</exception>
    public ReadOnlySpan<Interaction> EventsOf(int user)
    {
        CheckUser(user);
        History? history = user < _users.Length ? _users[user] : null;
        return history is null ? [] : history.Events.AsSpan(0, history.Count);
    }

    /// <summary>Gets the number of baskets of one user.</summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <returns>The basket count (0 for a user without events).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in [0, <see cref="UserCount"/>).</exception>
    public int BasketCount(int user)
    {
        CheckUser(user);
        return user < _users.Length && _users[user] is { } history ? history.Baskets : 0;
    }

    /// <summary>
    /// Gets one user's basket boundaries in <see cref="EventsOf"/>: <see cref="BasketCount"/> + 1 ascending offsets,
    /// the first 0 and the last the user's event count; basket <c>b</c> spans [offsets[b], offsets[b + 1]).
    /// </summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <returns>The offsets (<c>[0]</c> for a user without events).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in [0, <see cref="UserCount"/>).</exception>
    public ReadOnlySpan<int> BasketOffsets(int user)
    {
        CheckUser(user);
        History? history = user < _users.Length ? _users[user] : null;
        return history is null ? NoBaskets : history.Offsets.AsSpan(0, history.Baskets + 1);
    }

    /// <summary>Gets the earliest time stamp (UTC ticks) of each of one user's baskets, ascending.</summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <returns>One value per basket (empty for a user without events).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in [0, <see cref="UserCount"/>).</exception>
    public ReadOnlySpan<long> BasketStarts(int user)
    {
        CheckUser(user);
        History? history = user < _users.Length ? _users[user] : null;
        return history is null ? [] : history.Starts.AsSpan(0, history.Baskets);
    }

    /// <summary>Gets the events of one basket of one user.</summary>
    /// <param name="user">A user index in [0, <see cref="UserCount"/>).</param>
    /// <param name="basket">A basket position in [0, <see cref="BasketCount"/>), in time order.</param>
    /// <returns>The basket's events in arrival order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> or <paramref name="basket"/> is out of range.</exception>
    public ReadOnlySpan<Interaction> Basket(int user, int basket)
    {
        int count = BasketCount(user);
        if ((uint)basket >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(basket), basket, $"Basket position {basket} is not in [0, {count}) for user {user}.");
        }

        History history = _users[user]!;
        int start = history.Offsets[basket];
        return history.Events.AsSpan(start, history.Offsets[basket + 1] - start);
    }

    private void CheckUser(int user)
    {
        if ((uint)user >= (uint)UserCount)
        {
            throw new ArgumentOutOfRangeException(nameof(user), user, $"User index {user} is not in [0, {UserCount}).");
        }
    }

    private void Validate(in Interaction e, int position, string name)
    {
        string where = position < 0 ? "The event" : $"Event {position}";
        if ((uint)e.User >= (uint)UserCount)
        {
            throw new ArgumentOutOfRangeException(name, e.User, $"{where} has user index {e.User}, not in [0, {UserCount}).");
        }

        if (e.Item < 0)
        {
            throw new ArgumentOutOfRangeException(name, e.Item, $"{where} has item index {e.Item}, which is negative.");
        }

        if (e.Basket < -1)
        {
            throw new ArgumentOutOfRangeException(name, e.Basket, $"{where} has basket index {e.Basket}; it must be -1 (none) or non-negative.");
        }

        // The basket rule maps a missing basket to ~Ticks, which is negative (apart from every basket index) only for
        // ticks >= 0.
        if ((ulong)e.Ticks > (ulong)DateTime.MaxValue.Ticks)
        {
            throw new ArgumentOutOfRangeException(name, e.Ticks, $"{where} has time stamp {e.Ticks} ticks, not in [0, {DateTime.MaxValue.Ticks}].");
        }
    }

    private void AppendValid(in Interaction e)
    {
        int user = e.User;
        if (user >= _users.Length)
        {
            // Grow geometrically but never past the declared user count.
            int size = (int)Math.Min(UserCount, Math.Max(user + 1L, 2L * _users.Length));
            Array.Resize(ref _users, size);
        }

        History history = _users[user] ??= new History();
        long key = e.BasketKey;
        long arrival = _arrivals++;

        // The usual case, another line of the newest basket, needs no lookup.
        if ((history.Baskets > 0 && history.Events[history.Offsets[history.Baskets - 1]].BasketKey == key) || !_keys.Add((user, key)))
        {
            history.JoinBasket(e, key);
        }
        else
        {
            history.AddBasket(e, arrival);
        }

        EventCount++;
    }

    /// <summary>One user's events and basket table; baskets sorted by (earliest ticks, first arrival).</summary>
    private sealed class History
    {
        internal Interaction[] Events = new Interaction[4];
        internal int Count;

        // Offsets[0..Baskets] (basket b = Events[Offsets[b]..Offsets[b + 1]]); Starts and Arrivals[0..Baskets).
        internal int[] Offsets = new int[4];
        internal long[] Starts = new long[3];
        internal long[] Arrivals = new long[3];
        internal int Baskets;

        /// <summary>Opens a basket for <paramref name="e"/> at its place in time (after every basket starting no later).</summary>
        internal void AddBasket(in Interaction e, long arrival)
        {
            if (Baskets == Starts.Length)
            {
                int size = 2 * Starts.Length;
                Array.Resize(ref Starts, size);
                Array.Resize(ref Arrivals, size);
                Array.Resize(ref Offsets, size + 1);
            }

            // Upper bound of e.Ticks in Starts: the newest arrival goes after every tie.
            int lo = 0, hi = Baskets;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (Starts[mid] <= e.Ticks)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            int p = lo;
            Array.Copy(Starts, p, Starts, p + 1, Baskets - p);
            Array.Copy(Arrivals, p, Arrivals, p + 1, Baskets - p);
            Starts[p] = e.Ticks;
            Arrivals[p] = arrival;

            // The new basket is empty at Offsets[p]; every later boundary moves one on once the event is inserted.
            Array.Copy(Offsets, p, Offsets, p + 1, Baskets + 1 - p);
            Baskets++;
            InsertEvent(e, p);
        }

        /// <summary>Adds <paramref name="e"/> at the end of its existing basket and moves the basket earlier if it now starts earlier.</summary>
        internal void JoinBasket(in Interaction e, long key)
        {
            // Open baskets are usually the latest ones: search from the end.
            int b = Baskets - 1;
            while (Events[Offsets[b]].BasketKey != key)
            {
                b--;
            }

            InsertEvent(e, b);
            if (e.Ticks >= Starts[b])
            {
                return;
            }

            long start = e.Ticks, arrival = Arrivals[b];
            int p = b;
            while (p > 0 && (Starts[p - 1] > start || (Starts[p - 1] == start && Arrivals[p - 1] > arrival)))
            {
                p--;
            }

            Starts[b] = start;
            if (p == b)
            {
                return;
            }

            // Move basket b's events in front of baskets p..b-1 (a rotation keeps each block's inner order), then its
            // table entries; the boundaries between the moved blocks shift by basket b's length.
            int first = Offsets[p], split = Offsets[b], end = Offsets[b + 1], length = end - split;
            Events.AsSpan(first, split - first).Reverse();
            Events.AsSpan(split, length).Reverse();
            Events.AsSpan(first, end - first).Reverse();
            for (int j = b; j > p; j--)
            {
                Offsets[j] = Offsets[j - 1] + length;
                Starts[j] = Starts[j - 1];
                Arrivals[j] = Arrivals[j - 1];
            }

            Starts[p] = start;
            Arrivals[p] = arrival;
        }

        /// <summary>Inserts <paramref name="e"/> at the end of basket <paramref name="b"/>, shifting later events and boundaries.</summary>
        private void InsertEvent(in Interaction e, int b)
        {
            if (Count == Events.Length)
            {
                Array.Resize(ref Events, 2 * Events.Length);
            }

            int at = Offsets[b + 1];
            Array.Copy(Events, at, Events, at + 1, Count - at);
            Events[at] = e;
            Count++;
            for (int j = b + 1; j <= Baskets; j++)
            {
                Offsets[j]++;
            }
        }
    }
}

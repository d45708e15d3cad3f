namespace LifelongPrefs.Models;

/// <summary>
/// The writer's record of every user's committed baskets, as the online step needs it: per (user, item) pair its
/// <see cref="ItemStat"/>, per user the basket count, last basket key and time and the repeat counts.
/// </summary>
/// <remarks>
/// Pairs live in one array of entries found through one open-addressing table keyed by (user, item), and each
/// user's entries are chained (newest first), so nothing is allocated per user and a steady stream of known pairs
/// allocates nothing at all; the arrays double when they fill. Only the writer touches it (scoring derives the same
/// statistics from the history it is given).
/// </remarks>
internal sealed class BasketLedger
{
    private Entry[] _entries = new Entry[16];
    private int[] _table = NewTable(32);
    private User[] _users = [];

    /// <summary>Gets the number of users.</summary>
    internal int UserCount { get; private set; }

    /// <summary>Gets the number of (user, item) pairs.</summary>
    internal int PairCount { get; private set; }

    /// <summary>Grows to <paramref name="users"/> users.</summary>
    internal void Grow(int users)
    {
        if (users > _users.Length)
        {
            Array.Resize(ref _users, Math.Max(users, Math.Min(2 * _users.Length, Array.MaxLength)));
        }

        for (int u = UserCount; u < users; u++)
        {
            _users[u] = new User { Head = -1, LastKey = long.MinValue };
        }

        UserCount = Math.Max(UserCount, users);
    }

    /// <summary>Gets user <paramref name="user"/>'s record.</summary>
    internal ref User UserAt(int user) => ref _users[user];

    /// <summary>Gets the entry index of (user, item), or −1.</summary>
    internal int Find(int user, int item)
    {
        int mask = _table.Length - 1;
        for (int s = Hash(user, item) & mask; ; s = (s + 1) & mask)
        {
            int e = _table[s];
            if (e < 0)
            {
                return -1;
            }

            if (_entries[e].User == user && _entries[e].Item == item)
            {
                return e;
            }
        }
    }

    /// <summary>Adds the pair (user, item), which must be absent, at the head of the user's chain; returns its entry.</summary>
    internal int Add(int user, int item)
    {
        if (PairCount == _entries.Length)
        {
            Array.Resize(ref _entries, 2 * _entries.Length);
        }

        if (2 * (PairCount + 1) > _table.Length)
        {
            Rehash(2 * _table.Length);
        }

        int e = PairCount++;
        ref User owner = ref _users[user];
        _entries[e] = new Entry { User = user, Item = item, Next = owner.Head };
        owner.Head = e;
        owner.Distinct++;
        Place(e);
        return e;
    }

    /// <summary>Gets entry <paramref name="entry"/>'s item.</summary>
    internal int Item(int entry) => _entries[entry].Item;

    /// <summary>Gets the next (older) entry of the same user, or −1.</summary>
    internal int Next(int entry) => _entries[entry].Next;

    /// <summary>Gets entry <paramref name="entry"/>'s statistics.</summary>
    internal ref ItemStat Stat(int entry) => ref _entries[entry].Stat;

    /// <summary>Gets the user's summary for the repeat features.</summary>
    internal UserSummary Summary(int user)
    {
        ref User u = ref _users[user];
        return new UserSummary(u.Baskets, u.Now, UserSummary.Ratio(u.LaterItems, u.LaterRepeats), u.First);
    }

    /// <summary>Forgets everything.</summary>
    internal void Clear()
    {
        _entries = new Entry[16];
        _table = NewTable(32);
        _users = [];
        (UserCount, PairCount) = (0, 0);
    }

    /// <summary>Re-creates the pairs from saved columns, in entry order (each user's chain is then rebuilt identically).</summary>
    internal void Restore(ReadOnlySpan<int> users, ReadOnlySpan<int> items, ReadOnlySpan<ItemStat> stats, ReadOnlySpan<User> summary)
    {
        Clear();
        Grow(summary.Length);
        for (int i = 0; i < users.Length; i++)
        {
            int e = Add(users[i], items[i]);
            _entries[e].Stat = stats[i];
        }

        for (int u = 0; u < summary.Length; u++)
        {
            User saved = summary[u];
            saved.Head = _users[u].Head;
            saved.Distinct = _users[u].Distinct;
            _users[u] = saved;
        }
    }

    /// <summary>Copies the pairs out in entry order (for saving).</summary>
    internal void Export(out int[] users, out int[] items, out ItemStat[] stats, out User[] summary)
    {
        users = new int[PairCount];
        items = new int[PairCount];
        stats = new ItemStat[PairCount];
        for (int e = 0; e < PairCount; e++)
        {
            (users[e], items[e], stats[e]) = (_entries[e].User, _entries[e].Item, _entries[e].Stat);
        }

        summary = _users.AsSpan(0, UserCount).ToArray();
    }

    private static int[] NewTable(int capacity)
    {
        var table = new int[capacity];
        table.AsSpan().Fill(-1);
        return table;
    }

    private void Rehash(int capacity)
    {
        _table = NewTable(capacity);
        for (int e = 0; e < PairCount; e++)
        {
            Place(e);
        }
    }

    private void Place(int e)
    {
        int mask = _table.Length - 1;
        int s = Hash(_entries[e].User, _entries[e].Item) & mask;
        while (_table[s] >= 0)
        {
            s = (s + 1) & mask;
        }

        _table[s] = e;
    }

    private static int Hash(int user, int item) => (int)((((ulong)(uint)user << 32) | (uint)item) * 0x9E3779B97F4A7C15UL >> 33);

    /// <summary>One user's committed-basket summary.</summary>
    internal struct User
    {
        /// <summary>The newest entry of the user's chain, or −1.</summary>
        internal int Head;

        /// <summary>Distinct items bought.</summary>
        internal int Distinct;

        /// <summary>Committed baskets.</summary>
        internal int Baskets;

        /// <summary>Key of the last committed basket (<see cref="long.MinValue"/> before the first).</summary>
        internal long LastKey;

        /// <summary>Time of the latest committed event.</summary>
        internal long Now;

        /// <summary>Time of the first committed event.</summary>
        internal long First;

        /// <summary>Items of baskets after the first (each basket's distinct items).</summary>
        internal int LaterItems;

        /// <summary>How many of <see cref="LaterItems"/> had been bought in an earlier basket.</summary>
        internal int LaterRepeats;
    }

    private struct Entry
    {
        internal int User;
        internal int Item;
        internal int Next;
        internal ItemStat Stat;
    }
}

using System.Runtime.InteropServices;

namespace LifelongPrefs.Models;

/// <summary>
/// The running feature state behind <see cref="PropensityMlp"/>: per-item popularity and per-user purchase history,
/// updated event by event in time order, so that the features of a (user, item) pair can be read "as of" any moment
/// of a replay without looking ahead. Training examples are emitted at the first event of a label basket, before
/// that basket is observed, which is what keeps the labels out of their own features.
/// </summary>
/// <remarks>
/// Feature columns (all finite; counts and durations are log1p-compressed because they are heavy-tailed):
/// <list type="number">
/// <item>user: log1p(days since the user's last purchase) — RFM recency;</item>
/// <item>user: log1p(distinct purchase baskets) — RFM frequency;</item>
/// <item>user: sign·log1p(|net spend|) — RFM monetary;</item>
/// <item>user: log1p(distinct items bought);</item>
/// <item>item: log1p(purchase events);</item>
/// <item>item: log1p(distinct buyers);</item>
/// <item>item: log1p(purchase events in the recent window);</item>
/// <item>item: log1p(days since anyone last bought it) (<see cref="NeverDays"/> if never);</item>
/// <item>pair: log1p(the user's baskets containing the item);</item>
/// <item>pair: log1p(days since the user last bought it) (<see cref="NeverDays"/> if never);</item>
/// <item>pair: the item's share of the user's baskets;</item>
/// <item>pair: 1 if the user ever bought it;</item>
/// <item>pair: 1 if it was in the user's latest basket.</item>
/// </list>
/// </remarks>
internal sealed class PropensityFeatures
{
    /// <summary>The number of feature columns.</summary>
    internal const int Width = 13;

    /// <summary>The first pair column; columns before it depend only on the user or only on the item.</summary>
    internal const int PairStart = 8;

    /// <summary>The "days since" used when something never happened (about ten years: beyond any real gap).</summary>
    internal const float NeverDays = 3650f;

    private readonly long _windowTicks;
    private readonly List<UserState?> _users = [];
    private readonly Queue<(long Ticks, int Item)> _window = new();
    private float[] _count = [];
    private float[] _buyers = [];
    private float[] _recent = [];
    private long[] _itemLast = [];

    internal PropensityFeatures(int userCount, int itemCount, TimeSpan recentWindow)
    {
        _windowTicks = recentWindow.Ticks;
        Grow(userCount, itemCount);
    }

    /// <summary>Gets the number of items tracked.</summary>
    internal int ItemCount => _count.Length;

    /// <summary>Gets the latest time stamp observed (long.MinValue before any event).</summary>
    internal long LatestTicks { get; private set; } = long.MinValue;

    /// <summary>Extends the per-user and per-item state for new indices; existing state is kept.</summary>
    internal void Grow(int userCount, int itemCount)
    {
        while (_users.Count < userCount)
        {
            _users.Add(null);
        }

        if (itemCount > _count.Length)
        {
            int old = _count.Length;
            Array.Resize(ref _count, itemCount);
            Array.Resize(ref _buyers, itemCount);
            Array.Resize(ref _recent, itemCount);
            Array.Resize(ref _itemLast, itemCount);
            _itemLast.AsSpan(old).Fill(long.MinValue);
        }
    }

    /// <summary>Gets the number of users tracked.</summary>
    internal int UserCount => _users.Count;

    /// <summary>Gets the per-item purchase events.</summary>
    internal float[] ItemEvents => _count;

    /// <summary>Gets the per-item distinct buyers.</summary>
    internal float[] ItemBuyers => _buyers;

    /// <summary>Gets the per-item purchase events inside the recent window.</summary>
    internal float[] ItemRecent => _recent;

    /// <summary>Gets the per-item time of the latest purchase (long.MinValue if never).</summary>
    internal long[] ItemLast => _itemLast;

    /// <summary>Gets the purchases still inside the recent window, oldest first.</summary>
    internal IEnumerable<(long Ticks, int Item)> Window => _window;

    /// <summary>
    /// Rebuilds a feature state from its parts (for loading a saved model). The arrays are taken over, not copied;
    /// the caller has validated them (equal item lengths, window items in range).
    /// </summary>
    internal static PropensityFeatures Restore(TimeSpan recentWindow, IReadOnlyList<UserState?> users, float[] count,
        float[] buyers, float[] recent, long[] itemLast, IEnumerable<(long Ticks, int Item)> window, long latestTicks)
    {
        var features = new PropensityFeatures(0, 0, recentWindow)
        {
            _count = count,
            _buyers = buyers,
            _recent = recent,
            _itemLast = itemLast,
            LatestTicks = latestTicks,
        };
        features._users.AddRange(users);
        foreach (var entry in window)
        {
            features._window.Enqueue(entry);
        }

        return features;
    }

    /// <summary>Gets the state of <paramref name="user"/>, or null if they have no events yet.</summary>
    internal UserState? User(int user) => _users[user];

    /// <summary>Folds one event into the user's and the items' state (time order is assumed).</summary>
    internal void Observe(in Interaction e)
    {
        Advance(e.Ticks);
        UserState user = _users[e.User] ??= new UserState();
        bool newBuyer = user.Observe(e);
        if (RecommenderGuard.IsPositive(e))
        {
            _count[e.Item]++;
            _buyers[e.Item] += newBuyer ? 1f : 0f;
            _recent[e.Item]++;
            _itemLast[e.Item] = Math.Max(_itemLast[e.Item], e.Ticks);
            _window.Enqueue((e.Ticks, e.Item));
        }
    }

    /// <summary>Moves the clock to <paramref name="now"/>, expiring purchases that left the recent window.</summary>
    internal void Advance(long now)
    {
        LatestTicks = Math.Max(LatestTicks, now);
        long start = LatestTicks - _windowTicks;
        while (_window.Count > 0 && _window.Peek().Ticks < start)
        {
            _recent[_window.Dequeue().Item]--;
        }
    }

    /// <summary>Writes the four user columns of <paramref name="user"/> (null = a user with no history) at <paramref name="now"/>.</summary>
    internal static void WriteUser(UserState? user, long now, Span<float> row)
    {
        if (user is null)
        {
            row[0] = MathF.Log(1f + NeverDays);
            row[1] = 0f;
            row[2] = 0f;
            row[3] = 0f;
            return;
        }

        row[0] = LogDays(now, user.LastPurchaseTicks);
        row[1] = MathF.Log(1f + user.Baskets);
        row[2] = Math.Sign(user.Monetary) * MathF.Log(1f + MathF.Abs((float)user.Monetary));
        row[3] = MathF.Log(1f + user.Items.Count);
    }

    /// <summary>Writes the four item columns of <paramref name="item"/> at <paramref name="now"/>.</summary>
    internal void WriteItem(int item, long now, Span<float> row) => WriteItem(_count, _buyers, _recent, _itemLast, item, now, row);

    /// <summary>
    /// Writes the four item columns of <paramref name="item"/> at <paramref name="now"/> from per-item statistics (this
    /// state's own, or a scorer's frozen copy of them).
    /// </summary>
    internal static void WriteItem(ReadOnlySpan<float> count, ReadOnlySpan<float> buyers, ReadOnlySpan<float> recent,
        ReadOnlySpan<long> itemLast, int item, long now, Span<float> row)
    {
        row[0] = MathF.Log(1f + count[item]);
        row[1] = MathF.Log(1f + buyers[item]);
        row[2] = MathF.Log(1f + recent[item]);
        row[3] = LogDays(now, itemLast[item]);
    }

    /// <summary>Writes the five pair columns for an item the user never bought.</summary>
    internal static void WriteNeverPair(Span<float> row)
    {
        row[0] = 0f;
        row[1] = MathF.Log(1f + NeverDays);
        row[2] = 0f;
        row[3] = 0f;
        row[4] = 0f;
    }

    /// <summary>Writes the five pair columns of (<paramref name="user"/>, <paramref name="item"/>) at <paramref name="now"/>.</summary>
    internal static void WritePair(UserState? user, int item, long now, Span<float> row)
    {
        if (user is null || !user.Items.TryGetValue(item, out UserItemState s))
        {
            WriteNeverPair(row);
            return;
        }

        row[0] = MathF.Log(1f + s.Baskets);
        row[1] = LogDays(now, s.LastTicks);
        row[2] = s.Baskets / (float)Math.Max(1, user.Baskets);
        row[3] = 1f;
        row[4] = s.LastBasket == user.Baskets ? 1f : 0f;
    }

    /// <summary>Writes a full feature row of (<paramref name="user"/>, <paramref name="item"/>) at <paramref name="now"/>.</summary>
    internal void WriteRow(UserState? user, int item, long now, Span<float> row)
    {
        WriteUser(user, now, row);
        WriteItem(item, now, row[4..]);
        WritePair(user, item, now, row[PairStart..]);
    }

    /// <summary>log1p of the days from <paramref name="then"/> to <paramref name="now"/>, or of <see cref="NeverDays"/> when <paramref name="then"/> is unset.</summary>
    private static float LogDays(long now, long then)
    {
        if (then == long.MinValue)
        {
            return MathF.Log(1f + NeverDays);
        }

        double days = Math.Clamp(Timestamps.Days(now - then), 0, NeverDays);
        return MathF.Log(1f + (float)days);
    }

    /// <summary>One user's purchase history, summarised.</summary>
    internal sealed class UserState
    {
        private long _currentKey = long.MinValue;

        /// <summary>Gets the distinct purchase baskets.</summary>
        internal int Baskets { get; private set; }

        /// <summary>Gets the time of the latest purchase (long.MinValue if none).</summary>
        internal long LastPurchaseTicks { get; private set; } = long.MinValue;

        /// <summary>Gets the net spend, Σ quantity × value over all events (returns subtract).</summary>
        internal double Monetary { get; private set; }

        /// <summary>Gets the per-item statistics of the items bought.</summary>
        internal Dictionary<int, UserItemState> Items { get; } = [];

        /// <summary>Gets the items bought, in order of first purchase (for sampling repeat negatives).</summary>
        internal List<int> ItemList { get; } = [];

        /// <summary>Gets the basket key of the latest purchase (long.MinValue if none).</summary>
        internal long CurrentKey => _currentKey;

        /// <summary>
        /// Rebuilds a user's state from its parts (for loading a saved model); the items are added in
        /// <see cref="ItemList"/> order, which the caller has checked to be distinct.
        /// </summary>
        internal static UserState Restore(long currentKey, int baskets, long lastPurchaseTicks, double monetary,
            IEnumerable<(int Item, UserItemState State)> items)
        {
            var user = new UserState
            {
                _currentKey = currentKey,
                Baskets = baskets,
                LastPurchaseTicks = lastPurchaseTicks,
                Monetary = monetary,
            };
            foreach (var (item, state) in items)
            {
                user.Items.Add(item, state);
                user.ItemList.Add(item);
            }

            return user;
        }

        /// <summary>Forgets everything (so a scratch state can be reused without allocating).</summary>
        internal void Clear()
        {
            _currentKey = long.MinValue;
            Baskets = 0;
            LastPurchaseTicks = long.MinValue;
            Monetary = 0;
            Items.Clear();
            ItemList.Clear();
        }

        /// <summary>Folds one event in; returns whether it is the user's first purchase of the item.</summary>
        internal bool Observe(in Interaction e)
        {
            Monetary += (double)e.Quantity * e.Value;
            if (!RecommenderGuard.IsPositive(e))
            {
                return false;
            }

            long key = e.BasketKey;
            if (key != _currentKey)
            {
                Baskets++;
                _currentKey = key;
            }

            LastPurchaseTicks = Math.Max(LastPurchaseTicks, e.Ticks);
            ref UserItemState s = ref CollectionsMarshal.GetValueRefOrAddDefault(Items, e.Item, out bool exists);
            if (!exists)
            {
                ItemList.Add(e.Item);
                s.LastTicks = long.MinValue;
            }

            if (s.LastBasket != Baskets)
            {
                s.Baskets++;
                s.LastBasket = Baskets;
            }

            s.LastTicks = Math.Max(s.LastTicks, e.Ticks);
            return !exists;
        }
    }

    /// <summary>One user's statistics for one item.</summary>
    internal struct UserItemState
    {
        /// <summary>The user's baskets containing the item.</summary>
        internal int Baskets;

        /// <summary>The 1-based ordinal of the user's latest basket containing it.</summary>
        internal int LastBasket;

        /// <summary>The time of the user's latest purchase of it.</summary>
        internal long LastTicks;
    }
}

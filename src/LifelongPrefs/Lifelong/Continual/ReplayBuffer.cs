namespace LifelongPrefs.Lifelong;

/// <summary>
/// The bounded replay memory of a <see cref="ContinualLearner"/>: a weighted reservoir over the whole stream of
/// positive events (<see cref="ReplayReservoir{T}"/>, stratified as <see cref="ReplayStratification"/> says) plus,
/// optionally, each user's most recent events.
/// </summary>
/// <remarks>
/// An event's reservoir weight is 1 (uniform), one over its user's event count so far (by user: each user's events
/// together weigh about as much as any other user's), or one over its item's event count so far (by item popularity).
/// A draw picks the reservoir or the recent windows in proportion to their sizes; a recent draw takes a uniform user
/// among those with a window, then a uniform event of the window. Deterministic under the seed; not thread-safe.
/// </remarks>
internal sealed class ReplayBuffer
{
    private readonly ReplayReservoir<Interaction> _reservoir;
    private readonly ReplayStratification _stratification;
    private readonly int _recentPerUser;
    private int[] _userCounts = [];
    private int[] _itemCounts = [];
    private Interaction[]?[] _recent = [];
    private readonly List<int> _recentUsers = [];
    private long _recentTotal;

    /// <summary>Creates an empty buffer.</summary>
    /// <param name="capacity">The reservoir's capacity (at least 1).</param>
    /// <param name="stratification">How the reservoir weighs events.</param>
    /// <param name="recentPerUser">How many recent events per user are kept besides (0 for none).</param>
    /// <param name="seed">The reservoir's seed.</param>
    internal ReplayBuffer(int capacity, ReplayStratification stratification, int recentPerUser, int seed)
    {
        _reservoir = new ReplayReservoir<Interaction>(capacity, seed);
        (_stratification, _recentPerUser) = (stratification, recentPerUser);
    }

    /// <summary>Gets the reservoir (for tests).</summary>
    internal ReplayReservoir<Interaction> Reservoir => _reservoir;

    /// <summary>Gets the number of events the recent windows hold.</summary>
    internal long RecentCount => _recentTotal;

    /// <summary>Offers the next event of the stream (non-positive events are ignored).</summary>
    /// <param name="e">The event; its user and item are non-negative.</param>
    internal void Offer(in Interaction e)
    {
        if (!RecommenderGuard.IsPositive(e))
        {
            return;
        }

        Grow(ref _userCounts, e.User);
        Grow(ref _itemCounts, e.Item);
        int userCount = ++_userCounts[e.User], itemCount = ++_itemCounts[e.Item];
        double weight = _stratification switch
        {
            ReplayStratification.ByUser => 1.0 / userCount,
            ReplayStratification.ByItemPopularity => 1.0 / itemCount,
            _ => 1.0,
        };
        _reservoir.Offer(e, weight);
        if (_recentPerUser > 0)
        {
            Grow(ref _recent, e.User);
            Interaction[]? window = _recent[e.User];
            if (window is null)
            {
                window = _recent[e.User] = new Interaction[_recentPerUser];
                _recentUsers.Add(e.User);
            }

            // userCount − 1 events of this user were offered before: a ring over the window.
            window[(userCount - 1) % _recentPerUser] = e;
            if (userCount <= _recentPerUser)
            {
                _recentTotal++;
            }
        }
    }

    /// <summary>Appends <paramref name="count"/> draws (with replacement) to <paramref name="into"/>; none when the buffer is empty.</summary>
    /// <param name="count">How many to draw.</param>
    /// <param name="random">The generator of the draws.</param>
    /// <param name="into">Receives the drawn events.</param>
    internal void Sample(int count, Random random, List<Interaction> into)
    {
        long total = _reservoir.Count + _recentTotal;
        if (total == 0)
        {
            return;
        }

        for (int k = 0; k < count; k++)
        {
            long at = random.NextInt64(total);
            if (at < _reservoir.Count)
            {
                into.Add(_reservoir.Items[(int)at]);
                continue;
            }

            int user = _recentUsers[random.Next(_recentUsers.Count)];
            int filled = Math.Min(_userCounts[user], _recentPerUser);
            into.Add(_recent[user]![random.Next(filled)]);
        }
    }

    /// <summary>
    /// Drops every event of <paramref name="user"/> (right to erasure): from the reservoir, their recent window and
    /// their event count. The reservoir keeps the others' events and their keys, so it is smaller until new offers
    /// refill it.
    /// </summary>
    internal void ForgetUser(int user)
    {
        _reservoir.RemoveWhere(e => e.User == user);
        if (user < _userCounts.Length)
        {
            if (user < _recent.Length && _recent[user] is not null)
            {
                _recentTotal -= Math.Min(_userCounts[user], _recentPerUser);
                _recent[user] = null;
                _recentUsers.Remove(user);
            }

            _userCounts[user] = 0;
        }
    }

    /// <summary>Gets the recent windows (for the tracker's state image).</summary>
    internal IReadOnlyList<Interaction[]?> RecentWindows => _recent;

    /// <summary>
    /// Adds the whole buffer as sections: the reservoir's heap (events, keys, offered count, key generator), the per-user
    /// and per-item counts, and the recent windows in the order their users joined (the order draws pick them in).
    /// </summary>
    internal void WriteState(ModelStateWriter writer)
    {
        InteractionSections.Add(writer, "replay.reservoir", _reservoir.Items.ToArray());
        writer.AddDoubles("replay.keys", _reservoir.Keys.ToArray());
        writer.AddLongs("replay.counters", [_reservoir.Offered, _recentTotal]);
        writer.AddRandom("replay", _reservoir.Generator);
        writer.AddInts("replay.userCounts", _userCounts);
        writer.AddInts("replay.itemCounts", _itemCounts);
        writer.AddInts("replay.recentUsers", [.. _recentUsers]);
        var windows = new List<Interaction>(_recentUsers.Count * _recentPerUser);
        foreach (int user in _recentUsers)
        {
            windows.AddRange(_recent[user]!);
        }

        InteractionSections.Add(writer, "replay.recent", windows);
    }

    /// <summary>
    /// Takes and checks the sections <see cref="WriteState"/> wrote for a model of <paramref name="users"/> users and
    /// <paramref name="items"/> items; the returned action applies them. Nothing is allocated beyond the sections.
    /// </summary>
    /// <exception cref="ModelStateException">A section is missing or malformed, or the counts disagree.</exception>
    internal Action ReadState(ModelStateReader reader, int users, int items)
    {
        Interaction[] kept = InteractionSections.Read(reader, "replay.reservoir", -1, users, items);
        reader.Require(kept.Length <= _reservoir.Capacity, $"the replay reservoir holds {kept.Length} events for a capacity of {_reservoir.Capacity}");
        double[] keys = reader.Doubles("replay.keys", kept.Length);
        reader.Require(Array.TrueForAll(keys, k => k <= 0) && ReplayReservoir<Interaction>.IsHeap(keys), "the replay keys are positive or not a heap");
        long[] counters = reader.Longs("replay.counters", 2);
        int[] random = reader.Random("replay");
        int[] userCounts = reader.Ints("replay.userCounts"), itemCounts = reader.Ints("replay.itemCounts");
        reader.Require(userCounts.Length <= Math.Max(16, 2L * users) && itemCounts.Length <= Math.Max(16, 2L * items), "the replay counts outgrow the model");
        reader.Require(Array.TrueForAll(userCounts, c => c >= 0) && Array.TrueForAll(itemCounts, c => c >= 0), "a replay count is negative");
        reader.Require(counters[0] >= kept.Length && counters[0] >= itemCounts.Sum(c => (long)c), "the replay offered count is below what it kept");
        int[] recentUsers = reader.Ints("replay.recentUsers");
        reader.Require(_recentPerUser > 0 || recentUsers.Length == 0, "recent windows without a window size");
        Interaction[] windows = InteractionSections.Read(reader, "replay.recent", (long)recentUsers.Length * _recentPerUser, users, items);
        var recent = new Interaction[]?[recentUsers.Length == 0 ? 0 : userCounts.Length];
        long total = 0;
        for (int k = 0; k < recentUsers.Length; k++)
        {
            int user = recentUsers[k];
            reader.Require((uint)user < (uint)userCounts.Length && userCounts[user] > 0 && recent[user] is null, $"recent window {k} names user {user}");
            Interaction[] window = windows.AsSpan(k * _recentPerUser, _recentPerUser).ToArray();
            int filled = Math.Min(userCounts[user], _recentPerUser);
            reader.Require(Array.TrueForAll(window[..filled], e => e.User == user) && Array.TrueForAll(window[filled..], e => e == default),
                $"user {user}'s recent window holds another user's events");
            recent[user] = window;
            total += filled;
        }

        reader.Require(total == counters[1], $"the recent windows hold {total} events, not {counters[1]}");
        return () =>
        {
            _reservoir.Restore(kept, keys, counters[0]);
            _reservoir.Generator.SetState(random);
            (_userCounts, _itemCounts, _recent, _recentTotal) = (userCounts, itemCounts, recent, counters[1]);
            _recentUsers.Clear();
            _recentUsers.AddRange(recentUsers);
        };
    }

    private static void Grow<T>(ref T[] array, int index)
    {
        if (index >= array.Length)
        {
            Array.Resize(ref array, Math.Max(index + 1, Math.Max(16, array.Length * 2)));
        }
    }
}

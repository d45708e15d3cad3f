namespace LifelongPrefs.Models;

/// <summary>
/// Which items each user has bought (their positive events' items), the one per-user item index the models share:
/// ItemKNN counts a co-occurrence when a pair is new, BPR-MF trains each new pair once, RepeatAware's co-occurrence
/// model is an ItemKNN. Unlike <see cref="UserHistories"/> it keeps no events, only the set a membership test needs on
/// every event; it is built by appending events, or from a store with <see cref="FromHistories"/>.
/// </summary>
internal sealed class UserItemSets
{
    private static readonly HashSet<int> None = [];
    private readonly List<HashSet<int>> _sets;

    internal UserItemSets()
        : this([])
    {
    }

    private UserItemSets(List<HashSet<int>> sets) => _sets = sets;

    /// <summary>Gets the number of users (valid user indices are [0, UserCount)).</summary>
    internal int UserCount => _sets.Count;

    /// <summary>The sets of a store's users, as appending the store's events in its order builds them.</summary>
    internal static UserItemSets FromHistories(UserHistories histories)
    {
        var sets = new UserItemSets();
        sets.EnsureUsers(histories.UserCount);
        for (int u = 0; u < histories.UserCount; u++)
        {
            foreach (ref readonly Interaction e in histories.EventsOf(u))
            {
                sets.Add(e);
            }
        }

        return sets;
    }

    /// <summary>Adds empty sets up to <paramref name="userCount"/> users (a smaller value changes nothing).</summary>
    internal void EnsureUsers(int userCount)
    {
        while (_sets.Count < userCount)
        {
            _sets.Add([]);
        }
    }

    /// <summary>Gets one user's items (empty for a user beyond <see cref="UserCount"/>); callers only read it.</summary>
    internal HashSet<int> Of(int user) => user < _sets.Count ? _sets[user] : None;

    /// <summary>Empties one user's set (erasing the user); a user beyond <see cref="UserCount"/> has none.</summary>
    internal void ClearUser(int user)
    {
        if (user < _sets.Count)
        {
            _sets[user] = [];
        }
    }

    /// <summary>Records a positive event's item for its user; returns whether the (user, item) pair is new.</summary>
    internal bool Add(in Interaction e) => RecommenderGuard.IsPositive(e) && _sets[e.User].Add(e.Item);

    /// <summary>Adds the sets as one CSR section (each row ascending).</summary>
    internal void Write(ModelStateWriter writer, string name) => writer.AddSets(name, _sets);

    /// <summary>Takes and checks <see cref="Write"/>'s section over <paramref name="items"/> items.</summary>
    internal static UserItemSets Read(ModelStateReader reader, string name, int items) => new(reader.Sets(name, items));
}

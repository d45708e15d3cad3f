namespace LifelongPrefs.Models;

public sealed partial class SasRec
{
    /// <summary>The flattened purchase sequence of one user of a store (<see cref="HistoryViews.BasketSequence"/>).</summary>
    private static List<int> SequenceOf(UserHistories histories, int user, HashSet<int> scratch)
    {
        var sequence = new List<int>();
        HistoryViews.BasketSequence(histories, user, sequence, scratch);
        return sequence;
    }

    /// <summary>Appends the events to the model's store; returns the users whose sequence grew.</summary>
    private HashSet<int> Append(IReadOnlyList<Interaction> events)
    {
        var before = new Dictionary<int, int>();
        var scratch = new HashSet<int>();
        foreach (Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e) && !before.ContainsKey(e.User))
            {
                before[e.User] = SequenceOf(_histories, e.User, scratch).Count;
            }
        }

        _histories.Append(events);
        var affected = new HashSet<int>();
        foreach ((int user, int length) in before)
        {
            if (SequenceOf(_histories, user, scratch).Count > length)
            {
                affected.Add(user);
            }
        }

        return affected;
    }

    /// <summary>
    /// Format 1's sections — per user the flattened sequence, the open (last) basket's items and that basket's key — as
    /// a store whose derived sequences are the saved ones: the open basket under its saved key (so later events of it
    /// join it), the items before it in synthetic baskets of distinct items (<see cref="HistoryViews.AppendSynthetic"/>).
    /// </summary>
    private static UserHistories ReadSequences(ModelStateReader reader, int users, int items)
    {
        List<List<int>> sequences = reader.Lists("sequences", items);
        List<HashSet<int>> baskets = reader.Sets("openBaskets", items);
        long[] keys = reader.Longs("basketKeys", users);
        reader.Require(sequences.Count == users && baskets.Count == users, "sequences, open baskets and user count disagree");
        var histories = new UserHistories(users);
        var run = new HashSet<int>();
        try
        {
            for (int u = 0; u < users; u++)
            {
                List<int> sequence = sequences[u];
                int open = baskets[u].Count, prefix = sequence.Count - open, ordinal = 0, start = 0;
                reader.Require(prefix >= 0 && (open == 0) == (keys[u] == long.MinValue) && keys[u] <= int.MaxValue
                    && sequence.Skip(prefix).Order().SequenceEqual(baskets[u].Order()), $"user {u}'s open basket disagrees with the sequence");
                // Cut the items before the open basket into runs of distinct items, one basket each.
                ReadOnlySpan<int> flat = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence);
                run.Clear();
                for (int j = 0; j < prefix; j++)
                {
                    if (!run.Add(flat[j]))
                    {
                        HistoryViews.AppendSynthetic(histories, u, flat[start..j], ++ordinal);
                        (start, run) = (j, [flat[j]]);
                    }
                }

                HistoryViews.AppendSynthetic(histories, u, flat[start..prefix], ++ordinal);
                for (int j = prefix; j < sequence.Count; j++)
                {
                    long key = keys[u];
                    histories.Append(key >= 0
                        ? new Interaction(u, sequence[j], 0, EventKind.Purchase, 1f, 0f, (int)key)
                        : new Interaction(u, sequence[j], ~key, EventKind.Purchase, 1f, 0f, -1));
                }
            }
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new ModelStateException($"The saved {reader.Model} state's sequences are invalid.", error);
        }

        return histories;
    }
}

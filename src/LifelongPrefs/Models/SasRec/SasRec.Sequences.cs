using LifelongPrefs.Data;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Models;

public sealed partial class SasRec
{
    /// <summary>Per-user flattened purchase sequences, appendable event by event (baskets continue across calls).</summary>
    private sealed class SequenceState
    {
        private readonly List<long> _lastKey = [];
        private readonly List<HashSet<int>> _basket = [];

        internal List<List<int>> Sequences { get; } = [];

        /// <summary>Adds the sequences, open baskets (sorted) and current basket keys to a state.</summary>
        internal void Export(ModelStateWriter writer)
        {
            writer.AddLists("sequences", Sequences);
            writer.AddSets("openBaskets", _basket);
            writer.AddLongs("basketKeys", [.. _lastKey]);
        }

        /// <summary>Reads and checks <see cref="Export"/>'s sections for <paramref name="users"/> users over <paramref name="items"/> items.</summary>
        internal static SequenceState Import(ModelStateReader reader, int users, int items)
        {
            List<List<int>> sequences = reader.Lists("sequences", items);
            List<HashSet<int>> baskets = reader.Sets("openBaskets", items);
            long[] keys = reader.Longs("basketKeys", users);
            reader.Require(sequences.Count == users && baskets.Count == users, "sequences, open baskets and user count disagree");
            var state = new SequenceState();
            state.Sequences.AddRange(sequences);
            state._basket.AddRange(baskets);
            state._lastKey.AddRange(keys);
            return state;
        }

        internal void Append(IReadOnlyList<Interaction> events, int userCount, HashSet<int>? affected)
        {
            while (Sequences.Count < userCount)
            {
                Sequences.Add([]);
                _lastKey.Add(long.MinValue);
                _basket.Add([]);
            }

            for (int i = 0; i < events.Count; i++)
            {
                Interaction e = events[i];
                if (!RecommenderGuard.IsPositive(e))
                {
                    continue;
                }

                long key = BasketKey(e);
                if (key != _lastKey[e.User])
                {
                    _basket[e.User].Clear();
                    _lastKey[e.User] = key;
                }

                if (_basket[e.User].Add(e.Item))
                {
                    Sequences[e.User].Add(e.Item);
                    affected?.Add(e.User);
                }
            }
        }
    }
}

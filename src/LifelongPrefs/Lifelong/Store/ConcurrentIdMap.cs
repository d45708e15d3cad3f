using System.Collections.Concurrent;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Maps the shop's string ids to dense indices 0, 1, 2, … in order of first sight. One writer at a time adds
/// (the tracker's write lock); any number of threads look up at the same time, lock-free.
/// </summary>
/// <remarks>
/// An id becomes visible to readers only after its slot in the id array is written and the count is published, so a
/// reader that finds an index can always turn it back into the id.
/// </remarks>
internal sealed class ConcurrentIdMap
{
    private readonly ConcurrentDictionary<string, int> _index;
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spans;
    private string?[] _ids = new string?[16];
    private int _count;

    /// <summary>Creates an empty map.</summary>
    internal ConcurrentIdMap()
    {
        _index = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        _spans = _index.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Gets the number of ids (readers see a value that only grows).</summary>
    internal int Count => Volatile.Read(ref _count);

    /// <summary>Looks an id up without adding it. Any thread.</summary>
    internal bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);

    /// <summary>Looks an id given as characters up without adding it or allocating. Any thread.</summary>
    internal bool TryGetIndex(ReadOnlySpan<char> id, out int index) => _spans.TryGetValue(id, out index);

    /// <summary>Gets the id of an index below <see cref="Count"/> (an index freed by <see cref="Remove"/> is never asked for). Any thread.</summary>
    internal string GetId(int index) => Volatile.Read(ref _ids)[index]!;

    /// <summary>Gets the id of an index below <see cref="Count"/>, or <see langword="null"/> when it was removed. Any thread.</summary>
    internal string? FindId(int index) => Volatile.Read(ref _ids)[index];

    /// <summary>
    /// Removes an id (right to erasure): its index stays reserved — mapped to no id, never handed out again — so every
    /// other index and every array sized by <see cref="Count"/> stay valid. Returns the freed index, or −1 for an unknown
    /// id. Writer only.
    /// </summary>
    internal int Remove(string id)
    {
        if (!_index.TryRemove(id, out int index))
        {
            return -1;
        }

        Volatile.Read(ref _ids)[index] = null;
        return index;
    }

    /// <summary>
    /// Appends an index mapped to no id, as <see cref="Remove"/> leaves one: restoring a checkpoint that holds an erased
    /// user's reserved place. Returns the index. Writer only.
    /// </summary>
    internal int Reserve() => Append(null);

    /// <summary>Returns the id's index, adding it when new. Writer only.</summary>
    internal int GetOrAdd(string id)
    {
        if (_index.TryGetValue(id, out int index))
        {
            return index;
        }

        index = Append(id);
        _index[id] = index;
        return index;
    }

    private int Append(string? id)
    {
        int n = _count;
        string?[] ids = _ids;
        if (n == ids.Length)
        {
            // A reader may still hold the old array: copy, then publish the new one before the count that needs it.
            var grown = new string?[ids.Length * 2];
            ids.AsSpan().CopyTo(grown);
            Volatile.Write(ref _ids, grown);
            ids = grown;
        }

        ids[n] = id;
        Volatile.Write(ref _count, n + 1);
        return n;
    }
}

using System.Runtime.InteropServices;

namespace LifelongPrefs.Data;

/// <summary>
/// A growable, stable two-way map between external string ids and dense indices 0, 1, 2, ... in order of first
/// appearance. Indices never change once assigned, so embeddings keyed by them stay valid as the catalog grows.
/// </summary>
/// <remarks>
/// Reads (<see cref="TryGetIndex"/>, <see cref="GetId"/>, <see cref="Count"/>) may run concurrently with each
/// other but not with <see cref="GetOrAdd"/>; callers that mix them across threads must synchronise.
/// Ids are compared ordinally (case-sensitive).
/// </remarks>
public sealed class IdMap
{
    private readonly Dictionary<string, int> _indices = new(StringComparer.Ordinal);
    private readonly List<string> _ids = [];

    /// <summary>Gets the number of ids mapped so far (also the next index to be assigned).</summary>
    public int Count => _ids.Count;

    /// <summary>Gets the ids in index order.</summary>
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>Returns the index of <paramref name="id"/>, assigning the next free index if it is new.</summary>
    /// <param name="id">The external id; not null or empty.</param>
    /// <returns>The dense index.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is null or empty.</exception>
    public int GetOrAdd(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ref int index = ref CollectionsMarshal.GetValueRefOrAddDefault(_indices, id, out bool exists);
        if (!exists)
        {
            index = _ids.Count;
            _ids.Add(id);
        }

        return index;
    }

    /// <summary>
    /// Looks up an id without adding it: unlike <see cref="GetOrAdd"/>, an unknown id leaves the map (and
    /// <see cref="Count"/>) unchanged, so use this to ask about a user or item that may not be in the data.
    /// </summary>
    /// <param name="id">The external id (compared ordinally; the empty string is never mapped).</param>
    /// <param name="index">The dense index, or -1 when the id is unknown.</param>
    /// <returns><see langword="true"/> when the id has an index; otherwise <see langword="false"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    public bool TryGetIndex(string id, out int index)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_indices.TryGetValue(id, out index))
        {
            return true;
        }

        index = -1;
        return false;
    }

    /// <summary>Returns the external id of a dense index.</summary>
    /// <param name="index">An index in [0, <see cref="Count"/>).</param>
    /// <returns>The id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public string GetId(int index)
    {
        if ((uint)index >= (uint)_ids.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"'{nameof(index)}' must be in [0, {_ids.Count}) but was {index}.");
        }

        return _ids[index];
    }
}

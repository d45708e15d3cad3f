using LifelongPrefs.Training;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// A bounded, seeded sample of a stream for replay: every element offered so far is kept with probability
/// proportional to its weight (exactly <c>capacity / n</c> when all weights are equal), in fixed memory.
/// </summary>
/// <remarks>
/// <para>
/// This is weighted reservoir sampling by keys (Efraimidis and Spirakis, "Weighted random sampling with a reservoir",
/// IPL 2006, algorithm A-Res): an element of weight w draws u ~ U(0, 1) and the key <c>log(u) / w</c> (the log of
/// u^(1/w), monotone, so nothing underflows); the reservoir holds the <c>capacity</c> largest keys in a min-heap. With
/// capacity 1 an element is kept with probability w / Σw exactly; in general the sample is drawn without replacement
/// in proportion to the weights. Equal weights give a uniform sample of the whole stream. Giving heavy users' events a
/// weight below 1 (e.g. one over the user's event count) stratifies the replay by user, so that a few big accounts do
/// not crowd out everyone else's long-standing interests.
/// </para>
/// <para>
/// Deterministic: the same seed and the same offers give the same sample. Not thread-safe (the learner thread owns it).
/// Offering allocates nothing once the reservoir is full.
/// </para>
/// </remarks>
/// <typeparam name="T">The element type (events are small structs).</typeparam>
internal sealed class ReplayReservoir<T>
{
    private readonly T[] _items;
    private readonly double[] _keys;   // a min-heap on the keys, _items in the same order
    private readonly SeededRandom _random;   // draws as new Random(seed) does, and its state can be saved

    /// <summary>Creates an empty reservoir.</summary>
    /// <param name="capacity">The most elements kept (at least 1).</param>
    /// <param name="seed">Seed of the keys.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    internal ReplayReservoir(int capacity, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
        _keys = new double[capacity];
        _random = new SeededRandom(seed);
    }

    /// <summary>Gets the number of elements kept (at most the capacity).</summary>
    internal int Count { get; private set; }

    /// <summary>Gets the number of elements offered.</summary>
    internal long Offered { get; private set; }

    /// <summary>Gets the capacity.</summary>
    internal int Capacity => _items.Length;

    /// <summary>Gets the kept elements (in heap order, which carries no meaning).</summary>
    internal ReadOnlySpan<T> Items => _items.AsSpan(0, Count);

    /// <summary>Gets the kept elements' keys, in the order of <see cref="Items"/> (for a checkpoint).</summary>
    internal ReadOnlySpan<double> Keys => _keys.AsSpan(0, Count);

    /// <summary>Gets the key generator (for a checkpoint: its state is saved and restored).</summary>
    internal SeededRandom Generator => _random;

    /// <summary>
    /// Replaces the contents with a saved heap (validated by the caller: at most <see cref="Capacity"/> elements, finite
    /// non-positive keys in heap order) and the offered count; the generator's state is restored separately.
    /// </summary>
    internal void Restore(ReadOnlySpan<T> items, ReadOnlySpan<double> keys, long offered)
    {
        Array.Clear(_items);
        Array.Clear(_keys);
        items.CopyTo(_items);
        keys.CopyTo(_keys);
        (Count, Offered) = (items.Length, offered);
    }

    /// <summary>Whether <paramref name="keys"/> is a min-heap (each key at least its parent's), as a saved reservoir's keys must be.</summary>
    internal static bool IsHeap(ReadOnlySpan<double> keys)
    {
        for (int i = 1; i < keys.Length; i++)
        {
            if (!(keys[(i - 1) / 2] <= keys[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Offers the next element of the stream.</summary>
    /// <param name="item">The element.</param>
    /// <param name="weight">Its weight, finite and positive (1 for a uniform sample).</param>
    /// <returns>Whether it was kept (it may be evicted later).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is not finite and positive (nothing changes).</exception>
    internal bool Offer(T item, double weight = 1)
    {
        if (!(weight > 0 && double.IsFinite(weight)))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"'{nameof(weight)}' must be finite and positive; it is {weight}.");
        }

        Offered++;

        // 1 − NextDouble() lies in (0, 1], so the log is finite; log(u)/w orders elements exactly as u^(1/w) does.
        double key = Math.Log(1 - _random.NextDouble()) / weight;
        if (Count < _items.Length)
        {
            int at = Count++;
            (_items[at], _keys[at]) = (item, key);
            SiftUp(at);
            return true;
        }

        if (key <= _keys[0])
        {
            return false;
        }

        (_items[0], _keys[0]) = (item, key);   // replace the smallest key, then restore the heap
        SiftDown(0);
        return true;
    }

    /// <summary>Copies <paramref name="destination"/>.Length kept elements chosen uniformly with replacement into it (for mixing into a batch).</summary>
    /// <param name="destination">Where the draws go.</param>
    /// <param name="random">The generator of the draws (the caller's seeded stream).</param>
    /// <returns>How many were written: <paramref name="destination"/>.Length, or 0 when the reservoir is empty.</returns>
    internal int Sample(Span<T> destination, Random random)
    {
        if (Count == 0)
        {
            return 0;
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = _items[random.Next(Count)];
        }

        return destination.Length;
    }

    /// <summary>
    /// Removes every kept element <paramref name="match"/> selects (erasing a user's events) and restores the heap; the
    /// others keep their keys, so later offers compete with them as before. Offered counts are unchanged.
    /// </summary>
    /// <param name="match">Selects the elements to remove.</param>
    /// <returns>How many were removed.</returns>
    internal int RemoveWhere(Func<T, bool> match)
    {
        int kept = 0;
        for (int i = 0; i < Count; i++)
        {
            if (!match(_items[i]))
            {
                (_items[kept], _keys[kept]) = (_items[i], _keys[i]);
                kept++;
            }
        }

        int removed = Count - kept;
        Array.Clear(_items, kept, removed); // no copy of a removed element stays behind the count
        Array.Clear(_keys, kept, removed);
        Count = kept;
        for (int i = (Count / 2) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }

        return removed;
    }

    private void SiftUp(int at)
    {
        while (at > 0)
        {
            int parent = (at - 1) / 2;
            if (_keys[parent] <= _keys[at])
            {
                return;
            }

            Swap(at, parent);
            at = parent;
        }
    }

    private void SiftDown(int at)
    {
        while (true)
        {
            int left = (2 * at) + 1, smallest = at;
            if (left < Count && _keys[left] < _keys[smallest])
            {
                smallest = left;
            }

            if (left + 1 < Count && _keys[left + 1] < _keys[smallest])
            {
                smallest = left + 1;
            }

            if (smallest == at)
            {
                return;
            }

            Swap(at, smallest);
            at = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_keys[a], _keys[b]) = (_keys[b], _keys[a]);
        (_items[a], _items[b]) = (_items[b], _items[a]);
    }
}

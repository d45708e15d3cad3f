namespace LifelongPrefs.Models;

/// <summary>
/// A small lock-free pool of per-call scratch objects, so concurrent reads each work in their own buffers and a
/// steady stream of calls allocates nothing.
/// </summary>
/// <remarks>
/// A fixed array of slots taken and given back with <see cref="Interlocked.Exchange{T}(ref T, T)"/>: a call that
/// finds every slot empty creates a new object, and one returned to a full pool is dropped for the GC, so the pool
/// never blocks and holds at most <see cref="Slots"/> objects.
/// </remarks>
/// <typeparam name="T">The scratch type.</typeparam>
internal sealed class ScratchPool<T>
    where T : class
{
    /// <summary>The number of objects kept: enough for every core plus oversubscribed callers.</summary>
    internal static readonly int Slots = Math.Max(16, 2 * Environment.ProcessorCount);

    private readonly T?[] _slots = new T?[Slots];
    private readonly Func<T> _create;

    /// <summary>Creates an empty pool.</summary>
    /// <param name="create">Makes a new scratch object when the pool is empty.</param>
    internal ScratchPool(Func<T> create) => _create = create;

    /// <summary>Takes a scratch object (a pooled one if any is free); give it back with <see cref="Return"/>.</summary>
    internal T Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            T? item = Interlocked.Exchange(ref _slots[i], null);
            if (item is not null)
            {
                return item;
            }
        }

        return _create();
    }

    /// <summary>Gives <paramref name="item"/> back for a later call (or drops it when the pool is full).</summary>
    internal void Return(T item)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], item, null) is null)
            {
                return;
            }
        }
    }
}

namespace LifelongPrefs.Nn.Sampling;

/// <summary>
/// Draws item ids uniformly from [0, <see cref="ItemCount"/>): Q(item) = 1 / ItemCount. The catalog can grow;
/// after <see cref="Grow"/> new items are drawn with the same probability as old ones.
/// </summary>
/// <remarks>
/// All randomness comes from the seeded <see cref="Random"/> passed to the constructor (the project's one
/// RNG choice), so the same seed gives the same sequence. Not thread-safe; allocates nothing per call.
/// </remarks>
public sealed class UniformSampler : INegativeSampler
{
    private readonly Random _random;

    /// <summary>Creates a uniform sampler over <paramref name="itemCount"/> items.</summary>
    /// <param name="itemCount">The number of items; positive.</param>
    /// <param name="random">The seeded source of randomness, e.g. <c>new Random(seed)</c>; the sampler takes it over.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="itemCount"/> is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public UniformSampler(int itemCount, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (itemCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(itemCount), itemCount,
                $"'{nameof(itemCount)}' must be positive but was {itemCount}.");
        }

        ItemCount = itemCount;
        _random = random;
    }

    /// <inheritdoc/>
    public int ItemCount { get; private set; }

    /// <inheritdoc/>
    public int NextItem() => _random.Next(ItemCount);

    /// <inheritdoc/>
    public void Sample(Span<int> destination)
    {
        int count = ItemCount;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = _random.Next(count);
        }
    }

    /// <inheritdoc/>
    public float LogProbability(int item)
    {
        SamplerGuard.Item(item, ItemCount, nameof(item));
        return (float)-Math.Log(ItemCount);
    }

    /// <inheritdoc/>
    public void LogProbabilities(ReadOnlySpan<int> items, Span<float> destination)
    {
        SamplerGuard.Items(items, destination, ItemCount);
        destination.Fill((float)-Math.Log(ItemCount));
    }

    /// <summary>Extends the catalog to <paramref name="newItemCount"/> items; existing ids keep their meaning.</summary>
    /// <param name="newItemCount">The new number of items; at least <see cref="ItemCount"/> (equal is a no-op).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newItemCount"/> is smaller than <see cref="ItemCount"/>.</exception>
    public void Grow(int newItemCount)
    {
        if (newItemCount < ItemCount)
        {
            throw new ArgumentOutOfRangeException(nameof(newItemCount), newItemCount,
                $"'{nameof(newItemCount)}' = {newItemCount} is smaller than the current item count {ItemCount}; catalogs only grow.");
        }

        ItemCount = newItemCount;
    }
}

/// <summary>Argument checks shared by the samplers.</summary>
internal static class SamplerGuard
{
    /// <summary>Throws unless <paramref name="item"/> is in [0, <paramref name="count"/>).</summary>
    internal static void Item(int item, int count, string name)
    {
        if ((uint)item >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(name, item, $"Item id {item} is outside [0, {count}).");
        }
    }

    /// <summary>Validates the arguments of a LogProbabilities call before anything is written.</summary>
    internal static void Items(ReadOnlySpan<int> items, Span<float> destination, int count)
    {
        if (destination.Length != items.Length)
        {
            throw new ArgumentException(
                $"'{nameof(destination)}' has length {destination.Length} but must match '{nameof(items)}' ({items.Length}).",
                nameof(destination));
        }

        for (int k = 0; k < items.Length; k++)
        {
            if ((uint)items[k] >= (uint)count)
            {
                throw new ArgumentOutOfRangeException(nameof(items), items[k],
                    $"items[{k}] = {items[k]} is outside [0, {count}).");
            }
        }
    }
}

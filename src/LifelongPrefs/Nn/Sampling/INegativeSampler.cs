namespace LifelongPrefs.Nn.Sampling;

/// <summary>
/// A seeded source of negative item ids for sampled losses, together with the exact proposal probabilities
/// Q(item) that the logQ correction of <see cref="Losses.SampledSoftmaxLoss"/> needs.
/// </summary>
/// <remarks>
/// Items are the ids 0 .. <see cref="ItemCount"/> − 1. Samples are drawn independently with replacement, so a
/// batch of negatives can repeat an id or hit the positive (see the accidental-hit removal of
/// <see cref="Losses.SampledSoftmaxLoss"/>). Implementations are deterministic given their seeded
/// <see cref="Random"/>, allocate nothing per call, and are not thread-safe.
/// </remarks>
public interface INegativeSampler
{
    /// <summary>Gets the number of items the sampler draws from.</summary>
    int ItemCount { get; }

    /// <summary>Draws one item id.</summary>
    /// <returns>An id in [0, <see cref="ItemCount"/>).</returns>
    int NextItem();

    /// <summary>Fills <paramref name="destination"/> with independent draws.</summary>
    /// <param name="destination">Receives one item id per element.</param>
    void Sample(Span<int> destination);

    /// <summary>Returns log Q(<paramref name="item"/>), the natural log of the probability that one draw returns the item.</summary>
    /// <param name="item">An id in [0, <see cref="ItemCount"/>).</param>
    /// <returns>The log-probability; −∞ for an item that can never be drawn.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is outside [0, <see cref="ItemCount"/>).</exception>
    float LogProbability(int item);

    /// <summary>Writes log Q(items[k]) to destination[k] for every k (the logQ input of a sampled loss).</summary>
    /// <param name="items">Item ids in [0, <see cref="ItemCount"/>).</param>
    /// <param name="destination">Receives one log-probability per item; exactly as long as <paramref name="items"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An item id is out of range (nothing is written).</exception>
    void LogProbabilities(ReadOnlySpan<int> items, Span<float> destination);
}

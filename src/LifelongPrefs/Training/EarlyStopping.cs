namespace LifelongPrefs.Training;

/// <summary>
/// The one patience rule of every model: an epoch improves when its validation metric is strictly greater than
/// the best so far; training stops after <see cref="Patience"/> epochs in a row without an improvement.
/// </summary>
/// <remarks>
/// A NaN metric never improves (and counts as a stale epoch). There is no minimum improvement: a metric that
/// creeps up keeps training going, and the epoch cap bounds the cost.
/// </remarks>
internal sealed class EarlyStopping
{
    /// <summary>Creates the rule.</summary>
    /// <param name="patience">Stale epochs tolerated before stopping; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="patience"/> is less than 1.</exception>
    internal EarlyStopping(int patience)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        Patience = patience;
    }

    /// <summary>Gets the number of stale epochs tolerated.</summary>
    internal int Patience { get; }

    /// <summary>Gets the best metric so far (−∞ before the first finite one).</summary>
    internal double Best { get; private set; } = double.NegativeInfinity;

    /// <summary>Gets the 1-based epoch of <see cref="Best"/> (0 before any improvement).</summary>
    internal int BestEpoch { get; private set; }

    /// <summary>Gets the number of epochs since the last improvement.</summary>
    internal int StaleEpochs { get; private set; }

    /// <summary>Gets a value indicating whether the patience is used up.</summary>
    internal bool ShouldStop => StaleEpochs >= Patience;

    /// <summary>Gets how many more stale epochs would end training.</summary>
    internal int EpochsLeft => Patience - StaleEpochs;

    /// <summary>Records one epoch's metric.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="metric">Its validation metric (higher is better).</param>
    /// <returns>True when the epoch is the new best (its parameters should be kept).</returns>
    internal bool Observe(int epoch, double metric)
    {
        if (metric > Best)
        {
            (Best, BestEpoch, StaleEpochs) = (metric, epoch, 0);
            return true;
        }

        StaleEpochs++;
        return false;
    }
}

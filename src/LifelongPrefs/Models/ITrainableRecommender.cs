namespace LifelongPrefs.Models;

/// <summary>
/// The seams a learned model offers the lifelong tracker (same assembly): its named parameters and optimizer, one
/// training step with hooks between backward and the optimizer step, and checked growth.
/// </summary>
/// <remarks>
/// <para>
/// <b>Step.</b> <c>Trainer.Step(model, examples)</c> runs the model's backward pass on examples of its current
/// training set, then every hook in <c>Trainer.Hooks</c> (the model's own L2 is registered there; online EWC and
/// distillation are added by the tracker), then the optimizer step with its NaN/Inf guard, counting skipped steps.
/// </para>
/// <para>
/// <b>Growth.</b> <see cref="Grow"/> validates the new counts (never smaller, within the model's configured
/// <c>MaxUsers</c>/<c>MaxItems</c>, every table within an array's length) before it allocates, so a rejected
/// growth changes nothing.
/// </para>
/// <para>Like <see cref="IRecommender.Fit"/>, every member here is exclusive: no read may run concurrently.</para>
/// </remarks>
internal interface ITrainableRecommender : IRecommender, IEpochModel
{
    /// <summary>Gets every learned parameter with its stable dotted name (the keys of checkpoints and regularisers).</summary>
    IReadOnlyList<KeyValuePair<string, Parameter>> NamedParameters { get; }

    /// <summary>Gets the model's training loop (hooks, step, skipped-step count).</summary>
    EpochTrainer Trainer { get; }

    /// <summary>Grows the model to <paramref name="userCount"/> users and <paramref name="itemCount"/> items.</summary>
    /// <param name="userCount">The new number of users; not less than the current one.</param>
    /// <param name="itemCount">The new number of items; not less than the current one.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, shrinks, or exceeds the model's maximum.</exception>
    void Grow(int userCount, int itemCount);
}

/// <summary>The size checks every learned model runs before it grows.</summary>
internal static class GrowthGuard
{
    /// <summary>Throws unless the counts are within the limits and a table of <paramref name="rowWidth"/> floats per row fits an array.</summary>
    /// <param name="userCount">The requested number of users.</param>
    /// <param name="itemCount">The requested number of items.</param>
    /// <param name="maxUsers">The model's <c>MaxUsers</c> option.</param>
    /// <param name="maxItems">The model's <c>MaxItems</c> option.</param>
    /// <param name="rowWidth">The widest row of any table indexed by user or item (plus one padding row is allowed for).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds its limit or a table would not fit.</exception>
    internal static void Check(int userCount, int itemCount, int maxUsers, int maxItems, int rowWidth)
    {
        if (userCount > maxUsers)
        {
            throw new ArgumentOutOfRangeException(nameof(userCount), userCount,
                $"'{nameof(userCount)}' ({userCount}) exceeds the model's MaxUsers ({maxUsers}); raise the option to grow further.");
        }

        if (itemCount > maxItems)
        {
            throw new ArgumentOutOfRangeException(nameof(itemCount), itemCount,
                $"'{nameof(itemCount)}' ({itemCount}) exceeds the model's MaxItems ({maxItems}); raise the option to grow further.");
        }

        long widest = (Math.Max((long)userCount, itemCount) + 1) * Math.Max(rowWidth, 1);
        if (widest > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(itemCount), itemCount,
                $"A table of {Math.Max(userCount, itemCount)} rows × {rowWidth} floats would exceed the largest array ({Array.MaxLength} elements).");
        }
    }

    /// <summary>Validates a growth limit option (positive).</summary>
    /// <param name="value">The option's value.</param>
    /// <param name="name">The option's name.</param>
    internal static void Limit(int value, string name) => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, name);
}

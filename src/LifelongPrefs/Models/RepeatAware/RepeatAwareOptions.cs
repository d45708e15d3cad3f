namespace LifelongPrefs.Models;

/// <summary>Hyper-parameters of <see cref="RepeatAware"/>.</summary>
public sealed class RepeatAwareOptions
{
    /// <summary>Width of the scoring MLP's two hidden layers.</summary>
    /// <value>Default 32.</value>
    public int Hidden { get; init; } = 32;

    /// <summary>The cap on passes over the training rows in <see cref="RepeatAware.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</summary>
    /// <value>Default 200.</value>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>Epochs without a better validation NDCG@20 before training stops (the best epoch is kept); at least 1.</summary>
    /// <value>Default 5.</value>
    public int Patience { get; init; } = 5;

    /// <summary>Passes over the affected users' rows in <see cref="RepeatAware.Update"/> (no validation).</summary>
    /// <value>Default 2.</value>
    public int UpdateEpochs { get; init; } = 2;

    /// <summary>(user, item) rows per optimizer step.</summary>
    /// <value>Default 512.</value>
    public int BatchSize { get; init; } = 512;

    /// <summary>Adam's learning rate.</summary>
    /// <value>Default 3e-3.</value>
    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Never-bought items per training example taken from the top of the co-occurrence scores.</summary>
    /// <value>Default 50.</value>
    public int ExploreCandidates { get; init; } = 50;

    /// <summary>Uniformly drawn items per training example (the rest of the catalogue).</summary>
    /// <value>Default 20.</value>
    public int RandomNegatives { get; init; } = 20;

    /// <summary>Per-basket decay of the time-decayed purchase frequency, in (0, 1).</summary>
    /// <value>Default 0.8.</value>
    public float Decay { get; init; } = 0.8f;

    /// <summary>Users whose last training basket is held out for early stopping (0 disables it).</summary>
    /// <value>Default 500.</value>
    public int ValidationUsers { get; init; } = 500;

    /// <summary>Seed for initialisation, sampling, shuffling and the validation split.</summary>
    /// <value>Default 42.</value>
    public int Seed { get; init; } = 42;

    /// <summary>The most users the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxUsers { get; init; } = 10_000_000;

    /// <summary>The most items the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxItems { get; init; } = 10_000_000;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden, nameof(Hidden));
        RecommenderGuard.TrainingBudget(MaxEpochs, UpdateEpochs, Patience, ValidationUsers, MaxUsers, MaxItems, LearningRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(ExploreCandidates, nameof(ExploreCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(RandomNegatives, nameof(RandomNegatives));

        if (!(Decay > 0 && Decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Decay), Decay, $"'{nameof(Decay)}' must lie strictly between 0 and 1.");
        }
    }
}

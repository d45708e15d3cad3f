namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="BprMf"/>. Learning rate and L2 come from a four-point sweep on the Online Retail
/// next-basket protocol; the number of epochs is chosen by early stopping on a validation split carved out of the
/// training events (<see cref="ValidationUsers"/>, <see cref="Patience"/>), keeping the best epoch's parameters.
/// </summary>
public sealed class BprMfOptions
{
    /// <summary>Latent factors per user and item.</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>The cap on passes over the distinct (user, item) pairs in <see cref="BprMf.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</summary>
    /// <value>Default 200.</value>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>Passes over the new pairs in <see cref="BprMf.Update"/> (no validation).</summary>
    /// <value>Default 2.</value>
    public int UpdateEpochs { get; init; } = 2;

    /// <summary>Triples per optimizer step.</summary>
    /// <value>Default 1024.</value>
    public int BatchSize { get; init; } = 1024;

    /// <summary>Adam's learning rate.</summary>
    /// <value>Default 0.01.</value>
    public float LearningRate { get; init; } = 0.01f;

    /// <summary>L2 penalty on the embedding rows a batch touches (a gradient hook of the trainer).</summary>
    /// <value>Default 1e-5.</value>
    public float L2 { get; init; } = 1e-5f;

    /// <summary>Seed for initialisation, shuffling and negative sampling.</summary>
    /// <value>Default 42.</value>
    public int Seed { get; init; } = 42;

    /// <summary>Epochs without a better validation NDCG@20 before <see cref="BprMf.Fit"/> stops early; at least 1.</summary>
    /// <value>Default 5.</value>
    public int Patience { get; init; } = 5;

    /// <summary>Users whose last training basket is held out for early stopping (0 disables it).</summary>
    /// <value>Default 500.</value>
    public int ValidationUsers { get; init; } = 500;

    /// <summary>The most users the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxUsers { get; init; } = 10_000_000;

    /// <summary>The most items the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxItems { get; init; } = 10_000_000;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        RecommenderGuard.TrainingBudget(MaxEpochs, UpdateEpochs, Patience, ValidationUsers, MaxUsers, MaxItems, LearningRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        RecommenderGuard.NonNegativeFinite(L2, nameof(L2));
    }
}

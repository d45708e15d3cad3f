namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="BprMf"/>. Learning rate and L2 come from a four-point sweep on the Online Retail
/// next-basket protocol; the number of epochs is chosen by early stopping on a validation split carved out of the
/// training events (<see cref="ValidationUsers"/>, <see cref="Patience"/>), keeping the best epoch's parameters.
/// </summary>
/// <param name="Dimensions">Latent factors per user and item.</param>
/// <param name="MaxEpochs">The cap on passes over the distinct (user, item) pairs in <see cref="BprMf.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="UpdateEpochs">Passes over the new pairs in <see cref="BprMf.Update"/> (no validation).</param>
/// <param name="BatchSize">Triples per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="L2">L2 penalty on the embedding rows a batch touches (a gradient hook of the trainer).</param>
/// <param name="Seed">Seed for initialisation, shuffling and negative sampling.</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before <see cref="BprMf.Fit"/> stops early; at least 1.</param>
/// <param name="ValidationUsers">Users whose last training basket is held out for early stopping (0 disables it).</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record BprMfOptions(int Dimensions = 64, int MaxEpochs = 200, int UpdateEpochs = 2, int BatchSize = 1024,
    float LearningRate = 0.01f, float L2 = 1e-5f, int Seed = 42, int Patience = 5, int ValidationUsers = 500,
    int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));
        RecommenderGuard.NonNegativeFinite(L2, nameof(L2));
    }
}

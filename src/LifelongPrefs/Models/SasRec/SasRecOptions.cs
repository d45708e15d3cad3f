namespace LifelongPrefs.Models;

/// <summary>The training objective of <see cref="SasRec"/>.</summary>
public enum SasRecLoss
{
    /// <summary>
    /// Full softmax cross-entropy over every item at every position (logits <c>H·Eᵀ</c>). Costs O(items) per position
    /// but is known to lift SASRec markedly over the paper's sampled objective (Klenitskiy &amp; Vasilev, RecSys 2023).
    /// </summary>
    FullSoftmax,

    /// <summary>
    /// The paper's objective: binary cross-entropy of the next item against one uniformly sampled negative per
    /// position. Cheap per step, but needs many more epochs.
    /// </summary>
    BinaryCrossEntropy,

    /// <summary>
    /// Sampled softmax over the positive and <see cref="SasRecOptions.Negatives"/> negatives shared by the batch, drawn
    /// in proportion to (training count + 1)^0.75, with the logQ correction on the positive and the negatives and
    /// accidental hits removed. Costs O(negatives) per position instead of O(items).
    /// </summary>
    SampledSoftmax,
}

/// <summary>
/// Hyper-parameters of <see cref="SasRec"/>. Architecture defaults follow the paper (d = 64, two blocks, one head,
/// n = 50, feed-forward width d) and dropout 0.2 (the paper's value for dense data). Loss and learning rate come from a two-point check on the Online Retail next-basket protocol: full softmax with 12 epochs at 1e-3 reached
/// validation NDCG@20 0.148 in ~180 s, 5 epochs at 3e-3 reached 0.151 in ~50 s (2 shared cores). The number of epochs
/// is not tuned to any dataset: training runs until the validation NDCG@20 has not improved for <see cref="Patience"/>
/// epochs (at most <see cref="MaxEpochs"/>) and keeps the best epoch, so a small log with few steps per epoch trains
/// as long as it keeps learning.
/// </summary>
/// <param name="Dimensions">Model width d (item and position embeddings, attention, feed-forward).</param>
/// <param name="Blocks">Number of stacked Transformer blocks.</param>
/// <param name="Heads">Attention heads per block; must divide <paramref name="Dimensions"/>.</param>
/// <param name="MaxLength">n, the window of most recent items the model reads.</param>
/// <param name="Dropout">Dropout on the embeddings, the residual branches and the attention weights, in [0, 1).</param>
/// <param name="MaxEpochs">The cap on passes over the users' sequences in <see cref="SasRec.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="UpdateEpochs">Passes over the affected users' sequences in <see cref="SasRec.Update"/> (no validation).</param>
/// <param name="BatchSize">Sequences per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="Loss">The training objective.</param>
/// <param name="Negatives">Shared negatives drawn per batch for <see cref="SasRecLoss.SampledSoftmax"/> (ignored by the other losses).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops; at least 1.</param>
/// <param name="ValidationUsers">Users whose last basket is held out inside <see cref="SasRec.Fit"/> for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, shuffling, dropout and negative sampling.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record SasRecOptions(int Dimensions = 64, int Blocks = 2, int Heads = 1, int MaxLength = 50, float Dropout = 0.2f,
    int MaxEpochs = 200, int UpdateEpochs = 2, int BatchSize = 128, float LearningRate = 3e-3f, SasRecLoss Loss = SasRecLoss.FullSoftmax,
    int Negatives = 256, int Patience = 5, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Blocks, nameof(Blocks));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Heads, nameof(Heads));
        if (Dimensions % Heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Heads), Heads,
                $"'{nameof(Heads)}' ({Heads}) must divide '{nameof(Dimensions)}' ({Dimensions}).");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength, nameof(MaxLength));
        RecommenderGuard.Rate(Dropout, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!Enum.IsDefined(Loss))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"'{nameof(Loss)}' is not a defined {nameof(SasRecLoss)}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
    }
}

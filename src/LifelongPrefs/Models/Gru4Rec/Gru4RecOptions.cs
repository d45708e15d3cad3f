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
public sealed class Gru4RecOptions
{
    /// <summary>Item-embedding size D.</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>GRU state size H (also the size of the output item vectors).</summary>
    /// <value>Default 64.</value>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Longest input window T; longer histories are cut into consecutive windows for training and truncated to their last T items for scoring.</summary>
    /// <value>Default 50.</value>
    public int MaxLength { get; init; } = 50;

    /// <summary>The cap on passes over the training windows in <see cref="Gru4Rec.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</summary>
    /// <value>Default 200.</value>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>Passes over the affected users' windows in <see cref="Gru4Rec.Update"/> (no validation).</summary>
    /// <value>Default 2.</value>
    public int UpdateEpochs { get; init; } = 2;

    /// <summary>Windows (sequences) per optimizer step.</summary>
    /// <value>Default 32.</value>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam's learning rate.</summary>
    /// <value>Default 5e-3.</value>
    public float LearningRate { get; init; } = 5e-3f;

    /// <summary>Whether the output layer reuses the input item embeddings (requires <see cref="Dimensions"/> = <see cref="HiddenSize"/>) instead of a separate table.</summary>
    /// <value>Default <see langword="false"/>.</value>
    public bool TieOutput { get; init; }

    /// <summary>The exact full softmax (default) or the cheaper sampled softmax with logQ correction.</summary>
    /// <value>Default <see cref="Gru4RecLoss.FullSoftmax"/>.</value>
    public Gru4RecLoss Loss { get; init; } = Gru4RecLoss.FullSoftmax;

    /// <summary>Shared negatives per batch for <see cref="Gru4RecLoss.SampledSoftmax"/>.</summary>
    /// <value>Default 512.</value>
    public int Negatives { get; init; } = 512;

    /// <summary>Epochs without a better validation NDCG@20 before training stops; the best epoch's parameters are kept. At least 1.</summary>
    /// <value>Default 5.</value>
    public int Patience { get; init; } = 5;

    /// <summary>Users whose last basket is held out of the training events for early stopping (0 disables early stopping).</summary>
    /// <value>Default 1000.</value>
    public int ValidationUsers { get; init; } = 1000;

    /// <summary>Seed for initialisation, shuffling, validation sampling and negative sampling.</summary>
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
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HiddenSize, nameof(HiddenSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength, nameof(MaxLength));
        RecommenderGuard.TrainingBudget(MaxEpochs, UpdateEpochs, Patience, ValidationUsers, MaxUsers, MaxItems, LearningRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));

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

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
/// is not tuned to any dataset: training runs until the validation NDCG@20 has not improved for <see cref="LearnedModelOptions.Patience"/>
/// epochs (at most <see cref="LearnedModelOptions.MaxEpochs"/>) and keeps the best epoch, so a small log with few steps per epoch trains
/// as long as it keeps learning.
/// </summary>
public sealed class SasRecOptions : LearnedModelOptions
{
    /// <summary>Initialises the defaults; <see cref="LearnedModelOptions.BatchSize"/> is 128 and <see cref="LearnedModelOptions.LearningRate"/> 3e-3 here.</summary>
    public SasRecOptions()
        : base(batchSize: 128, learningRate: 3e-3f)
    {
    }

    /// <summary>Model width d (item and position embeddings, attention, feed-forward).</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>Number of stacked Transformer blocks.</summary>
    /// <value>Default 2.</value>
    public int Blocks { get; init; } = 2;

    /// <summary>Attention heads per block; must divide <see cref="Dimensions"/>.</summary>
    /// <value>Default 1.</value>
    public int Heads { get; init; } = 1;

    /// <summary>n, the window of most recent items the model reads.</summary>
    /// <value>Default 50.</value>
    public int MaxLength { get; init; } = 50;

    /// <summary>Dropout on the embeddings, the residual branches and the attention weights, in [0, 1).</summary>
    /// <value>Default 0.2.</value>
    public float Dropout { get; init; } = 0.2f;

    /// <summary>The training objective.</summary>
    /// <value>Default <see cref="SasRecLoss.FullSoftmax"/>.</value>
    public SasRecLoss Loss { get; init; } = SasRecLoss.FullSoftmax;

    /// <summary>Shared negatives drawn per batch for <see cref="SasRecLoss.SampledSoftmax"/> (ignored by the other losses).</summary>
    /// <value>Default 256.</value>
    public int Negatives { get; init; } = 256;

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
        ValidateBudget();

        RecommenderGuard.Defined(Loss, nameof(Loss));

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
    }
}

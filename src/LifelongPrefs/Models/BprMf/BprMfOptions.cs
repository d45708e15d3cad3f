namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="BprMf"/>. Learning rate and L2 come from a four-point sweep on the Online Retail
/// next-basket protocol; the number of epochs is chosen by early stopping on a validation split carved out of the
/// training events (<see cref="LearnedModelOptions.ValidationUsers"/>, <see cref="LearnedModelOptions.Patience"/>), keeping the best epoch's parameters.
/// </summary>
public sealed class BprMfOptions : LearnedModelOptions
{
    /// <summary>Latent factors per user and item.</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>Triples per optimizer step.</summary>
    /// <value>Default 1024.</value>
    public int BatchSize { get; init; } = 1024;

    /// <summary>Adam's learning rate.</summary>
    /// <value>Default 0.01.</value>
    public float LearningRate { get; init; } = 0.01f;

    /// <summary>L2 penalty on the embedding rows a batch touches (a gradient hook of the trainer).</summary>
    /// <value>Default 1e-5.</value>
    public float L2 { get; init; } = 1e-5f;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ValidateBudget(LearningRate, BatchSize);
        RecommenderGuard.NonNegativeFinite(L2, nameof(L2));
    }
}

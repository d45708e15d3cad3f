namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="BprMf"/>. Learning rate and L2 come from a four-point sweep on the Online Retail
/// next-basket protocol; the number of epochs is chosen by early stopping on a validation split carved out of the
/// training events (<see cref="LearnedModelOptions.ValidationUsers"/>, <see cref="LearnedModelOptions.Patience"/>), keeping the best epoch's parameters.
/// </summary>
public sealed class BprMfOptions : LearnedModelOptions
{
    /// <summary>Initialises the defaults; <see cref="LearnedModelOptions.BatchSize"/> is 1,024 and <see cref="LearnedModelOptions.LearningRate"/> 0.01 here.</summary>
    public BprMfOptions()
        : base(batchSize: 1024, learningRate: 0.01f)
    {
    }

    /// <summary>Latent factors per user and item.</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>L2 penalty on the embedding rows a batch touches (a gradient hook of the trainer).</summary>
    /// <value>Default 1e-5.</value>
    public float L2 { get; init; } = 1e-5f;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ValidateBudget();
        RecommenderGuard.NonNegativeFinite(L2, nameof(L2));
    }
}

namespace LifelongPrefs.Models;

/// <summary>Hyper-parameters of <see cref="RepeatAware"/>.</summary>
public sealed class RepeatAwareOptions : LearnedModelOptions
{
    /// <summary>Initialises the defaults; <see cref="LearnedModelOptions.BatchSize"/> is 512 and <see cref="LearnedModelOptions.LearningRate"/> 3e-3 here.</summary>
    public RepeatAwareOptions()
        : base(batchSize: 512, learningRate: 3e-3f)
    {
    }

    /// <summary>Width of the scoring MLP's two hidden layers.</summary>
    /// <value>Default 32.</value>
    public int Hidden { get; init; } = 32;

    /// <summary>Never-bought items per training example taken from the top of the co-occurrence scores.</summary>
    /// <value>Default 50.</value>
    public int ExploreCandidates { get; init; } = 50;

    /// <summary>Uniformly drawn items per training example (the rest of the catalogue).</summary>
    /// <value>Default 20.</value>
    public int RandomNegatives { get; init; } = 20;

    /// <summary>Per-basket decay of the time-decayed purchase frequency, in (0, 1).</summary>
    /// <value>Default 0.8.</value>
    public float Decay { get; init; } = 0.8f;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden, nameof(Hidden));
        ValidateBudget();
        ArgumentOutOfRangeException.ThrowIfNegative(ExploreCandidates, nameof(ExploreCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(RandomNegatives, nameof(RandomNegatives));

        if (!(Decay > 0 && Decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Decay), Decay, $"'{nameof(Decay)}' must lie strictly between 0 and 1.");
        }
    }
}

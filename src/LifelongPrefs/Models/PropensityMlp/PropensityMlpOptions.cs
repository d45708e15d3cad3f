namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="PropensityMlp"/>. Defaults were chosen by a four-run sweep on the Online Retail
/// next-basket protocol within the 60-second training budget: repeat negatives (2 per positive) cut NDCG@20 from
/// 0.313 to 0.173 (they over-represent the user's own items among negatives, so the net learns to distrust
/// re-purchases); three label baskets per user or 20 negatives per positive gained under 0.002 for 1.6–3× the time.
/// </summary>
public sealed class PropensityMlpOptions : LearnedModelOptions
{
    /// <summary>Initialises the defaults; <see cref="LearnedModelOptions.BatchSize"/> is 512 here (at least 2: batch normalisation needs two rows) and <see cref="LearnedModelOptions.LearningRate"/> 3e-3.</summary>
    public PropensityMlpOptions()
        : base(batchSize: 512, learningRate: 3e-3f)
    {
    }

    /// <summary>Units of the first hidden layer.</summary>
    /// <value>Default 64.</value>
    public int Hidden1 { get; init; } = 64;

    /// <summary>Units of the second hidden layer.</summary>
    /// <value>Default 32.</value>
    public int Hidden2 { get; init; } = 32;

    /// <summary>Dropout probability after each hidden layer, in [0, 1).</summary>
    /// <value>Default 0.1.</value>
    public float Dropout { get; init; } = 0.1f;

    /// <summary>Adam's coupled L2 coefficient.</summary>
    /// <value>Default 0.</value>
    public float WeightDecay { get; init; }

    /// <summary>How many of each user's latest training baskets become label windows.</summary>
    /// <value>Default 1.</value>
    public int LabelBasketsPerUser { get; init; } = 1;

    /// <summary>Uniformly sampled catalog negatives per positive item.</summary>
    /// <value>Default 10.</value>
    public int NegativesPerPositive { get; init; } = 10;

    /// <summary>Extra negatives per positive drawn from the user's earlier items that are not in the basket (0 by default: see above).</summary>
    /// <value>Default 0.</value>
    public int RepeatNegativesPerPositive { get; init; }

    /// <summary>Length of the window of the "recent popularity" item feature, in days.</summary>
    /// <value>Default 30.</value>
    public int RecentWindowDays { get; init; } = 30;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden1, nameof(Hidden1));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden2, nameof(Hidden2));
        RecommenderGuard.Rate(Dropout, nameof(Dropout));
        ValidateBudget();
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        RecommenderGuard.NonNegativeFinite(WeightDecay, nameof(WeightDecay));

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LabelBasketsPerUser, nameof(LabelBasketsPerUser));
        ArgumentOutOfRangeException.ThrowIfNegative(NegativesPerPositive, nameof(NegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegative(RepeatNegativesPerPositive, nameof(RepeatNegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RecentWindowDays, nameof(RecentWindowDays));
    }
}

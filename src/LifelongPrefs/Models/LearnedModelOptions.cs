namespace LifelongPrefs.Models;

/// <summary>
/// The training budget, seed and growth limits that every learned model's options share under the same names
/// (<see cref="BprMfOptions"/>, <see cref="PropensityMlpOptions"/>, <see cref="Gru4RecOptions"/>,
/// <see cref="SasRecOptions"/>, <see cref="RepeatAwareOptions"/>): <c>Fit</c> trains until the validation NDCG@20 on
/// <see cref="LearnedModelOptions.ValidationUsers"/> held-out baskets has not improved for <see cref="LearnedModelOptions.Patience"/> epochs, at most
/// <see cref="LearnedModelOptions.MaxEpochs"/>, and keeps the best epoch; <c>Update</c> runs <see cref="LearnedModelOptions.UpdateEpochs"/> passes.
/// </summary>
/// <remarks>Only the library's options derive from it. An epoch is one pass over the model's own training examples
/// (pairs, windows, sequences or feature rows: see each model).</remarks>
public abstract class LearnedModelOptions : ModelOptions
{
    /// <summary>Initialises the shared options with their defaults and the model's own batch size and learning rate.</summary>
    private protected LearnedModelOptions(int batchSize, float learningRate)
    {
        BatchSize = batchSize;
        LearningRate = learningRate;
    }

    /// <summary>Training examples per optimizer step: BPR-MF's (user, bought, not bought) triples, PropensityMLP's and
    /// RepeatAware's (user, item) rows, GRU4Rec's windows, SASRec's sequences.</summary>
    /// <value>The model's own default: BPR-MF 1,024, PropensityMLP and RepeatAware 512, SASRec 128, GRU4Rec 32.</value>
    public int BatchSize { get; init; }

    /// <summary>Adam's learning rate; in (0, 1] (Adam moves a parameter by about this much per step, so a larger rate diverges).</summary>
    /// <value>The model's own default: BPR-MF 0.01, GRU4Rec 5e-3, PropensityMLP, SASRec and RepeatAware 3e-3.</value>
    public float LearningRate { get; init; }

    /// <summary>The cap on epochs in <c>Fit</c>; early stopping normally ends sooner (without validation users every epoch runs).</summary>
    /// <value>Default 200.</value>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>Passes over the new events' training examples in <c>Update</c> (no validation).</summary>
    /// <value>Default 2.</value>
    public int UpdateEpochs { get; init; } = 2;

    /// <summary>Epochs without a better validation NDCG@20 before <c>Fit</c> stops; the best epoch's parameters are kept. At least 1.</summary>
    /// <value>Default 5.</value>
    public int Patience { get; init; } = 5;

    /// <summary>Users whose last basket is held out of the training events for early stopping (0 disables early stopping).</summary>
    /// <value>Default 500 (1000 for <see cref="Gru4RecOptions"/>).</value>
    public int ValidationUsers { get; init; } = 500;

    /// <summary>
    /// What is held out of each validation user's events for early stopping: the whole last basket, or only its last
    /// item (the rest of the basket stays in training and in the history the model is scored with).
    /// </summary>
    /// <value>Default <see cref="ValidationHoldout.LastBasket"/> (<see cref="ValidationHoldout.LastItem"/> for
    /// <see cref="Gru4RecOptions"/>).</value>
    /// <remarks>Not part of the options fingerprint of a saved state: it steers only which epoch <c>Fit</c> keeps, and
    /// <c>Fit</c> starts from scratch, so a state is equally valid whichever holdout chose it.</remarks>
    [Persistence.NotFingerprinted]
    public ValidationHoldout Validation { get; init; } = ValidationHoldout.LastBasket;

    /// <summary>Checks the shared options, the batch size and the learning rate (the messages name the option).</summary>
    private protected void ValidateBudget()
    {
        RecommenderGuard.TrainingBudget(MaxEpochs, UpdateEpochs, Patience, ValidationUsers, MaxUsers, MaxItems, LearningRate);
        RecommenderGuard.Defined(Validation, nameof(Validation));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
    }

    /// <summary>
    /// The checks every learned model's <c>Fit</c> makes before it changes anything: the counts within
    /// <see cref="ModelOptions.MaxUsers"/> and <see cref="ModelOptions.MaxItems"/>, every event valid, and tables of <paramref name="width"/>
    /// floats a row within an array's length.
    /// </summary>
    internal void CheckFit(IReadOnlyList<Interaction> events, int userCount, int itemCount, int width)
    {
        RecommenderGuard.Counts(userCount, itemCount, MaxUsers, MaxItems);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, MaxUsers, MaxItems, width);
    }

    /// <summary>The early-stopping split of <paramref name="events"/> (<see cref="Validation"/> of <see cref="ValidationUsers"/> sampled users), or null when validation is off.</summary>
    internal HoldoutValidation? HoldOut(IReadOnlyList<Interaction> events, int userCount) =>
        ValidationUsers > 0 ? HoldoutValidation.Create(events, userCount, ValidationUsers, Seed, Validation) : null;
}

/// <summary>What a learned model holds out of its own training events to choose its best epoch (<see cref="LearnedModelOptions.Validation"/>).</summary>
public enum ValidationHoldout
{
    /// <summary>Each validation user's last basket, scored with NDCG@20 over its items (the next-basket task).</summary>
    LastBasket,

    /// <summary>Only the last item of each validation user's last basket (the next-item task sequence models are trained for).</summary>
    LastItem,
}

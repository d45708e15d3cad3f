namespace LifelongPrefs.Training;

/// <summary>
/// What a model supplies to <see cref="EpochTrainer"/>: its maths on one batch (its validation score is passed to
/// <see cref="EpochTrainer.Run"/>). The trainer owns everything else (shuffling, batching, hooks, the optimizer step, early stopping, progress).
/// </summary>
/// <remarks>
/// Examples are indices into the model's current training set (pairs, windows, feature rows…), which the model
/// prepares before it calls <see cref="EpochTrainer.Run"/>.
/// </remarks>
internal interface IEpochModel
{
    /// <summary>Gets the model's display name, for progress reports.</summary>
    string Name { get; }

    /// <summary>Gets the optimizer the trainer steps (read at every step: a load may replace it).</summary>
    Optimizer Optimizer { get; }

    /// <summary>Gets the generator the trainer shuffles with (the model's own, so checkpoints include it).</summary>
    Random Random { get; }

    /// <summary>Gets the parameters a best-epoch snapshot keeps.</summary>
    /// <value>By default the optimizer's parameters.</value>
    IReadOnlyList<Parameter> SnapshotParameters => Optimizer.Parameters;

    /// <summary>Gets the non-parameter tensors a best-epoch snapshot keeps (batch-norm running statistics).</summary>
    /// <value>By default none.</value>
    IReadOnlyList<Tensor> SnapshotBuffers => [];

    /// <summary>
    /// Runs forward and backward on <paramref name="examples"/>, accumulating gradients (which the trainer found
    /// zeroed); must not step the optimizer.
    /// </summary>
    /// <param name="examples">Indices into the current training set.</param>
    /// <returns>The batch's mean loss.</returns>
    float Backward(ReadOnlySpan<int> examples);

    /// <summary>Switches dropout and batch-norm between training (true) and inference (false) mode.</summary>
    /// <param name="training">The mode.</param>
    /// <remarks>By default nothing (a model without dropout or batch norm).</remarks>
    void SetTraining(bool training)
    {
    }

    /// <summary>Called when <see cref="EpochTrainer.Run"/> returns or throws: the model may release its training set.</summary>
    /// <remarks>By default nothing.</remarks>
    void EndRun()
    {
    }
}

/// <summary>How one call of <see cref="EpochTrainer.Run"/> trains.</summary>
/// <param name="BatchSize">Examples per optimizer step; positive.</param>
/// <param name="MaxEpochs">The epoch cap (0 trains nothing).</param>
/// <param name="Patience">Stale epochs before early stopping (used only with <paramref name="Validate"/>).</param>
/// <param name="Validate">
/// The validation metric (higher is better), scored in inference mode after every epoch for early stopping and
/// best-epoch restore; null trains every epoch and keeps the last.
/// </param>
/// <param name="MinimumBatch">A last, smaller batch is trained only if it holds at least this many examples (e.g. 2 for batch norm).</param>
internal readonly record struct EpochPlan(int BatchSize, int MaxEpochs, int Patience, Func<double>? Validate, int MinimumBatch = 1);

/// <summary>The outcome of one <see cref="EpochTrainer.Run"/>.</summary>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="BestEpoch">The epoch whose parameters were kept (the last one without validation; 0 if none trained).</param>
/// <param name="BestMetric">Its validation metric (NaN without validation).</param>
/// <param name="Steps">Optimizer steps attempted.</param>
/// <param name="SkippedSteps">Of those, the steps skipped for a NaN or infinite gradient.</param>
internal readonly record struct TrainingRun(int Epochs, int BestEpoch, double BestMetric, long Steps, long SkippedSteps);

using System.Diagnostics;

namespace LifelongPrefs.Training;

/// <summary>
/// The one training loop of every learned model: shuffled mini-batches, the gradient hooks, the optimizer step
/// with its NaN/Inf guard, cancellation, progress, early stopping on the validation metric and restoring the best
/// epoch. A model supplies only its batch maths (<see cref="IEpochModel"/>) and its validation score (<see cref="EpochPlan.Validate"/>).
/// </summary>
/// <remarks>
/// <para>
/// <b>An epoch.</b> The example indices 0..n−1 are put in order and shuffled with the model's own generator
/// (<see cref="IEpochModel.Random"/>), so every random choice flows from the model's seed and a checkpoint that
/// saves the generator continues the same sequence. Batches are consecutive runs of <see cref="EpochPlan.BatchSize"/>
/// examples; a last, shorter batch is trained when it holds at least <see cref="EpochPlan.MinimumBatch"/>. The
/// cancellation token is checked before every batch.
/// </para>
/// <para>
/// <b>A step</b> (<see cref="Step"/>): the model's backward pass, then every hook in <see cref="Hooks"/> (L2 today,
/// EWC and distillation later), then <see cref="Optimizer.StepAndZeroGrad"/>. A step the optimizer skips because a
/// gradient is NaN or infinite discards the batch; it is counted in <see cref="SkippedSteps"/> and in the progress
/// reports, and its loss is left out of the epoch's mean.
/// </para>
/// <para>
/// <b>Early stopping</b> (<see cref="EarlyStopping"/>): with validation, the model is scored in inference mode after
/// every epoch; the best epoch's parameters and batch-norm running statistics are copied aside, and after the run
/// they are written back bit for bit. Optimizer moments, the step count and the generators are <b>not</b> rewound:
/// they describe the optimisation path rather than the weights, rewinding them would cost two more parameter-sized
/// copies, and a later <see cref="Optimizer.Step"/> from slightly newer moments is harmless. Checkpoints are
/// unaffected, since they save whatever state the run ended with.
/// </para>
/// <para>Not thread-safe: a model trains on one thread at a time.</para>
/// </remarks>
internal sealed class EpochTrainer
{
    /// <summary>Gets the hooks run between backward and the optimizer step, in order.</summary>
    internal List<IGradientHook> Hooks { get; } = [];

    /// <summary>Gets the number of optimizer steps skipped for a NaN or infinite gradient since this trainer was created.</summary>
    internal long SkippedSteps { get; private set; }

    /// <summary>Gets the outcome of the last optimizer step (default before the first).</summary>
    internal StepResult LastStep { get; private set; }

    /// <summary>One training step: backward, hooks, optimizer step (and gradients cleared).</summary>
    /// <param name="model">The model.</param>
    /// <param name="examples">Indices into the model's current training set.</param>
    /// <returns>The batch's loss including the hooks' terms.</returns>
    internal float Step(IEpochModel model, ReadOnlySpan<int> examples)
    {
        float loss = model.Backward(examples);
        Optimizer optimizer = model.Optimizer;
        for (int h = 0; h < Hooks.Count; h++)
        {
            loss += Hooks[h].Apply(optimizer.Parameters);
        }

        LastStep = optimizer.StepAndZeroGrad();
        if (LastStep.Skipped)
        {
            SkippedSteps++;
        }

        return loss;
    }

    /// <summary>Trains <paramref name="model"/> on its <paramref name="exampleCount"/> current examples.</summary>
    /// <param name="model">The model.</param>
    /// <param name="exampleCount">The size of the model's current training set.</param>
    /// <param name="plan">Batch size, epoch cap, patience and whether to validate.</param>
    /// <param name="progress">Receives one report per epoch; may be null.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>What was trained and which epoch was kept.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; the model keeps the parameters of the last finished step.</exception>
    internal TrainingRun Run(IEpochModel model, int exampleCount, in EpochPlan plan, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plan.BatchSize, nameof(plan));
        if (exampleCount == 0 || plan.MaxEpochs <= 0)
        {
            model.EndRun();
            return new TrainingRun(0, 0, double.NaN, 0, 0);
        }

        var clock = Stopwatch.StartNew();
        var order = new int[exampleCount];
        EarlyStopping? stopping = plan.Validate is null ? null : new EarlyStopping(plan.Patience);
        TrainingSnapshot? best = stopping is null ? null : new TrainingSnapshot(model.SnapshotParameters, model.SnapshotBuffers);
        long skippedBefore = SkippedSteps, steps = 0;
        int epoch = 0;
        try
        {
            while (epoch < plan.MaxEpochs && stopping?.ShouldStop != true)
            {
                epoch++;
                for (int k = 0; k < order.Length; k++)
                {
                    order[k] = k;
                }

                model.Random.Shuffle(order);
                model.SetTraining(true);
                double lossSum = 0;
                int counted = 0;
                for (int start = 0; start < order.Length; start += plan.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = Math.Min(plan.BatchSize, order.Length - start);
                    if (n < plan.MinimumBatch)
                    {
                        continue;
                    }

                    float loss = Step(model, order.AsSpan(start, n));
                    steps++;
                    if (LastStep.Applied)
                    {
                        lossSum += loss;
                        counted++;
                    }
                }

                double metric = double.NaN;
                if (stopping is not null)
                {
                    model.SetTraining(false);
                    metric = plan.Validate!();
                    if (stopping.Observe(epoch, metric))
                    {
                        best!.Capture();
                    }
                }

                int total = stopping is null ? plan.MaxEpochs : Math.Min(plan.MaxEpochs, epoch + stopping.EpochsLeft);
                TimeSpan elapsed = clock.Elapsed;
                progress?.Report(new TrainingProgress(model.Name, epoch, total, counted > 0 ? lossSum / counted : double.NaN,
                    metric, elapsed, elapsed / epoch * (total - epoch), SkippedSteps - skippedBefore));
            }
        }
        finally
        {
            model.SetTraining(true);
            model.EndRun();
        }

        // The best epoch's values back (when it was not the last one, they already are the live ones).
        if (best is { Captured: true } && stopping!.BestEpoch != epoch)
        {
            best.Restore();
        }

        bool kept = stopping is { BestEpoch: > 0 };
        return new TrainingRun(epoch, kept ? stopping!.BestEpoch : epoch, kept ? stopping!.Best : double.NaN, steps,
            SkippedSteps - skippedBefore);
    }
}

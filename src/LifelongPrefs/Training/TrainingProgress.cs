namespace LifelongPrefs.Training;

/// <summary>One progress report from a training loop (sent after every epoch).</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Epoch">The 1-based epoch just finished (or the phase number for non-iterative models).</param>
/// <param name="TotalEpochs">
/// The epoch at which training will end unless the validation metric improves again: with early stopping the
/// current epoch plus the patience left, never beyond the epoch cap; without it, the planned number of epochs.
/// </param>
/// <param name="Loss">The epoch's mean training loss (hook terms such as L2 included), or NaN when the model has none.</param>
/// <param name="ValidationMetric">The early-stopping metric on the validation data (higher is better), or NaN.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="Remaining">Estimated time until <paramref name="TotalEpochs"/> at the mean epoch time so far, or null when unknown.</param>
/// <param name="SkippedSteps">
/// Optimizer steps skipped since training started because a gradient held NaN or infinity (those batches were
/// discarded; the parameters never see a non-finite value).
/// </param>
public readonly record struct TrainingProgress(string Model, int Epoch, int TotalEpochs, double Loss, double ValidationMetric,
    TimeSpan Elapsed, TimeSpan? Remaining, long SkippedSteps = 0);

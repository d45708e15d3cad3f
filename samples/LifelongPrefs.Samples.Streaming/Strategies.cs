using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>One row of the continual comparison: how its model is made and how the protocol runs it.</summary>
/// <param name="Name">The row's name (also its key in the JSON line).</param>
/// <param name="Settings">What it does, for the table.</param>
/// <param name="Retrained">Whether the protocol refits a fresh model at every month boundary (otherwise: fit once, then update).</param>
/// <param name="Create">Makes a fresh model.</param>
internal sealed record Strategy(string Name, string Settings, bool Retrained, Func<IRecommender> Create);

/// <summary>
/// The strategies side by side, in one place so that their settings can be tuned without touching the run: BPR-MF
/// retrained monthly, then one BPR-MF per continual strategy (fitted on the data before the first month, then updated
/// with each month's events through <see cref="ContinualLearner"/>), then the tracker as a shop runs it.
/// </summary>
internal static class Strategies
{
    /// <summary>
    /// Epochs of each monthly update of the incremental rows. The reference: naive fine-tuning reached 1.18×
    /// retrain at 60 epochs and 1.14× at 10, at a quarter of the compute.
    /// </summary>
    internal const int UpdateEpochs = 10;

    /// <summary>The reservoir of the replay rows (the reference: 20k, mixed 1:1).</summary>
    internal const int ReplayCapacity = 20_000;

    /// <summary>λ of the online EWC penalty in "replay+ewc" (the best of the sweep in <c>src/LifelongPrefs/Lifelong/README.md</c> at 1:1 replay).</summary>
    internal const float EwcStrength = 2e-4f;

    /// <summary>Weight of the distillation term in "replay+distill" (0.1 and 0.3 were tried; both cost forward quality, 0.1 less).</summary>
    internal const float DistillationWeight = 0.1f;

    /// <summary>The rows the JSON line must hold, in the table's order (the tracker row follows them).</summary>
    internal static readonly string[] Required = ["retrain", "naive", "replay", "replay+ewc", "replay+distill", "default"];

    /// <summary>Every row, in the table's order.</summary>
    /// <param name="seed">The seed of every model.</param>
    /// <param name="retrainEpochs">The epoch cap of each refit (and of the incremental rows' first fit).</param>
    internal static IReadOnlyList<Strategy> All(int seed, int retrainEpochs)
    {
        BprMf Bpr() => new(new BprMfOptions { MaxEpochs = retrainEpochs, UpdateEpochs = UpdateEpochs, Seed = seed });
        Strategy Continual(string name, string settings, ContinualOptions options) => new(name, settings, false, () => new ContinualLearner(Bpr(), options));

        var replay = new ContinualOptions { ReplayCapacity = ReplayCapacity, ReplayRatio = 1, EwcStrength = 0, DistillationWeight = 0 };
        return
        [
            new("retrain", $"BPR-MF refitted from scratch every month (≤ {retrainEpochs} epochs, early stopping)", true, Bpr),
            Continual("naive", $"fine-tune on the month only ({UpdateEpochs} epochs)", ContinualOptions.Naive),
            Continual("replay", $"+ {ReplayCapacity:N0}-event reservoir (by user), 1:1", replay),
            Continual("replay+ewc", $"+ online EWC λ = {EwcStrength}", new ContinualOptions { ReplayCapacity = ReplayCapacity, ReplayRatio = 1, EwcStrength = EwcStrength, DistillationWeight = 0 }),
            Continual("replay+distill", $"+ distillation, weight {DistillationWeight}", new ContinualOptions { ReplayCapacity = ReplayCapacity, ReplayRatio = 1, EwcStrength = 0, DistillationWeight = DistillationWeight }),
            Continual("default", "ContinualOptions' defaults (by-user replay 1:5, EWC λ = 3e-4)", new ContinualOptions()),
            new("tracker", "PreferenceTracker (RepeatExplore), fed month by month", false,
                () => new TrackerRecommender(() => new PreferenceTracker(new TrackerOptions { Seed = seed, FlushInterval = Timeout.InfiniteTimeSpan }))),
        ];
    }
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using Spectre.Console;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// Loads the UCI Online Retail purchase log (bundled), or a user's own CSV, cleans it, trains every model and prints
/// the metrics of each protocol and one customer's top-10. <c>--help</c> lists the options; the run itself is
/// <see cref="SampleRun"/>.
/// </summary>
internal static class Program
{
    private static readonly string[] AllModels = SampleOptions.AllModels;

    private static int Main(string[] args)
    {
        // Redirected output has no terminal width; Spectre would wrap every line at 80 columns.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        }

        return SampleRun.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
    }

    /// <summary>A fresh model by its sample name, with each model's own epoch budget unless one is given.</summary>
    /// <param name="name">The model's sample name.</param>
    /// <param name="seed">The seed of every random choice.</param>
    /// <param name="epochs">The epoch budget, or null for the model's own.</param>
    /// <param name="objective">What a model that searches its hyper-parameters (<see cref="TunesForExplore"/>) maximises on the validation basket.</param>
    internal static IRecommender Create(string name, int seed, int? epochs, ValidationObjective objective = ValidationObjective.AllItems) =>
        Create(name, new Options(epochs, seed, objective));

    /// <summary>Whether the model chooses its hyper-parameters on the validation basket for a variant, so explore gets its own fit.</summary>
    internal static bool TunesForExplore(string name) => name is "TIFU-KNN" or "UP-CF";

    /// <summary>The sample's tracker: micro-batches of 1,024 events, no timer (so a replay is deterministic).</summary>
    internal static Func<PreferenceTracker> CreateTracker(int seed) =>
        () => new PreferenceTracker(new TrackerOptions { Seed = seed, FlushInterval = Timeout.InfiniteTimeSpan, MicroBatchSize = 1024 });

    private static IRecommender Create(string name, Options options) => name switch
    {
        "Popularity" => new Popularity(),
        "PersonalPopularity" => new PersonalPopularity(),
        "ItemKNN" => new ItemKnn(),
        "BPR-MF" => new BprMf(new BprMfOptions { MaxEpochs = options.Epochs ?? new BprMfOptions().MaxEpochs, Seed = options.Seed }),
        "MLP" => new PropensityMlp(new PropensityMlpOptions { MaxEpochs = options.Epochs ?? new PropensityMlpOptions().MaxEpochs, Seed = options.Seed }),
        // GRU4Rec's last-item validation peaks at epoch 4 (next basket) and 5 (leave last item) and only falls after it
        // (runs of 2026-12-02): patience 2 stops two epochs later instead of five, with the same best epoch and numbers.
        "GRU4Rec" => new Gru4Rec(new Gru4RecOptions { MaxEpochs = options.Epochs ?? new Gru4RecOptions().MaxEpochs, Patience = 2, Seed = options.Seed }),
        "SASRec" => new SasRec(new SasRecOptions { MaxEpochs = options.Epochs ?? new SasRecOptions().MaxEpochs, Seed = options.Seed }),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions { MaxEpochs = options.Epochs ?? new RepeatAwareOptions().MaxEpochs, Seed = options.Seed }),
        "TIFU-KNN" => new TifuKnn(new TifuKnnOptions { Seed = options.Seed, Objective = options.Objective }),
        "UP-CF" => new UpCf(new UpCfOptions { Seed = options.Seed, Objective = options.Objective }),
        "Tracker" => new TrackerRecommender(CreateTracker(options.Seed)),
        "RepeatExplore" => new RepeatExplore(new RepeatExploreOptions { Seed = options.Seed }),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", AllModels)}."),
    };

    /// <summary>The settings <see cref="Create(string, Options)"/> reads.</summary>
    private sealed record Options(int? Epochs, int Seed, ValidationObjective Objective);
}

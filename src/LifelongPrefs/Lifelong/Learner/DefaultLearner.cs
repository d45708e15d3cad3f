using LifelongPrefs.Models;

namespace LifelongPrefs.Lifelong;

/// <summary>Builds the learner a tracker uses when the host supplies none.</summary>
internal static class DefaultLearner
{
    /// <summary>Creates the default learner for these options.</summary>
    internal static IRecommender Create(TrackerOptions options) =>
        new BprMf(new BprMfOptions { Dimensions = options.Dimensions, Seed = options.Seed, MaxUsers = options.MaxUsers, MaxItems = options.MaxItems });
}

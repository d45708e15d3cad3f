namespace LifelongPrefs.Lifelong;

/// <summary>Builds the learner a tracker uses when the host supplies none.</summary>
internal static class DefaultLearner
{
    /// <summary>
    /// Creates the default learner for these options: <see cref="RepeatExplore"/> (the repeat signal, an embedding
    /// model trained online with sampled softmax, and item co-occurrence under a learned gate; copy-on-write tables
    /// make its per-batch snapshots cheap).
    /// </summary>
    internal static IRecommender Create(TrackerOptions options) =>
        new RepeatExplore(new RepeatExploreOptions
        {
            Dimensions = options.Dimensions,
            Seed = options.Seed,
            MaxUsers = options.MaxUsers,
            MaxItems = options.MaxItems,
        });
}

namespace LifelongPrefs.Models;

/// <summary>
/// What the options of every model with random choices or growing tables share under the same names: the seed and the
/// growth limits (<see cref="LearnedModelOptions"/>, <see cref="NeighbourModelOptions"/>, <see cref="RepeatExploreOptions"/>).
/// </summary>
/// <remarks>Only the library's options derive from it.</remarks>
public abstract class ModelOptions
{
    /// <summary>Initialises the shared options with their defaults.</summary>
    private protected ModelOptions()
    {
    }

    /// <summary>
    /// Seed of every random choice the model makes (which ones: see the model's options): the same seed and the same
    /// events give the same model.
    /// </summary>
    /// <value>Default 42.</value>
    public int Seed { get; init; } = 42;

    /// <summary>The most users the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxUsers { get; init; } = RecommenderGuard.DefaultMaxUsers;

    /// <summary>The most items the model may grow to (checked before anything is allocated).</summary>
    /// <value>Default 10,000,000.</value>
    public int MaxItems { get; init; } = RecommenderGuard.DefaultMaxItems;

    /// <summary>Checks the growth limits (the messages name the option).</summary>
    private protected void ValidateLimits()
    {
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
    }
}

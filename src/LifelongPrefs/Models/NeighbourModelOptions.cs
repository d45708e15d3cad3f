namespace LifelongPrefs.Models;

/// <summary>
/// What the two neighbourhood baselines' options share under the same names (<see cref="TifuKnnOptions"/>,
/// <see cref="UpCfOptions"/>): how the grid search validates; the seed (<see cref="ModelOptions.Seed"/>) draws the
/// validation users, the model's only random choice.
/// </summary>
/// <remarks>Only the library's options derive from it.</remarks>
public abstract class NeighbourModelOptions : ModelOptions
{
    /// <summary>Initialises the shared options with their defaults.</summary>
    private protected NeighbourModelOptions()
    {
    }

    /// <summary>
    /// The validation basket's metric the grid search maximises: NDCG@20 over all items, or over the items new to the
    /// user (<see cref="ValidationObjective.Explore"/>, for the explore variant of next basket).
    /// </summary>
    /// <value>Default <see cref="ValidationObjective.AllItems"/>.</value>
    public ValidationObjective Objective { get; init; } = ValidationObjective.AllItems;

    /// <summary>Users whose last training basket is held out to choose the setting (0 takes the first values).</summary>
    /// <value>Default 500.</value>
    public int ValidationUsers { get; init; } = 500;

    /// <summary>
    /// The options' canonical text for the state header: the model's candidate lists (each written out value by value)
    /// with the shared options, then the objective when it is not the default (so states saved before it existed keep
    /// their fingerprint).
    /// </summary>
    private protected string Canonical(params (string Name, string Values)[] grid) => NeighbourModel.WithObjective(OptionsFingerprint.CanonicalOf(
    [
        .. grid.Select(g => new KeyValuePair<string, object?>(g.Name, g.Values)),
        new(nameof(ValidationUsers), ValidationUsers), new(nameof(Seed), Seed), new(nameof(MaxUsers), MaxUsers), new(nameof(MaxItems), MaxItems),
    ]), Objective);

    /// <summary>Checks the shared options (the messages name the option).</summary>
    private protected void ValidateShared()
    {
        RecommenderGuard.Defined(Objective, nameof(Objective));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        ValidateLimits();
    }
}

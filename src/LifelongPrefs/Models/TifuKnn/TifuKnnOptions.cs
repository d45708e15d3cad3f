namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="TifuKnn"/>: a small grid that <see cref="TifuKnn.Fit"/> searches on the validation
/// basket (NDCG@20 over all items, the metric every model of the library validates on), the first value of each list
/// being the one used when there is nothing to validate on. The defaults put the reference setting of issue 8 on Online
/// Retail first (k = 25, m = 12, r_b = 0.9, r_g = 1, α = 0.2; m counts groups, as in the authors' code), so it also wins ties. A list of one value fixes it.
/// </summary>
public sealed class TifuKnnOptions : NeighbourModelOptions
{
    /// <summary>Candidate numbers of nearest users k whose vectors are averaged; each at least 1.</summary>
    /// <value>Default [25, 10, 50].</value>
    public IReadOnlyList<int> Neighbors { get; init; } = [25, 10, 50];

    /// <summary>Candidate group counts m: a history of n baskets is split into min(n, m) groups of consecutive baskets; each at least 1.</summary>
    /// <value>Default [12, 6].</value>
    public IReadOnlyList<int> GroupCounts { get; init; } = [12, 6];

    /// <summary>Candidate within-group decay rates r_b (a basket s places before its group's newest weighs r_b^s); each in (0, 1].</summary>
    /// <value>Default [0.9, 1.0, 0.8].</value>
    public IReadOnlyList<float> WithinGroupDecays { get; init; } = [0.9f, 1f, 0.8f];

    /// <summary>Candidate group decay rates r_g (a group g places before the newest weighs r_g^g); each in (0, 1].</summary>
    /// <value>Default [1.0, 0.9].</value>
    public IReadOnlyList<float> GroupDecays { get; init; } = [1f, 0.9f];

    /// <summary>Candidate weights α of the user's own vector against the neighbours' mean; each in [0, 1].</summary>
    /// <value>Default [0.2, 0.1, 0.4, 0.7].</value>
    public IReadOnlyList<float> Alphas { get; init; } = [0.2f, 0.1f, 0.4f, 0.7f];

    internal void Validate()
    {
        NeighbourGrid.Each(Neighbors, nameof(Neighbors), v => v >= 1 && v <= 100_000, "in [1, 100000]");
        NeighbourGrid.Each(GroupCounts, nameof(GroupCounts), v => v >= 1, "at least 1");
        NeighbourGrid.Each(WithinGroupDecays, nameof(WithinGroupDecays), v => v > 0f && v <= 1f, "in (0, 1]");
        NeighbourGrid.Each(GroupDecays, nameof(GroupDecays), v => v > 0f && v <= 1f, "in (0, 1]");
        NeighbourGrid.Each(Alphas, nameof(Alphas), v => v >= 0f && v <= 1f, "in [0, 1]");
        ValidateShared();
    }

    /// <summary>A copy whose lists are the model's own, so a caller who changes a list later changes nothing.</summary>
    internal TifuKnnOptions Frozen() => new()
    {
        Neighbors = [.. Neighbors], GroupCounts = [.. GroupCounts], WithinGroupDecays = [.. WithinGroupDecays], GroupDecays = [.. GroupDecays],
        Alphas = [.. Alphas], Objective = Objective, ValidationUsers = ValidationUsers, Seed = Seed, MaxUsers = MaxUsers, MaxItems = MaxItems,
    };

    /// <summary>The options' canonical text for the state header (the lists written out value by value).</summary>
    internal string Canonical() => Canonical(
        (nameof(Neighbors), NeighbourGrid.Text(Neighbors)),
        (nameof(GroupCounts), NeighbourGrid.Text(GroupCounts)),
        (nameof(WithinGroupDecays), NeighbourGrid.Text(WithinGroupDecays)),
        (nameof(GroupDecays), NeighbourGrid.Text(GroupDecays)),
        (nameof(Alphas), NeighbourGrid.Text(Alphas)));
}

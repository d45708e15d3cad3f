namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="UpCf"/>: a small grid that <see cref="UpCf.Fit"/> searches on the validation basket
/// (NDCG@20 over all items), the first value of each list being the one used when there is nothing to validate on.
/// The defaults put the reference setting of issue 8 on Online Retail first (r = 5, α = 0.75, q = 5), so it also wins
/// ties; the explore reference (r = 1, α = 0.5, q = 5) is in the grid too. A list of one value fixes it.
/// </summary>
public sealed class UpCfOptions : NeighbourModelOptions
{
    /// <summary>Candidate recency windows r: a user's popularity counts their last r baskets only; each at least 1.</summary>
    /// <value>Default [5, 1, 3, 10].</value>
    public IReadOnlyList<int> Recencies { get; init; } = [5, 1, 3, 10];

    /// <summary>Candidate asymmetries α of the cosine <c>|N(u) ∩ N(v)| / (|N(u)|^α·|N(v)|^(1−α))</c>; each in [0, 1].</summary>
    /// <value>Default [0.75, 0.25, 0.5].</value>
    public IReadOnlyList<float> Asymmetries { get; init; } = [0.75f, 0.25f, 0.5f];

    /// <summary>Candidate localities q: similarities are raised to the power q, so close users dominate; each in [1, 100].</summary>
    /// <value>Default [5, 1, 10].</value>
    public IReadOnlyList<int> Localities { get; init; } = [5, 1, 10];

    internal void Validate()
    {
        NeighbourGrid.Each(Recencies, nameof(Recencies), v => v >= 1, "at least 1");
        NeighbourGrid.Each(Asymmetries, nameof(Asymmetries), v => v >= 0f && v <= 1f, "in [0, 1]");
        NeighbourGrid.Each(Localities, nameof(Localities), v => v >= 1 && v <= 100, "in [1, 100]");
        ValidateShared();
    }

    /// <summary>A copy whose lists are the model's own, so a caller who changes a list later changes nothing.</summary>
    internal UpCfOptions Frozen() => new()
    {
        Recencies = [.. Recencies], Asymmetries = [.. Asymmetries], Localities = [.. Localities], Objective = Objective, ValidationUsers = ValidationUsers, Seed = Seed,
        MaxUsers = MaxUsers, MaxItems = MaxItems,
    };

    /// <summary>The options' canonical text for the state header (the lists written out value by value).</summary>
    internal string Canonical() => Canonical(
        (nameof(Recencies), NeighbourGrid.Text(Recencies)),
        (nameof(Asymmetries), NeighbourGrid.Text(Asymmetries)),
        (nameof(Localities), NeighbourGrid.Text(Localities)));
}

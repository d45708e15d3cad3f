namespace LifelongPrefs.Models;

/// <summary>
/// UP-CF@r (Faggioli, Polato and Aiolli, "Recency Aware Collaborative Filtering for Next Basket Recommendation", UMAP
/// 2020): user-based collaborative filtering over recency-aware user popularity. A user's popularity of an item is the
/// share of their last r baskets that hold it; the score sums every user's popularity weighted by an asymmetric cosine
/// similarity raised to a locality power: <c>score_u(i) = Σ_v w_uv^q·π_v(i)</c>. With TIFU-KNN it is among the
/// strongest next-basket models in "A Next Basket Recommendation Reality Check" (Li et al., TOIS 2023).
/// </summary>
/// <remarks>
/// <para>
/// <b>Similarity.</b> <c>w_uv = |N(u) ∩ N(v)| / (|N(u)|^α·|N(v)|^(1−α))</c> over the sets of items each user ever
/// bought (binary, all baskets), so <c>w_uu = 1</c> and the user's own popularity enters at full weight.
/// </para>
/// <para>
/// <b>Setting.</b> <see cref="Fit"/> searches the grid of <see cref="UpCfOptions"/> on the last basket of sampled
/// users (<see cref="HoldoutValidation"/>, NDCG@20 over all items, or over new items with
/// <see cref="ValidationObjective.Explore"/>), then rebuilds from every event with the best
/// setting; <see cref="Recency"/>, <see cref="Asymmetry"/>, <see cref="Locality"/> and <see cref="ValidationNdcg"/>
/// report the choice.
/// </para>
/// <para>
/// <b>Cost.</b> <see cref="Update"/> appends the events to the one <see cref="UserHistories"/>, recomputes the profiles
/// of the users they touch (O(their events)) and repacks the rows and the item → users index (O(stored entries)). A
/// score builds the history's profile (O(history)), counts the overlaps through the item → users index (O(postings of
/// the history's items)) and adds one popularity row per overlapping user (at most r baskets' items each); nothing is
/// allocated once the pool is warm.
/// </para>
/// <para>
/// <b>Threads.</b> Reads may run on any number of threads; a version (profiles, setting, scratch pool) is immutable
/// and swapped whole by the writes, so <see cref="CreateScorer"/> returns the current version itself at no cost.
/// </para>
/// </remarks>
public sealed partial class UpCf : Recommender
{
    private readonly UpCfOptions _options;
    private readonly NeighbourCore<UpCfSetting, (int[]? Bought, int[]? PopularItems, float[]? PopularValues), UpCfProfiles, UpCfScorer> _core;

    /// <summary>Creates an unfitted model.</summary>
    /// <param name="options">Hyper-parameter grid and limits; defaults when null.</param>
    /// <exception cref="ArgumentException">An option is out of range or a candidate list is empty (the message names it).</exception>
    public UpCf(UpCfOptions? options = null)
    {
        (options ?? new UpCfOptions()).Validate();
        _options = (options ?? new UpCfOptions()).Frozen();
        _core = new(Row, Pack, (profiles, items, setting) => new(profiles, items, setting),
            new(new UpCfProfiles(SparseRows.Empty, SparseRows.Empty, []), 0, Grid()[0]));
    }

    /// <inheritdoc/>
    public override string Name => "UP-CF";

    /// <inheritdoc/>
    public override int ItemCount => _core.Version.ItemCount;

    /// <summary>Gets the chosen recency window r in baskets (the first candidate before any fit).</summary>
    public int Recency => _core.Version.Setting.Recency;

    /// <summary>Gets the chosen asymmetry α of the cosine similarity.</summary>
    public float Asymmetry => _core.Version.Setting.Asymmetry;

    /// <summary>Gets the chosen locality q (the power the similarities are raised to).</summary>
    public int Locality => _core.Version.Setting.Locality;

    /// <summary>Gets the validation NDCG@20 of the chosen setting under the options' <c>Objective</c> (NaN when the last fit had nothing to validate on).</summary>
    public double ValidationNdcg => _core.ValidationNdcg;

    /// <inheritdoc/>
    /// <remarks>Searches the options' grid on the validation basket, then builds every user's profile with the best setting.</remarks>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // The grid varies α and q fastest, so the profiles are rebuilt only when r changes.
        _core.Fit(this, _options, events, userCount, itemCount, Grid(), (a, b) => a.Recency == b.Recency, progress, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Appends the events to the histories, recomputes the profiles of the users they touch and repacks the index
    /// (O(stored entries)); the chosen setting stays.
    /// </remarks>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) =>
        _core.Update(_options, newEvents, userCount, itemCount);

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own. See <see cref="UpCf"/> for the cost.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _core.Version.Score(user, history, scores);

    /// <inheritdoc/>
    /// <remarks>A version is immutable (writes replace it), so the snapshot is the current version itself: no copy.</remarks>
    public override IScorer CreateScorer() => _core.Version;

    /// <summary>A user's profile from their events (into a cleared <paramref name="profile"/>): the items bought, and the popularity row.</summary>
    private static (int[]? Bought, int[]? PopularItems, float[]? PopularValues) Row(ReadOnlySpan<Interaction> events, UpCfSetting setting,
        SparseVector profile)
    {
        UpCfScorer.Profile(events, setting.Recency, profile);
        (int[] bought, _) = profile.ToRow(positiveOnly: false);
        (int[] popularItems, float[] popularValues) = profile.ToRow(positiveOnly: true);
        return (bought, popularItems, popularValues);
    }

    /// <summary>Every user's profile packed: the popularity rows, the item → users index and each user's distinct item count.</summary>
    private static UpCfProfiles Pack((int[]? Bought, int[]? PopularItems, float[]? PopularValues)[] rows, int items)
    {
        int[]?[] bought = [.. rows.Select(r => r.Bought)];
        return new(SparseRows.FromRows([.. rows.Select(r => r.PopularItems)], [.. rows.Select(r => r.PopularValues)], items),
            SparseRows.FromRows(bought, [.. bought.Select(b => b is null ? null : new float[b.Length])], items).Transpose(),
            [.. bought.Select(b => b?.Length ?? 0)]);
    }

    /// <summary>Every combination of the candidates, r outermost.</summary>
    private UpCfSetting[] Grid() =>
    [
        .. from r in _options.Recencies
           from alpha in _options.Asymmetries
           from q in _options.Localities
           select new UpCfSetting(r, alpha, q),
    ];
}

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
    private UserHistories _histories = new();
    private int[]?[] _bought = [];
    private int[]?[] _popularItems = [];
    private float[]?[] _popularValues = [];
    private int _users;
    private UpCfScorer _version;

    /// <summary>Creates an unfitted model.</summary>
    /// <param name="options">Hyper-parameter grid and limits; defaults when null.</param>
    /// <exception cref="ArgumentException">An option is out of range or a candidate list is empty (the message names it).</exception>
    public UpCf(UpCfOptions? options = null)
    {
        (options ?? new UpCfOptions()).Validate();
        _options = (options ?? new UpCfOptions()).Frozen();
        _version = new UpCfScorer(new UpCfProfiles(SparseRows.Empty, SparseRows.Empty, []), 0, FirstSetting());
    }

    /// <inheritdoc/>
    public override string Name => "UP-CF";

    /// <inheritdoc/>
    public override int ItemCount => _version.ItemCount;

    /// <summary>Gets the chosen recency window r in baskets (the first candidate before any fit).</summary>
    public int Recency => _version.Setting.Recency;

    /// <summary>Gets the chosen asymmetry α of the cosine similarity.</summary>
    public float Asymmetry => _version.Setting.Asymmetry;

    /// <summary>Gets the chosen locality q (the power the similarities are raised to).</summary>
    public int Locality => _version.Setting.Locality;

    /// <summary>Gets the validation NDCG@20 of the chosen setting under the options' <c>Objective</c> (NaN when the last fit had nothing to validate on).</summary>
    public double ValidationNdcg { get; private set; } = double.NaN;

    /// <inheritdoc/>
    /// <remarks>Searches the options' grid on the validation basket, then builds every user's profile with the best setting.</remarks>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        UpCfSetting chosen = FirstSetting();
        double best = double.NaN;
        UpCfSetting[] grid = Grid();
        HoldoutValidation? validation = NeighbourModel.Validation(events, userCount, grid.Length, _options.ValidationUsers, _options.Seed);
        UpCfScorer before = _version;
        try
        {
            if (validation is { UserCount: > 0 })
            {
                // The grid varies α and q fastest, so the profiles are rebuilt only when r changes.
                UserHistories held = UserHistories.FromEvents(validation.FitEvents, userCount);
                chosen = NeighbourModel.Search(this, validation, _options.Objective, grid, (a, b) => a.Recency == b.Recency,
                    s => Build(held, userCount, itemCount, s.Recency, out _, out _, out _),
                    (profiles, s) => _version = new UpCfScorer(profiles, itemCount, s), progress, cancellationToken, out best);
            }
        }
        catch
        {
            _version = before;
            throw;
        }

        UserHistories histories = UserHistories.FromEvents(events, userCount);
        UpCfProfiles final = Build(histories, userCount, itemCount, chosen.Recency, out _bought, out _popularItems, out _popularValues);
        (_histories, _users, ValidationNdcg) = (histories, userCount, best);
        _version = new UpCfScorer(final, itemCount, chosen);
        if (validation is not { UserCount: > 0 })
        {
            progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Appends the events to the histories, recomputes the profiles of the users they touch and repacks the index
    /// (O(stored entries)); the chosen setting stays.
    /// </remarks>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        int[] touched = NeighbourModel.Append(_histories, newEvents, userCount, itemCount, _users, ItemCount, _options.MaxUsers, _options.MaxItems);
        Array.Resize(ref _bought, userCount);
        Array.Resize(ref _popularItems, userCount);
        Array.Resize(ref _popularValues, userCount);
        var profile = new SparseVector(itemCount);
        foreach (int u in touched)
        {
            ProfileRow(_histories.EventsOf(u), _version.Setting.Recency, profile, out _bought[u], out _popularItems[u], out _popularValues[u]);
        }

        _users = userCount;
        _version = new UpCfScorer(Pack(_bought, _popularItems, _popularValues, itemCount), itemCount, _version.Setting);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own. See <see cref="UpCf"/> for the cost.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _version.Score(user, history, scores);

    /// <inheritdoc/>
    /// <remarks>A version is immutable (writes replace it), so the snapshot is the current version itself: no copy.</remarks>
    public override IScorer CreateScorer() => _version;

    /// <summary>Every user's profile from <paramref name="histories"/> with recency window <paramref name="recency"/>.</summary>
    internal static UpCfProfiles Build(UserHistories histories, int users, int items, int recency,
        out int[]?[] bought, out int[]?[] popularItems, out float[]?[] popularValues)
    {
        bought = new int[]?[users];
        popularItems = new int[]?[users];
        popularValues = new float[]?[users];
        var profile = new SparseVector(items);
        for (int u = 0; u < users; u++)
        {
            ProfileRow(histories.EventsOf(u), recency, profile, out bought[u], out popularItems[u], out popularValues[u]);
        }

        return Pack(bought, popularItems, popularValues, items);
    }

    private static void ProfileRow(ReadOnlySpan<Interaction> events, int recency, SparseVector profile,
        out int[] bought, out int[] popularItems, out float[] popularValues)
    {
        UpCfScorer.Profile(events, recency, profile);
        (bought, _) = profile.ToRow(positiveOnly: false);
        (popularItems, popularValues) = profile.ToRow(positiveOnly: true);
        profile.Clear();
    }

    private static UpCfProfiles Pack(int[]?[] bought, int[]?[] popularItems, float[]?[] popularValues, int items) =>
        new(SparseRows.FromRows(popularItems, popularValues, items),
            SparseRows.FromRows(bought, [.. bought.Select(b => b is null ? null : new float[b.Length])], items).Transpose(),
            [.. bought.Select(b => b?.Length ?? 0)]);

    private UpCfSetting FirstSetting() => new(_options.Recencies[0], _options.Asymmetries[0], _options.Localities[0]);

    /// <summary>Every combination of the candidates, r outermost.</summary>
    private UpCfSetting[] Grid() =>
    [
        .. from r in _options.Recencies
           from alpha in _options.Asymmetries
           from q in _options.Localities
           select new UpCfSetting(r, alpha, q),
    ];
}

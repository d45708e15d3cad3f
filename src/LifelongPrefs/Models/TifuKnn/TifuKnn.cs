namespace LifelongPrefs.Models;

/// <summary>
/// TIFU-KNN (Hu et al., "Modeling Personalized Item Frequency Information for Next-basket Recommendation", SIGIR
/// 2020): a user is their time-decayed item-frequency vector, and the prediction mixes it with the mean vector of the
/// k nearest users: <c>α·u + (1 − α)·mean(k nearest u_v)</c>. With item-frequency baselines it is among the strongest
/// next-basket models in "A Next Basket Recommendation Reality Check" (Li et al., TOIS 2023).
/// </summary>
/// <remarks>
/// <para>
/// <b>Vectors.</b> A user's n baskets (runs of positive events with one basket key, each item once) are split into
/// min(n, m) groups of consecutive baskets; a basket s places before the newest weighs r_b^s, a group is the mean of
/// its baskets, and a group g places before the newest weighs r_g^g divided by the number of groups (the authors'
/// code, which reproduces the reference; see <c>TifuKnnScorer.UserVector</c>).
/// </para>
/// <para>
/// <b>Setting.</b> <see cref="Fit"/> searches the grid of <see cref="TifuKnnOptions"/> on the last basket of sampled
/// users (<see cref="HoldoutValidation"/>, NDCG@20 over all items, or over new items with
/// <see cref="ValidationObjective.Explore"/>), then rebuilds from every event with the best
/// setting; <see cref="Neighbors"/>, <see cref="GroupCount"/>, <see cref="WithinGroupDecay"/>, <see cref="GroupDecay"/>,
/// <see cref="Alpha"/> and <see cref="ValidationNdcg"/> report the choice. The grid's cost is one pass over the events
/// per (m, r_b, r_g) and one validation scoring per combination.
/// </para>
/// <para>
/// <b>Cost.</b> The users' histories live in one <see cref="UserHistories"/>. <see cref="Update"/> appends the new
/// events, recomputes the vectors of the users they touch (O(their events)) and repacks the rows and the item → users
/// index (O(stored entries)); the setting is kept. A score builds the history's vector (O(history)), takes the dot
/// products with every stored user through the item → users index (O(postings of the history's items)), finds the k
/// nearest in Euclidean distance (users sharing no item are visited by ascending norm and the walk stops at the first
/// that cannot enter), and adds k rows: no users × items scan, and no allocation once the pool is warm.
/// </para>
/// <para>
/// <b>Threads.</b> Reads may run on any number of threads; a version (vectors, setting, scratch pool) is immutable and
/// swapped whole by the writes, so <see cref="CreateScorer"/> returns the current version itself at no cost.
/// </para>
/// </remarks>
public sealed partial class TifuKnn : Recommender
{
    private readonly TifuKnnOptions _options;
    private UserHistories _histories = new();
    private int[]?[] _rowItems = [];
    private float[]?[] _rowValues = [];
    private int _users;
    private TifuKnnScorer _version;

    /// <summary>Creates an unfitted model.</summary>
    /// <param name="options">Hyper-parameter grid and limits; defaults when null.</param>
    /// <exception cref="ArgumentException">An option is out of range or a candidate list is empty (the message names it).</exception>
    public TifuKnn(TifuKnnOptions? options = null)
    {
        (options ?? new TifuKnnOptions()).Validate();
        _options = (options ?? new TifuKnnOptions()).Frozen();
        _version = Version(new TifuKnnVectors(SparseRows.Empty), 0, FirstSetting());
    }

    /// <inheritdoc/>
    public override string Name => "TIFU-KNN";

    /// <inheritdoc/>
    public override int ItemCount => _version.ItemCount;

    /// <summary>Gets the chosen number of nearest users k (the first candidate before any fit).</summary>
    public int Neighbors => _version.Setting.Neighbors;

    /// <summary>Gets the chosen number of groups m the baskets are split into.</summary>
    public int GroupCount => _version.Setting.Groups;

    /// <summary>Gets the chosen within-group decay rate r_b.</summary>
    public float WithinGroupDecay => _version.Setting.WithinGroupDecay;

    /// <summary>Gets the chosen group decay rate r_g.</summary>
    public float GroupDecay => _version.Setting.GroupDecay;

    /// <summary>Gets the chosen weight α of the user's own vector.</summary>
    public float Alpha => _version.Setting.Alpha;

    /// <summary>Gets the validation NDCG@20 of the chosen setting under the options' <c>Objective</c> (NaN when the last fit had nothing to validate on).</summary>
    public double ValidationNdcg { get; private set; } = double.NaN;

    /// <inheritdoc/>
    /// <remarks>Searches the options' grid on the validation basket, then builds every user's vector with the best setting.</remarks>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        TifuKnnSetting chosen = FirstSetting();
        double best = double.NaN;
        TifuKnnSetting[] grid = Grid();
        HoldoutValidation? validation = NeighbourModel.Validation(events, userCount, grid.Length, _options.ValidationUsers, _options.Seed);
        TifuKnnScorer before = _version;
        try
        {
            if (validation is { UserCount: > 0 })
            {
                // The grid varies k and α fastest, so the vectors are rebuilt only when (m, r_b, r_g) change.
                UserHistories held = UserHistories.FromEvents(validation.FitEvents, userCount);
                chosen = NeighbourModel.Search(this, validation, _options.Objective, grid, SameVectors, s => Build(held, userCount, itemCount, s, out _, out _),
                    (vectors, s) => _version = Version(vectors, itemCount, s), progress, cancellationToken, out best);
            }
        }
        catch
        {
            _version = before;
            throw;
        }

        UserHistories histories = UserHistories.FromEvents(events, userCount);
        TifuKnnVectors final = Build(histories, userCount, itemCount, chosen, out _rowItems, out _rowValues);
        (_histories, _users, ValidationNdcg) = (histories, userCount, best);
        _version = Version(final, itemCount, chosen);
        if (validation is not { UserCount: > 0 })
        {
            progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Appends the events to the histories, recomputes the vectors of the users they touch and repacks the index
    /// (O(stored entries)); the chosen setting stays.
    /// </remarks>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        int[] touched = NeighbourModel.Append(_histories, newEvents, userCount, itemCount, _users, ItemCount, _options.MaxUsers, _options.MaxItems);
        Array.Resize(ref _rowItems, userCount);
        Array.Resize(ref _rowValues, userCount);
        TifuKnnSetting setting = _version.Setting;
        var vector = new SparseVector(itemCount);
        foreach (int u in touched)
        {
            TifuKnnScorer.UserVector(_histories.EventsOf(u), setting, vector);
            (_rowItems[u], _rowValues[u]) = vector.ToRow(positiveOnly: false);
            vector.Clear();
        }

        _users = userCount;
        _version = Version(new TifuKnnVectors(SparseRows.FromRows(_rowItems, _rowValues, itemCount)), itemCount, setting);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own. See <see cref="TifuKnn"/> for the cost.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _version.Score(user, history, scores);

    /// <inheritdoc/>
    /// <remarks>A version is immutable (writes replace it), so the snapshot is the current version itself: no copy.</remarks>
    public override IScorer CreateScorer() => _version;

    private static bool SameVectors(TifuKnnSetting a, TifuKnnSetting b) =>
        a.Groups == b.Groups && a.WithinGroupDecay == b.WithinGroupDecay && a.GroupDecay == b.GroupDecay;

    private static TifuKnnScorer Version(TifuKnnVectors vectors, int items, TifuKnnSetting setting) => new(vectors, items, setting);

    /// <summary>Every user's vector from <paramref name="histories"/> under <paramref name="setting"/>.</summary>
    internal static TifuKnnVectors Build(UserHistories histories, int users, int items, TifuKnnSetting setting,
        out int[]?[] rowItems, out float[]?[] rowValues)
    {
        rowItems = new int[]?[users];
        rowValues = new float[]?[users];
        var vector = new SparseVector(items);
        for (int u = 0; u < users; u++)
        {
            TifuKnnScorer.UserVector(histories.EventsOf(u), setting, vector);
            (rowItems[u], rowValues[u]) = vector.ToRow(positiveOnly: false);
            vector.Clear();
        }

        return new TifuKnnVectors(SparseRows.FromRows(rowItems, rowValues, items));
    }

    private TifuKnnSetting FirstSetting() => new(_options.Neighbors[0], _options.GroupCounts[0], _options.WithinGroupDecays[0],
        _options.GroupDecays[0], _options.Alphas[0]);

    /// <summary>Every combination of the candidates, (m, r_b, r_g) outermost and (k, α) innermost.</summary>
    private TifuKnnSetting[] Grid() =>
    [
        .. from m in _options.GroupCounts
           from rb in _options.WithinGroupDecays
           from rg in _options.GroupDecays
           from k in _options.Neighbors
           from alpha in _options.Alphas
           select new TifuKnnSetting(k, m, rb, rg, alpha),
    ];
}

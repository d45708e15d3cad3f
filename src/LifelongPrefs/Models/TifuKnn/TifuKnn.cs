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
    private readonly NeighbourCore<TifuKnnSetting, (int[]? Items, float[]? Values), TifuKnnVectors, TifuKnnScorer> _core;

    /// <summary>Creates an unfitted model.</summary>
    /// <param name="options">Hyper-parameter grid and limits; defaults when null.</param>
    /// <exception cref="ArgumentException">An option is out of range or a candidate list is empty (the message names it).</exception>
    public TifuKnn(TifuKnnOptions? options = null)
    {
        (options ?? new TifuKnnOptions()).Validate();
        _options = (options ?? new TifuKnnOptions()).Frozen();
        _core = new(Row, Pack, (vectors, items, setting) => new(vectors, items, setting),
            new(new TifuKnnVectors(SparseRows.Empty), 0, Grid()[0]));
    }

    /// <inheritdoc/>
    public override string Name => "TIFU-KNN";

    /// <inheritdoc/>
    public override int ItemCount => _core.Version.ItemCount;

    /// <summary>Gets the chosen number of nearest users k (the first candidate before any fit).</summary>
    public int Neighbors => _core.Version.Setting.Neighbors;

    /// <summary>Gets the chosen number of groups m the baskets are split into.</summary>
    public int GroupCount => _core.Version.Setting.Groups;

    /// <summary>Gets the chosen within-group decay rate r_b.</summary>
    public float WithinGroupDecay => _core.Version.Setting.WithinGroupDecay;

    /// <summary>Gets the chosen group decay rate r_g.</summary>
    public float GroupDecay => _core.Version.Setting.GroupDecay;

    /// <summary>Gets the chosen weight α of the user's own vector.</summary>
    public float Alpha => _core.Version.Setting.Alpha;

    /// <summary>Gets the validation NDCG@20 of the chosen setting under the options' <c>Objective</c> (NaN when the last fit had nothing to validate on).</summary>
    public double ValidationNdcg => _core.ValidationNdcg;

    /// <inheritdoc/>
    /// <remarks>Searches the options' grid on the validation basket, then builds every user's vector with the best setting.</remarks>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // The grid varies k and α fastest, so the vectors are rebuilt only when (m, r_b, r_g) change.
        _core.Fit(this, _options, events, userCount, itemCount, Grid(), SameVectors, progress, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Appends the events to the histories, recomputes the vectors of the users they touch and repacks the index
    /// (O(stored entries)); the chosen setting stays.
    /// </remarks>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) =>
        _core.Update(_options, newEvents, userCount, itemCount);

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own. See <see cref="TifuKnn"/> for the cost.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _core.Version.Score(user, history, scores);

    /// <inheritdoc/>
    /// <remarks>A version is immutable (writes replace it), so the snapshot is the current version itself: no copy.</remarks>
    public override IScorer CreateScorer() => _core.Version;

    private static bool SameVectors(TifuKnnSetting a, TifuKnnSetting b) =>
        a.Groups == b.Groups && a.WithinGroupDecay == b.WithinGroupDecay && a.GroupDecay == b.GroupDecay;

    /// <summary>A user's vector from their events (into a cleared <paramref name="vector"/>) as a sparse row.</summary>
    private static (int[]? Items, float[]? Values) Row(ReadOnlySpan<Interaction> events, TifuKnnSetting setting, SparseVector vector)
    {
        TifuKnnScorer.UserVector(events, setting, vector);
        return vector.ToRow(positiveOnly: false);
    }

    /// <summary>Every user's vector packed (a user without events has none).</summary>
    private static TifuKnnVectors Pack((int[]? Items, float[]? Values)[] rows, int items) =>
        new(SparseRows.FromRows([.. rows.Select(r => r.Items)], [.. rows.Select(r => r.Values)], items));

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

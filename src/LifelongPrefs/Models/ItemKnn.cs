namespace LifelongPrefs.Models;

/// <summary>
/// Item-based collaborative filtering: items are similar when the same users bought both (cosine similarity of
/// binary user–item vectors, <c>c_ij / √(n_i·n_j)</c>), and a user's score for item i sums its similarity to
/// every item in their history.
/// </summary>
/// <remarks>
/// Co-occurrence counts are kept, not similarities, so <see cref="Update"/> adds a user's new items in
/// O(new items × user's items) and the similarity is formed at scoring time:
/// <c>score = invSqrt ⊙ Σ_j invSqrt[j]·C[j,:]</c> with one vectorised row operation per history event. An item's
/// similarity to itself is 0: the repeat signal is left to models that want it. The counts live in a sparse
/// symmetric store (<see cref="ItemCooccurrence"/>), so memory follows the co-bought pairs rather than
/// <c>items²</c>: a 100,000-item catalog works, and scoring visits only the non-zero columns of each history row.
/// </remarks>
public sealed class ItemKnn : Recommender
{
    private ItemCooccurrence _cooccurrence = new();
    private float[] _inverseSqrtCount = [];
    private int[] _userCount = [];
    private UserItemSets _itemsOfUser = new();
    private int _items;

    /// <inheritdoc/>
    public override string Name => "ItemKNN";

    /// <inheritdoc/>
    public override int ItemCount => _items;

    /// <inheritdoc/>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        _cooccurrence = new ItemCooccurrence();
        _cooccurrence.Grow(itemCount);
        _inverseSqrtCount = new float[itemCount];
        _userCount = new int[itemCount];
        _itemsOfUser = new UserItemSets();
        _items = itemCount;
        Add(events, userCount);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
    }

    /// <inheritdoc/>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _itemsOfUser.UserCount, _items);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        if (itemCount > _items)
        {
            _cooccurrence.Grow(itemCount);
            Array.Resize(ref _inverseSqrtCount, itemCount);
            Array.Resize(ref _userCount, itemCount);
            _items = itemCount;
        }

        Add(newEvents, userCount);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        ItemKnnScorer.Score(_cooccurrence, _inverseSqrtCount.AsSpan(0, _items), history, scores);

    /// <inheritdoc/>
    /// <remarks>The snapshot copies the sparse co-occurrence counts (memory in proportion to the co-bought pairs).</remarks>
    public override IScorer CreateScorer() =>
        new ItemKnnScorer(_cooccurrence.Clone(), _inverseSqrtCount.AsSpan(0, _items).ToArray());

    private protected override ModelStateHeader StateHeader => new(ModelTypeId.ItemKnn, 1, OptionsFingerprint.Canonical(new { }));

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer) => WriteState(writer, "");

    /// <summary>Adds the counts and the users' item sets under <paramref name="prefix"/> (also used by <see cref="RepeatAware"/>).</summary>
    internal void WriteState(ModelStateWriter writer, string prefix)
    {
        writer.AddInts(prefix + "userCount", _userCount);
        _cooccurrence.ToCsr(out int[] offsets, out int[] columns, out float[] counts);
        writer.AddCsr(prefix + "cooccurrence", offsets, columns, counts);
        _itemsOfUser.Write(writer, prefix + "userItems");
    }

    /// <summary>Validates the sections written by <see cref="WriteState(ModelStateWriter, string)"/> and builds a new model from them.</summary>
    internal static ItemKnn ReadState(ModelStateReader reader, string prefix)
    {
        int[] userCount = reader.Ints(prefix + "userCount");
        int items = userCount.Length;
        var (offsets, columns, counts) = reader.CsrValues(prefix + "cooccurrence", items, items);
        ItemCooccurrence? cooccurrence = ItemCooccurrence.FromCsr(items, offsets, columns, counts);
        reader.Require(cooccurrence is not null, "the co-occurrence counts are not a symmetric off-diagonal matrix of positive counts");
        UserItemSets itemsOfUser = UserItemSets.Read(reader, prefix + "userItems", items);
        reader.Require(Array.TrueForAll(userCount, c => c >= 0), "an item has a negative user count");
        var inverseSqrt = new float[items];
        for (int i = 0; i < items; i++)
        {
            inverseSqrt[i] = userCount[i] > 0 ? 1f / MathF.Sqrt(userCount[i]) : 0f;
        }

        return new ItemKnn
        {
            _items = items, _cooccurrence = cooccurrence!, _userCount = userCount, _itemsOfUser = itemsOfUser, _inverseSqrtCount = inverseSqrt,
        };
    }

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader)
    {
        ItemKnn state = ReadState(reader, "");
        return () => (_items, _cooccurrence, _userCount, _itemsOfUser, _inverseSqrtCount) =
            (state._items, state._cooccurrence, state._userCount, state._itemsOfUser, state._inverseSqrtCount);
    }

    private void Add(IReadOnlyList<Interaction> events, int userCount)
    {
        _itemsOfUser.EnsureUsers(userCount);
        for (int k = 0; k < events.Count; k++)
        {
            Interaction e = events[k];
            if (!_itemsOfUser.Add(e))
            {
                continue;
            }

            // A new (user, item) pair: the item now co-occurs once more with each of the user's other items.
            foreach (int other in _itemsOfUser.Of(e.User))
            {
                if (other != e.Item)
                {
                    _cooccurrence.Increment(e.Item, other);
                }
            }

            _userCount[e.Item]++;
            _inverseSqrtCount[e.Item] = 1f / MathF.Sqrt(_userCount[e.Item]);
        }
    }
}

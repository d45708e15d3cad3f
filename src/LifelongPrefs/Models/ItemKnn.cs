using LifelongPrefs.Data;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;

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
/// similarity to itself is 0: the repeat signal is left to models that want it. Memory is a dense
/// <c>items × items</c> float matrix (54 MB for the 3,665 Online Retail items).
/// </remarks>
public sealed class ItemKnn : ISavableRecommender
{
    private float[] _cooccurrence = [];
    private float[] _inverseSqrtCount = [];
    private int[] _userCount = [];
    private List<HashSet<int>> _itemsOfUser = [];
    private int _items;

    /// <inheritdoc/>
    public string Name => "ItemKNN";

    /// <inheritdoc/>
    public int ItemCount => _items;

    /// <inheritdoc/>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        _cooccurrence = new float[(long)itemCount * itemCount];
        _inverseSqrtCount = new float[itemCount];
        _userCount = new int[itemCount];
        _itemsOfUser = [];
        _items = itemCount;
        Add(events, userCount);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
    }

    /// <inheritdoc/>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _itemsOfUser.Count, _items);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        if (itemCount > _items)
        {
            var grown = new float[(long)itemCount * itemCount];
            for (int i = 0; i < _items; i++)
            {
                _cooccurrence.AsSpan(i * _items, _items).CopyTo(grown.AsSpan(i * itemCount, _items));
            }

            _cooccurrence = grown;
            Array.Resize(ref _inverseSqrtCount, itemCount);
            Array.Resize(ref _userCount, itemCount);
            _items = itemCount;
        }

        Add(newEvents, userCount);
    }

    /// <inheritdoc/>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.ScoreLength(scores, _items);
        scores.Clear();
        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item < (uint)_items && RecommenderGuard.IsPositive(e) && _inverseSqrtCount[e.Item] > 0f)
            {
                Kernels.Axpy(_inverseSqrtCount[e.Item], _cooccurrence.AsSpan(e.Item * _items, _items), scores);
            }
        }

        Kernels.Multiply(scores, _inverseSqrtCount, scores);
    }

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        // Users' item sets as CSR: offsets (users + 1) and the concatenated items in ascending order.
        var offsets = new int[_itemsOfUser.Count + 1];
        var items = new List<int>();
        for (int u = 0; u < _itemsOfUser.Count; u++)
        {
            items.AddRange(_itemsOfUser[u].Order());
            offsets[u + 1] = items.Count;
        }

        ModelState.Write(stream, Name,
        [
            ("items", new[] { _items }),
            ("cooccurrence", _cooccurrence),
            ("userCount", _userCount),
            ("userOffsets", offsets),
            ("userItems", items.ToArray()),
        ]);
    }

    /// <inheritdoc/>
    public void Load(Stream stream)
    {
        Dictionary<string, Array> sections = ModelState.Read(stream, Name);
        int[] itemsSection = ModelState.Section<int>(sections, "items", Name);
        float[] cooccurrence = ModelState.Section<float>(sections, "cooccurrence", Name);
        int[] userCount = ModelState.Section<int>(sections, "userCount", Name);
        int[] offsets = ModelState.Section<int>(sections, "userOffsets", Name);
        int[] userItems = ModelState.Section<int>(sections, "userItems", Name);
        int items = itemsSection.Length == 1 ? itemsSection[0] : -1;
        bool consistent = items >= 0 && cooccurrence.Length == (long)items * items && userCount.Length == items
            && offsets.Length >= 1 && offsets[0] == 0 && offsets[^1] == userItems.Length
            && Array.TrueForAll(userItems, i => (uint)i < (uint)items) && Array.TrueForAll(userCount, c => c >= 0);
        for (int u = 1; consistent && u < offsets.Length; u++)
        {
            consistent = offsets[u] >= offsets[u - 1];
        }

        if (!consistent)
        {
            throw new ModelStateException($"The saved {Name} state has inconsistent sections.");
        }

        var itemsOfUser = new List<HashSet<int>>(offsets.Length - 1);
        for (int u = 0; u + 1 < offsets.Length; u++)
        {
            itemsOfUser.Add([.. userItems.AsSpan(offsets[u], offsets[u + 1] - offsets[u]).ToArray()]);
        }

        var inverseSqrt = new float[items];
        for (int i = 0; i < items; i++)
        {
            inverseSqrt[i] = userCount[i] > 0 ? 1f / MathF.Sqrt(userCount[i]) : 0f;
        }

        // Everything validated: swap the state in.
        (_items, _cooccurrence, _userCount, _itemsOfUser, _inverseSqrtCount) = (items, cooccurrence, userCount, itemsOfUser, inverseSqrt);
    }

    private void Add(IReadOnlyList<Interaction> events, int userCount)
    {
        while (_itemsOfUser.Count < userCount)
        {
            _itemsOfUser.Add([]);
        }

        for (int k = 0; k < events.Count; k++)
        {
            Interaction e = events[k];
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            HashSet<int> owned = _itemsOfUser[e.User];
            if (!owned.Add(e.Item))
            {
                continue;
            }

            // A new (user, item) pair: the item now co-occurs once more with each of the user's other items.
            foreach (int other in owned)
            {
                if (other != e.Item)
                {
                    _cooccurrence[(long)e.Item * _items + other] += 1f;
                    _cooccurrence[(long)other * _items + e.Item] += 1f;
                }
            }

            _userCount[e.Item]++;
            _inverseSqrtCount[e.Item] = 1f / MathF.Sqrt(_userCount[e.Item]);
        }
    }
}

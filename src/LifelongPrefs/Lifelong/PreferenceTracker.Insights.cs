using System.Numerics.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>Explanations and audiences: reads over one published model version.</summary>
public sealed partial class PreferenceTracker
{
    private const int MaxEvidence = 10;

    /// <summary>
    /// Explains an item's score for a user: the past items that contributed most (co-occurrence evidence and the
    /// embedding dot product split over the history, as the learner computes them), the item's category, and whether it
    /// is a repeat or an exploration. An unknown user or a user on the cold-start path gets an explanation without
    /// evidence, scored by trending.
    /// </summary>
    /// <param name="userId">The shop's user id.</param>
    /// <param name="itemId">The item; it must be known to the tracker.</param>
    /// <returns>The explanation, with the model version that answered.</returns>
    /// <exception cref="ArgumentNullException">An id is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An id is empty or too long, or the item is unknown.</exception>
    public Explanation Explain(string userId, string itemId)
    {
        CheckId(userId, nameof(userId));
        CheckId(itemId, nameof(itemId));
        if (!_items.TryGetIndex(itemId, out int item))
        {
            throw new ArgumentException($"Item '{itemId}' is not known to the tracker.", nameof(itemId));
        }

        PublishedVersion version = Volatile.Read(ref _current);
        userId = UserKey(userId); // an explanation names the user as the tracker keeps it
        string? category = CategoryOf(item);
        ReadOnlySpan<Interaction> history = [];
        if (TryGetUser(userId, out int user) && LogOf(user) is { } log)
        {
            history = log.Recent(_options.MaxHistoryPerUser);
        }

        bool personal = version.Scorer is not null && history.Length >= _options.MinEventsForPersonalization && item < version.ModelItems;
        if (!personal)
        {
            float trending = item < version.Trending.Length ? version.Trending[item] : 0f;
            return new Explanation(userId, itemId, trending, trending > 0 ? RecommendationReason.Trending : RecommendationReason.Popular,
                category, [], trending, version.Number);
        }

        Scratch scratch = _scratch.Rent();
        try
        {
            scratch.Ensure(version.ModelItems, 0, 1);
            ReadOnlySpan<Interaction> known = scratch.Known(history, version.ModelItems);
            Span<float> scores = scratch.Scores.AsSpan(0, version.ModelItems);
            version.Scorer!.Score(user, known, scores);
            float score = scores[item];
            RecommendationReason reason = Bought(known, item) ? RecommendationReason.Repeat : RecommendationReason.Personalized;
            if (version.Scorer is not IExplainingScorer explaining)
            {
                return new Explanation(userId, itemId, score, reason, category, [], score, version.Number);
            }

            if (scratch.Contributions.Length < known.Length)
            {
                scratch.Contributions = new float[Math.Max(known.Length, 2 * scratch.Contributions.Length)];
            }

            Span<float> contributions = scratch.Contributions.AsSpan(0, known.Length);
            float remainder = explaining.Explain(user, known, item, contributions);
            return new Explanation(userId, itemId, score, reason, category, Gather(known, contributions), remainder, version.Number);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>
    /// Finds the users most likely to buy an item next (for a campaign): the model's affinity of every known user's
    /// vector with the item's, best first; users who already bought it are left out.
    /// </summary>
    /// <param name="itemId">The item; it must be known to the model version that answers.</param>
    /// <param name="k">How many users; 1 to <see cref="TrackerOptions.MaxResults"/>.</param>
    /// <returns>Up to <paramref name="k"/> users, best first (fewer when fewer are eligible).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="itemId"/> is empty, too long, or unknown to the model.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is out of range.</exception>
    /// <exception cref="NotSupportedException">The learner has no user and item vectors (the default learner has).</exception>
    /// <remarks>Costs one user vector per known user: O(users × (history + dimensions)).</remarks>
    public IReadOnlyList<AudienceMember> FindAudience(string itemId, int k)
    {
        CheckId(itemId, nameof(itemId));
        CheckK(k, nameof(k));
        PublishedVersion version = Volatile.Read(ref _current);
        if (!_items.TryGetIndex(itemId, out int item) || item >= version.ModelItems)
        {
            throw new ArgumentException($"Item '{itemId}' is not known to the model version {version.Number}.", nameof(itemId));
        }

        IEmbeddingScorer embedding = EmbeddingOf(version);
        var target = new float[embedding.Dimensions];
        embedding.ItemVector(item, target);
        return Audience(version, embedding, target, item, k);
    }

    /// <summary>
    /// Finds the users most drawn to a category: the affinity of every known user's vector with the mean vector of the
    /// category's items, best first.
    /// </summary>
    /// <param name="category">A category registered through <see cref="RegisterItem"/> or an event's attributes.</param>
    /// <param name="k">How many users; 1 to <see cref="TrackerOptions.MaxResults"/>.</param>
    /// <returns>Up to <paramref name="k"/> users, best first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="category"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The category is empty, too long, unknown, or none of its items is known to the model yet.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is out of range.</exception>
    /// <exception cref="NotSupportedException">The learner has no user and item vectors.</exception>
    public IReadOnlyList<AudienceMember> FindCategoryAudience(string category, int k)
    {
        CheckId(category, nameof(category));
        CheckK(k, nameof(k));
        PublishedVersion version = Volatile.Read(ref _current);
        if (!_categories.TryGetIndex(category, out int c))
        {
            throw new ArgumentException($"Category '{category}' is not known to the tracker.", nameof(category));
        }

        IEmbeddingScorer embedding = EmbeddingOf(version);
        var target = new float[embedding.Dimensions];
        var row = new float[embedding.Dimensions];
        int[] categories = Volatile.Read(ref _itemCategory);
        int members = 0;
        for (int i = 0; i < Math.Min(version.ModelItems, categories.Length); i++)
        {
            if (categories[i] == c)
            {
                embedding.ItemVector(i, row);
                Kernels.Add(target, row, target);
                members++;
            }
        }

        if (members == 0)
        {
            throw new ArgumentException($"No item of category '{category}' is known to the model version {version.Number} yet.", nameof(category));
        }

        Kernels.Scale(target, 1f / members, target);
        return Audience(version, embedding, target, -1, k);
    }

    private static IEmbeddingScorer EmbeddingOf(PublishedVersion version) =>
        version.Scorer as IEmbeddingScorer ?? throw new NotSupportedException(
            version.Scorer is null
                ? "No model version has been published yet; observe events and wait for the learner (FlushAsync)."
                : "The tracker's learner has no user and item vectors, so it cannot rank users for an item.");

    private List<AudienceMember> Audience(PublishedVersion version, IEmbeddingScorer embedding, float[] target, int boughtItem, int k)
    {
        int users = _users.Count;
        var scores = new float[users];
        var vector = new float[embedding.Dimensions];
        Scratch scratch = _scratch.Rent(); // one rent for the whole scan
        try
        {
            for (int u = 0; u < users; u++)
            {
                if (_users.FindId(u) is null)
                {
                    scores[u] = float.NegativeInfinity; // a forgotten user's reserved index
                    continue;
                }

                ReadOnlySpan<Interaction> history = LogOf(u) is { } log ? log.Recent(_options.MaxHistoryPerUser) : [];
                if (boughtItem >= 0 && Bought(history, boughtItem))
                {
                    scores[u] = float.NegativeInfinity;
                    continue;
                }

                embedding.UserVector(u, scratch.Known(history, version.ModelItems), vector);
                scores[u] = TensorPrimitives.Dot(vector, target);
            }
        }
        finally
        {
            _scratch.Return(scratch);
        }

        var top = new int[Math.Min(k, users)];
        var topScores = new float[top.Length];
        int n = Kernels.TopK(scores, top, topScores);
        var audience = new List<AudienceMember>(n);
        for (int i = 0; i < n && !float.IsNegativeInfinity(topScores[i]); i++)
        {
            if (_users.FindId(top[i]) is { } id) // null: forgotten since the scan
            {
                audience.Add(new AudienceMember(id, topScores[i]));
            }
        }

        return audience;
    }

    /// <summary>Sums the per-event contributions by past item and keeps the largest.</summary>
    private List<Evidence> Gather(ReadOnlySpan<Interaction> history, ReadOnlySpan<float> contributions)
    {
        var byItem = new Dictionary<int, (int Events, long Last, float Sum)>();
        for (int i = 0; i < history.Length; i++)
        {
            Interaction e = history[i];
            byItem.TryGetValue(e.Item, out var agg);
            byItem[e.Item] = (agg.Events + 1, Math.Max(agg.Last, e.Ticks), agg.Sum + contributions[i]);
        }

        return byItem
            .OrderByDescending(p => p.Value.Sum).ThenBy(p => p.Key)
            .Where(p => p.Value.Sum > 0f)
            .Take(MaxEvidence)
            .Select(p => new Evidence(_items.GetId(p.Key), p.Value.Events, new DateTimeOffset(p.Value.Last, TimeSpan.Zero), p.Value.Sum))
            .ToList();
    }

    private string? CategoryOf(int item)
    {
        int[] categories = Volatile.Read(ref _itemCategory);
        return item < categories.Length && categories[item] >= 0 ? _categories.GetId(categories[item]) : null;
    }
}

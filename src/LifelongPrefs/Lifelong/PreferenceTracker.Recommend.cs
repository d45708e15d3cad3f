using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>Recommendations: the personalised path over one model version, and the cold-start path.</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>
    /// Recommends up to <paramref name="k"/> items for a user, best first, from one published model version and the
    /// user's live history (a purchase observed a moment ago already counts: it is excluded, or ranked as a repeat).
    /// Unknown users, users with fewer than <see cref="TrackerOptions.MinEventsForPersonalization"/> events and a tracker
    /// without a model yet get the cold-start answer: trending items of the recent window, then overall popularity.
    /// Never throws for an unknown user; returns fewer than <paramref name="k"/> items when the filters leave fewer.
    /// </summary>
    /// <param name="userId">The shop's user id.</param>
    /// <param name="k">How many items; 1 to <see cref="TrackerOptions.MaxResults"/>.</param>
    /// <param name="options">Filters; <see langword="null"/> for <see cref="RecommendOptions.Default"/>.</param>
    /// <returns>The list, with the model version that answered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is out of range.</exception>
    /// <remarks>Items first seen after the answering version was published are not candidates until the next version.</remarks>
    public RecommendationList Recommend(string userId, int k = 10, RecommendOptions? options = null)
    {
        CheckId(userId, nameof(userId));
        CheckK(k, nameof(k));
        options ??= RecommendOptions.Default;
        PublishedVersion version = Volatile.Read(ref _current);
        ReadOnlySpan<Interaction> history = [];
        int user = -1;
        UserLog? log = null;
        if (_users.TryGetIndex(userId, out user))
        {
            log = LogOf(user);
            history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        }

        return RecommendFrom(version, user, log, history, k, options);
    }

    /// <summary>Answers from a given version and history: the whole of a read, so a test can recompute any answer.</summary>
    internal RecommendationList RecommendFrom(PublishedVersion version, int user, UserLog? log, ReadOnlySpan<Interaction> history,
        int k, RecommendOptions options)
    {
        bool personal = version.Scorer is not null && user >= 0 && history.Length >= _options.MinEventsForPersonalization;
        int items = personal ? version.ModelItems : version.Trending.Length;
        ReadOnlySpan<Dismissal> dismissals = log is null ? [] : log.Dismissals;
        Scratch scratch = _scratch.Rent();
        try
        {
            scratch.Ensure(items, history.Length + dismissals.Length, k);
            Span<float> scores = scratch.Scores.AsSpan(0, items);
            if (personal)
            {
                version.Scorer!.Score(user, scratch.Known(history, items), scores);
            }
            else
            {
                version.Trending.AsSpan(0, items).CopyTo(scores);
            }

            ApplyFilters(scores, options);
            int excluded = Exclusions(history, dismissals, options, items, version.StreamTicks, scratch.Excluded);
            ReadOnlySpan<int> exclusions = scratch.Excluded.AsSpan(0, excluded);
            Span<int> top = scratch.Top.AsSpan(0, k);
            Span<float> topScores = scratch.TopScores.AsSpan(0, k);
            int n = Kernels.TopK(scores, exclusions, top, topScores);
            var list = new List<Recommendation>(k);
            for (int i = 0; i < n && !float.IsNegativeInfinity(topScores[i]) && !float.IsNaN(topScores[i]); i++)
            {
                if (!personal && topScores[i] <= 0f)
                {
                    break; // not trending: the popularity pass below ranks the rest
                }

                RecommendationReason reason = !personal ? RecommendationReason.Trending
                    : Bought(history, top[i]) ? RecommendationReason.Repeat : RecommendationReason.Personalized;
                list.Add(new Recommendation(_items.GetId(top[i]), topScores[i], reason));
            }

            if (!personal && list.Count < k)
            {
                AddPopular(version, scores, options, exclusions, list, k, scratch);
            }

            return new RecommendationList([.. list], version.Number, !personal, history.Length);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>
    /// Writes every item's score for a user as <see cref="Recommend"/> ranks them (before filters and exclusions):
    /// the model's over the version's items, trending on the cold-start path; items the version does not know get −∞.
    /// </summary>
    internal void ScoreAll(string userId, Span<float> scores)
    {
        PublishedVersion version = Volatile.Read(ref _current);
        (int user, UserLog? log) = Find(userId);
        ReadOnlySpan<Interaction> history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        bool personal = version.Scorer is not null && user >= 0 && history.Length >= _options.MinEventsForPersonalization;
        int items = Math.Min(scores.Length, personal ? version.ModelItems : version.Trending.Length);
        scores[items..].Fill(float.NegativeInfinity);
        if (!personal)
        {
            version.Trending.AsSpan(0, items).CopyTo(scores);
            return;
        }

        Scratch scratch = _scratch.Rent();
        try
        {
            scratch.Ensure(0, 0, 0);
            version.Scorer!.Score(user, scratch.Known(history, version.ModelItems), scores[..items]);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>Fills the cold-start list from overall popularity, after the trending items already in it.</summary>
    private void AddPopular(PublishedVersion version, Span<float> scores, RecommendOptions options, ReadOnlySpan<int> exclusions,
        List<Recommendation> list, int k, Scratch scratch)
    {
        version.Totals.AsSpan(0, scores.Length).CopyTo(scores);
        ApplyFilters(scores, options);
        foreach (Recommendation r in list)
        {
            _items.TryGetIndex(r.ItemId, out int chosen);
            scores[chosen] = float.NegativeInfinity;
        }

        int need = k - list.Count;
        Span<int> top = scratch.Top.AsSpan(0, need);
        Span<float> topScores = scratch.TopScores.AsSpan(0, need);
        int n = Kernels.TopK(scores, exclusions, top, topScores);
        for (int i = 0; i < n && !float.IsNegativeInfinity(topScores[i]); i++)
        {
            list.Add(new Recommendation(_items.GetId(top[i]), topScores[i], RecommendationReason.Popular));
        }
    }

    /// <summary>Sets the score of every item the candidate or category filter rules out to −∞.</summary>
    private void ApplyFilters(Span<float> scores, RecommendOptions options)
    {
        if (options.Category is { } category)
        {
            int wanted = _categories.TryGetIndex(category, out int c) ? c : -2;
            int[] categories = Volatile.Read(ref _itemCategory);
            for (int i = 0; i < scores.Length; i++)
            {
                if (i >= categories.Length || categories[i] != wanted)
                {
                    scores[i] = float.NegativeInfinity;
                }
            }
        }

        if (options.Candidates is { } candidates)
        {
            for (int i = 0; i < scores.Length; i++)
            {
                if (!candidates.Contains(_items.GetId(i)))
                {
                    scores[i] = float.NegativeInfinity;
                }
            }
        }
    }

    /// <summary>Writes the sorted, distinct items to leave out: bought ones and active dismissals.</summary>
    private static int Exclusions(ReadOnlySpan<Interaction> history, ReadOnlySpan<Dismissal> dismissals, RecommendOptions options, int items,
        long streamTicks, int[] destination)
    {
        int n = 0;
        if (options.ExcludePurchased)
        {
            foreach (ref readonly Interaction e in history)
            {
                if (e.Kind == EventKind.Purchase && e.Item < items)
                {
                    destination[n++] = e.Item;
                }
            }
        }

        if (options.ExcludeDismissed)
        {
            foreach (Dismissal d in dismissals)
            {
                if (d.UntilTicks > streamTicks && d.Item < items)
                {
                    destination[n++] = d.Item;
                }
            }
        }

        Span<int> span = destination.AsSpan(0, n);
        span.Sort();
        int distinct = 0;
        for (int i = 0; i < n; i++)
        {
            if (distinct == 0 || span[distinct - 1] != span[i])
            {
                span[distinct++] = span[i];
            }
        }

        return distinct;
    }

    private static bool Bought(ReadOnlySpan<Interaction> history, int item)
    {
        foreach (ref readonly Interaction e in history)
        {
            if (e.Item == item && e.Kind == EventKind.Purchase)
            {
                return true;
            }
        }

        return false;
    }
}

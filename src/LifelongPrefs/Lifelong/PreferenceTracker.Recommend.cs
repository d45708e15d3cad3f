using System.Diagnostics;

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
        long started = _telemetry.RecommendStarting();
        using Activity? activity = _telemetry.StartRecommend(k);
        CheckId(userId, nameof(userId));
        CheckK(k, nameof(k));
        options ??= RecommendOptions.Default;
        PublishedVersion version = Volatile.Read(ref _current);
        ReadOnlySpan<Interaction> history = [];
        int user = -1;
        UserLog? log = null;
        if (TryGetUser(userId, out user))
        {
            log = LogOf(user);
            history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        }

        RecommendationList list = RecommendFrom(version, user, log, history, k, options);
        _telemetry.Recommended(started, activity, list.ModelVersion, list.Count);
        return list;
    }

    /// <summary>
    /// Writes up to <c>destination.Length</c> recommendations for a user into <paramref name="destination"/>, best first,
    /// exactly as <see cref="Recommend(string, int, RecommendOptions?)"/> ranks them, and allocates nothing once warm: the
    /// overload for a hot path that reuses its buffer.
    /// </summary>
    /// <param name="userId">The shop's user id.</param>
    /// <param name="destination">Receives the recommendations; its length (1 to <see cref="TrackerOptions.MaxResults"/>) is k.</param>
    /// <param name="options">Filters; <see langword="null"/> for <see cref="RecommendOptions.Default"/>.</param>
    /// <returns>How many were written, and the version that answered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The destination is empty or longer than <see cref="TrackerOptions.MaxResults"/>.</exception>
    public (int Count, long ModelVersion) RecommendInto(string userId, Span<Recommendation> destination, RecommendOptions? options = null)
    {
        long started = _telemetry.RecommendStarting();
        using Activity? activity = _telemetry.StartRecommend(destination.Length);
        CheckId(userId, nameof(userId));
        CheckK(destination.Length, nameof(destination));
        PublishedVersion version = Volatile.Read(ref _current);
        (int user, UserLog? log) = Find(userId);
        ReadOnlySpan<Interaction> history = log is null ? [] : log.Recent(_options.MaxHistoryPerUser);
        (int count, _) = Answer(version, user, log, history, options ?? RecommendOptions.Default, destination);
        _telemetry.Recommended(started, activity, version.Number, count);
        return (count, version.Number);
    }

    /// <summary>Answers from a given version and history: the whole of a read, so a test can recompute any answer.</summary>
    internal RecommendationList RecommendFrom(PublishedVersion version, int user, UserLog? log, ReadOnlySpan<Interaction> history,
        int k, RecommendOptions options)
    {
        var buffer = new Recommendation[k];
        (int count, bool coldStart) = Answer(version, user, log, history, options, buffer);
        return new RecommendationList(count == k ? buffer : buffer[..count], version.Number, coldStart, history.Length);
    }

    private (int Count, bool ColdStart) Answer(PublishedVersion version, int user, UserLog? log, ReadOnlySpan<Interaction> history,
        RecommendOptions options, Span<Recommendation> destination)
    {
        int k = destination.Length;
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
                ScoreUser(version.Scorer!, user, scratch.Known(history, items), scores, Reranked(k, options));
            }
            else
            {
                version.Trending.AsSpan(0, items).CopyTo(scores);
            }

            ApplyFilters(scores, options, scratch);
            int excluded = Exclusions(history, dismissals, options, items, version.StreamTicks, scratch.Excluded);
            ReadOnlySpan<int> exclusions = scratch.Excluded.AsSpan(0, excluded);
            Span<int> top = scratch.Top.AsSpan(0, k);
            Span<float> topScores = scratch.TopScores.AsSpan(0, k);
            int n = Kernels.TopK(scores, exclusions, top, topScores), count = 0;
            for (int i = 0; i < n && !float.IsNegativeInfinity(topScores[i]) && !float.IsNaN(topScores[i]); i++)
            {
                if (!personal && topScores[i] <= 0f)
                {
                    break; // not trending: the popularity pass below ranks the rest
                }

                RecommendationReason reason = !personal ? RecommendationReason.Trending
                    : Bought(history, top[i]) ? RecommendationReason.Repeat : RecommendationReason.Personalized;
                destination[count++] = new Recommendation(_items.GetId(top[i]), topScores[i], reason);
            }

            if (!personal && count < k)
            {
                // Fill from overall popularity, never repeating a trending item already chosen.
                for (int i = 0; i < count; i++)
                {
                    scores[top[i]] = float.NaN; // marks the chosen ones while the totals are copied in
                }

                ReadOnlySpan<float> totals = version.Totals.AsSpan(0, items);
                for (int i = 0; i < items; i++)
                {
                    scores[i] = float.IsNegativeInfinity(scores[i]) || float.IsNaN(scores[i]) ? float.NegativeInfinity : totals[i];
                }

                Span<int> more = top[..(k - count)];
                Span<float> moreScores = topScores[..(k - count)];
                int m = Kernels.TopK(scores, exclusions, more, moreScores);
                for (int i = 0; i < m && !float.IsNegativeInfinity(moreScores[i]); i++)
                {
                    destination[count++] = new Recommendation(_items.GetId(more[i]), moreScores[i], RecommendationReason.Popular);
                }
            }

            return (count, !personal);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>
    /// Writes every item's score for a user as <see cref="Recommend(string, int, RecommendOptions?)"/> ranks them (before filters and exclusions):
    /// the model's over the version's items, trending on the cold-start path; items the version does not know get −∞.
    /// Under <see cref="ItemTablePrecision.Quantized"/> the scores are those of a filtered top-20 request (max(200, 10·20) candidates exact).
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
            ScoreUser(version.Scorer!, user, scratch.Known(history, version.ModelItems), scores[..items], FilteredCandidates(ScoreAllDepth));
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>The list length <see cref="ScoreAll"/> re-ranks for under <see cref="ItemTablePrecision.Quantized"/> (the protocols' cutoff of 20).</summary>
    private const int ScoreAllDepth = 20;

    /// <summary>
    /// How many never-bought items the int8 pass re-ranks exactly for a top-<paramref name="k"/> request: max(50, 5·k)
    /// without filters, whose list comes from the best few of them (on the benchmarks' shops the int8 order keeps
    /// every one of the fp32 top 10 from 25 candidates on); <see cref="FilteredCandidates"/> when a category or candidate
    /// filter may rule out most of them.
    /// </summary>
    private static int Reranked(int k, RecommendOptions options) =>
        options.Category is null && options.Candidates is null ? Math.Max(50, 5 * k) : FilteredCandidates(k);

    /// <summary>The exactly re-ranked candidates of a filtered top-<paramref name="k"/> request (or of <see cref="ScoreAll"/>): max(200, 10·k).</summary>
    private static int FilteredCandidates(int k) => Math.Max(200, 10 * k);

    /// <summary>The model's scores, in the configured item-table precision (<paramref name="candidates"/> re-ranked exactly under <see cref="ItemTablePrecision.Quantized"/>).</summary>
    private void ScoreUser(IScorer scorer, int user, ReadOnlySpan<Interaction> history, Span<float> scores, int candidates)
    {
        if (_options.ItemTablePrecision == ItemTablePrecision.Quantized && scorer is IQuantizedScorer quantized)
        {
            quantized.ScoreQuantized(user, history, scores, candidates);
            return;
        }

        scorer.Score(user, history, scores);
    }

    /// <summary>Sets the score of every item the candidate or category filter rules out to −∞.</summary>
    private void ApplyFilters(Span<float> scores, RecommendOptions options, Scratch scratch)
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
            // Keep the candidates' scores aside, rule out everything, put them back: O(items + candidates).
            if (scratch.Kept.Length < candidates.Count)
            {
                scratch.Kept = new (int, float)[Math.Max(candidates.Count, 2 * scratch.Kept.Length)];
            }

            int kept = 0;
            if (candidates is HashSet<string> set)
            {
                foreach (string id in set) // the struct enumerator: no allocation on the hot path
                {
                    Keep(id, scores, scratch, ref kept);
                }
            }
            else
            {
                foreach (string id in candidates)
                {
                    Keep(id, scores, scratch, ref kept);
                }
            }

            scores.Fill(float.NegativeInfinity);
            foreach ((int item, float score) in scratch.Kept.AsSpan(0, kept))
            {
                scores[item] = score;
            }
        }
    }

    private void Keep(string? id, Span<float> scores, Scratch scratch, ref int kept)
    {
        if (id is not null && _items.TryGetIndex(id, out int item) && item < scores.Length)
        {
            scratch.Kept[kept++] = (item, scores[item]);
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

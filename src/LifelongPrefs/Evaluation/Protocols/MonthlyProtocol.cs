using System.Diagnostics;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Evaluation.Protocols;

/// <summary>
/// The monthly protocol of a lifelong recommender: for each calendar month m of a range, everything before m is
/// training data; every user active in m who also has earlier purchases ranks all items known before m, leaving out
/// what the user bought before; the targets are the items the user buys in m for the first time. NDCG and Recall at the
/// cutoff are averaged over the month's users, then over the months.
/// </summary>
/// <remarks>
/// <para>
/// With item descriptions (the catalog a shop knows before its items sell), every described item is a candidate from
/// the first month on, even before its first sale, and a model that reads texts (<c>IItemTextLearner</c>: the default
/// tracker learner, and the tracker behind <c>TrackerRecommender</c>) receives them before it learns anything. A hit
/// is a target in the top <see cref="Cutoff"/>; a <b>new item</b> is one first sold in the month evaluated, and
/// <see cref="MonthResult.NewItemHitShare"/> is its share of the hits. Without descriptions an item becomes a
/// candidate with its first event, so new items never count.
/// </para>
/// <para>
/// A model is measured either <b>retrained</b> (a fresh model fitted on everything before each month, the batch
/// baseline) or <b>incremental</b> (one model fitted on everything before the first month, then given each month's
/// events through <see cref="IRecommender.Update"/> — the way a lifelong learner sees the stream).
/// </para>
/// </remarks>
public sealed class MonthlyProtocol
{
    private readonly InteractionLog _log;
    private readonly List<(DateTime Month, int Start, int End)> _months = [];
    private readonly Interaction[] _ordered;
    private readonly string?[] _descriptions;

    private MonthlyProtocol(InteractionLog log, DateTime first, DateTime last, int cutoff, IReadOnlyList<string>? descriptions)
    {
        _log = log;
        _descriptions = new string?[log.Items.Count];
        for (int i = 0; descriptions is not null && i < Math.Min(descriptions.Count, _descriptions.Length); i++)
        {
            _descriptions[i] = string.IsNullOrWhiteSpace(descriptions[i]) ? null : descriptions[i];
        }

        Cutoff = cutoff;
        _ordered = [.. log.Events.OrderBy(e => e.Ticks)];
        for (DateTime m = first; m <= last; m = m.AddMonths(1))
        {
            long from = m.Ticks, to = m.AddMonths(1).Ticks;
            int start = LowerBound(from), end = LowerBound(to);
            if (start > 0 && end > start)
            {
                _months.Add((m, start, end));
            }
        }
    }

    /// <summary>Gets the ranking cutoff (20 by default).</summary>
    public int Cutoff { get; }

    /// <summary>Gets the months evaluated (those with earlier data and events of their own), as the first day of each, UTC.</summary>
    public IReadOnlyList<DateTime> Months => [.. _months.Select(m => m.Month)];

    /// <summary>Creates the protocol over the months from <paramref name="first"/> to <paramref name="last"/> (inclusive).</summary>
    /// <param name="log">The purchases, in any order.</param>
    /// <param name="first">The first month evaluated (any day of it; UTC).</param>
    /// <param name="last">The last month evaluated.</param>
    /// <param name="cutoff">The ranking cutoff.</param>
    /// <param name="itemDescriptions">The catalog's descriptions by dense item index (empty or blank for an item without
    /// one; indices past the log's items are ignored), known before any month; <see langword="null"/> for none (the
    /// default): then only items seen before a month are its candidates.</param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is before <paramref name="first"/>, or <paramref name="cutoff"/> is not positive.</exception>
    public static MonthlyProtocol Create(InteractionLog log, DateTime first, DateTime last, int cutoff = 20, IReadOnlyList<string>? itemDescriptions = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        DateTime f = new(first.Year, first.Month, 1, 0, 0, 0, DateTimeKind.Utc), l = new(last.Year, last.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        if (l < f)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"The last month ({last:yyyy-MM}) is before the first ({first:yyyy-MM}).");
        }

        return new MonthlyProtocol(log, f, l, cutoff, itemDescriptions);
    }

    /// <summary>Measures a model retrained from scratch before every month.</summary>
    /// <param name="create">Makes a fresh model.</param>
    /// <param name="cancellationToken">Stops between and inside fits.</param>
    /// <returns>Per-month and mean metrics, and the total training seconds.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is <see langword="null"/>.</exception>
    public MonthlyResult Retrained(Func<IRecommender> create, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(create);
        return Run(m =>
        {
            IRecommender model = create();
            Describe(model);
            model.Fit(new ArraySegment<Interaction>(_ordered, 0, _months[m].Start), _log.Users.Count, _log.Items.Count, null, cancellationToken);
            return model;
        }, cancellationToken);
    }

    /// <summary>Measures one model fitted before the first month and then updated with each month's events.</summary>
    /// <param name="model">A fresh model.</param>
    /// <param name="cancellationToken">Stops between months and inside the first fit.</param>
    /// <returns>Per-month and mean metrics, and the total training seconds (the first fit included).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    public MonthlyResult Incremental(IRecommender model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        int learned = 0;
        return Run(m =>
        {
            int start = _months[m].Start;
            if (m == 0)
            {
                Describe(model);
                model.Fit(new ArraySegment<Interaction>(_ordered, 0, start), _log.Users.Count, _log.Items.Count, null, cancellationToken);
            }
            else
            {
                model.Update(new ArraySegment<Interaction>(_ordered, learned, start - learned), _log.Users.Count, _log.Items.Count);
            }

            learned = start;
            return model;
        }, cancellationToken);
    }

    private MonthlyResult Run(Func<int, IRecommender> train, CancellationToken cancellationToken)
    {
        var months = new List<MonthResult>(_months.Count);
        double seconds = 0;
        for (int m = 0; m < _months.Count; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            IRecommender model = train(m);
            seconds += clock.Elapsed.TotalSeconds;
            months.Add(Evaluate(model, m));
        }

        double ndcg = months.Count == 0 ? double.NaN : months.Average(r => r.Ndcg);
        double recall = months.Count == 0 ? double.NaN : months.Average(r => r.Recall);
        return new MonthlyResult(months, ndcg, recall, seconds);
    }

    /// <summary>Hands the catalog's descriptions to a model that reads them (before it learns anything).</summary>
    private void Describe(IRecommender model)
    {
        if (model is not IItemTextLearner reader)
        {
            return;
        }

        for (int i = 0; i < _descriptions.Length; i++)
        {
            if (_descriptions[i] is { } text)
            {
                reader.AddItemText(i, text);
            }
        }
    }

    private MonthResult Evaluate(IRecommender model, int m)
    {
        (DateTime month, int start, int end) = _months[m];
        int items = model.ItemCount;
        // Candidates: items seen before the month, and described items (the catalog) even before their first sale.
        var sold = new bool[items];
        var histories = new Dictionary<int, List<Interaction>>();
        for (int i = 0; i < start; i++)
        {
            Interaction e = _ordered[i];
            if (e.Item < items)
            {
                sold[e.Item] = true;
            }

            if (!histories.TryGetValue(e.User, out List<Interaction>? h))
            {
                histories[e.User] = h = [];
            }

            h.Add(e);
        }

        bool[] known = [.. sold.Select((s, i) => s || (i < _descriptions.Length && _descriptions[i] is not null))];
        var targets = new Dictionary<int, SortedSet<int>>();
        for (int i = start; i < end; i++)
        {
            Interaction e = _ordered[i];
            if (e.Kind == EventKind.Purchase && histories.ContainsKey(e.User) && e.Item < items && known[e.Item])
            {
                if (!targets.TryGetValue(e.User, out SortedSet<int>? t))
                {
                    targets[e.User] = t = [];
                }

                t.Add(e.Item);
            }
        }

        var accumulator = new RankingMetricsAccumulator(items, Cutoff);
        var scores = new float[items];
        var top = new int[Cutoff];
        int[] unknown = [.. Enumerable.Range(0, items).Where(i => !known[i])];
        int hits = 0, newHits = 0;
        foreach ((int user, SortedSet<int> bought) in targets.OrderBy(p => p.Key))
        {
            List<Interaction> history = histories[user];
            int[] excludedSorted = [.. history.Select(e => e.Item).Concat(unknown).Distinct().Order()];
            int[] relevant = [.. bought.Where(i => Array.BinarySearch(excludedSorted, i) < 0)];
            if (relevant.Length == 0)
            {
                continue; // only re-buys this month: nothing new to find
            }

            model.Score(user, [.. history], scores);
            int found = Ranking.TopK(scores, excludedSorted, top);
            accumulator.Add(top.AsSpan(0, found), relevant, Ranking.FirstRelevantRank(scores, relevant, excludedSorted));
            foreach (int item in top.AsSpan(0, found))
            {
                if (Array.BinarySearch(relevant, item) >= 0)
                {
                    hits++;
                    newHits += sold[item] ? 0 : 1;
                }
            }
        }

        IReadOnlyDictionary<string, double> results = accumulator.Results();
        return new MonthResult(month, results.GetValueOrDefault($"NDCG@{Cutoff}", double.NaN),
            results.GetValueOrDefault($"Recall@{Cutoff}", double.NaN), accumulator.UsersEvaluated, hits, newHits);
    }

    private int LowerBound(long ticks) => Timestamps.FirstAtOrAfter(_ordered, ticks);
}

/// <summary>The metrics of one month of a <see cref="MonthlyProtocol"/>.</summary>
/// <param name="Month">The month (its first day, UTC).</param>
/// <param name="Ndcg">NDCG at the cutoff, averaged over the month's users.</param>
/// <param name="Recall">Recall at the cutoff, averaged over the month's users.</param>
/// <param name="Users">Users evaluated in the month.</param>
/// <param name="Hits">Targets found in the top cutoff, summed over the month's users.</param>
/// <param name="NewItemHits">Those of <paramref name="Hits"/> that are new items: first sold in this month (candidates only
/// when the protocol has the catalog's descriptions).</param>
public readonly record struct MonthResult(DateTime Month, double Ndcg, double Recall, int Users, int Hits, int NewItemHits)
{
    /// <summary>Gets the share of the month's hits that are new items (NaN when there is no hit).</summary>
    public double NewItemHitShare => Hits == 0 ? double.NaN : (double)NewItemHits / Hits;
}

/// <summary>The result of a model under a <see cref="MonthlyProtocol"/>.</summary>
/// <param name="Months">One entry per month.</param>
/// <param name="Ndcg">Mean over the months of the monthly NDCG.</param>
/// <param name="Recall">Mean over the months of the monthly Recall.</param>
/// <param name="TrainSeconds">Wall-clock seconds spent fitting and updating.</param>
public sealed record MonthlyResult(IReadOnlyList<MonthResult> Months, double Ndcg, double Recall, double TrainSeconds)
{
    /// <summary>Gets the share of all months' hits that are new items (pooled over the months; NaN when there is no hit).</summary>
    public double NewItemHitShare
    {
        get
        {
            int hits = Months.Sum(m => m.Hits);
            return hits == 0 ? double.NaN : (double)Months.Sum(m => m.NewItemHits) / hits;
        }
    }
}

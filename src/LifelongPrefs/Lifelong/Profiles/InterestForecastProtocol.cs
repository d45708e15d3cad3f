using System.Diagnostics;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The interest-forecast protocol of issue 8 over a <see cref="PreferenceTracker"/>: the tracker is fed everything before
/// the first month, then month by month; at the start of every month it has its own categories (the shop's catalog, or
/// the k-means clusters of its learner's item vectors, exactly as <see cref="PreferenceTracker.GetProfile"/> uses them),
/// and for every user active in the month with an earlier event the forecast of the month's category distribution is
/// compared with the user's long-term profile and with the distribution of the user's last 30 days, on log-loss (nats,
/// lower is better) and NDCG@5 over categories (higher is better).
/// </summary>
/// <remarks>
/// <para>
/// The forecast is the tracker's forecaster (<see cref="PreferenceTracker.PredictInterests"/>'s model: exponents fitted by
/// Newton's method on the six months before the forecast) made at the month's first instant from everything before it,
/// over the month as horizon. The target is the user's undecayed category distribution of the month (event weights of
/// the profiles: purchase 1, add-to-cart and rating 0.5, click 0.25, view 0.1). All three distributions get the same
/// final smoothing, and a user with no event in the 30 days before the month gets the long-term profile as the
/// last-30-days baseline. Scores are averaged over the month's users, then over the months.
/// </para>
/// <para>
/// The users' histories are read from the log (each month reads only the events before its start), so the protocol does
/// not depend on the tracker's history bound; the tracker is used for its categories and profile half-lives.
/// </para>
/// </remarks>
public sealed class InterestForecastProtocol
{
    private readonly InteractionLog _log;
    private readonly List<(DateTime Month, int Start)> _months = [];
    private readonly Interaction[] _ordered;
    private readonly string?[]? _catalog;

    private InterestForecastProtocol(InteractionLog log, DateTime first, DateTime last, string?[]? catalog)
    {
        _log = log;
        _catalog = catalog;
        _ordered = [.. log.Events.OrderBy(e => e.Ticks)];
        for (DateTime m = first; m <= last; m = m.AddMonths(1))
        {
            int from = Timestamps.FirstAtOrAfter(_ordered, m.Ticks), to = Timestamps.FirstAtOrAfter(_ordered, m.AddMonths(1).Ticks);
            if (from > 0 && to > from)
            {
                _months.Add((m, from));
            }
        }
    }

    /// <summary>Gets the months evaluated (those with earlier data and events of their own), as the first instant of each, UTC.</summary>
    public IReadOnlyList<DateTime> Months => [.. _months.Select(m => m.Month)];

    /// <summary>Creates the protocol over the months from <paramref name="first"/> to <paramref name="last"/> (inclusive).</summary>
    /// <param name="log">The events, in any order.</param>
    /// <param name="first">The first month evaluated (any instant of it; UTC).</param>
    /// <param name="last">The last month evaluated.</param>
    /// <param name="itemCategories">
    /// The shop's catalog, registered with the tracker before its first event: one category per item index of the log
    /// (<see langword="null"/> for an item without one). <see langword="null"/> (the default) registers none, so the
    /// tracker's categories are the k-means clusters of its learner's item vectors.
    /// </param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is before <paramref name="first"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="itemCategories"/> does not hold one entry per item of the log, or
    /// holds an empty category.</exception>
    public static InterestForecastProtocol Create(InteractionLog log, DateTime first, DateTime last, IReadOnlyList<string?>? itemCategories = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (itemCategories is not null)
        {
            if (itemCategories.Count != log.Items.Count)
            {
                throw new ArgumentException($"'{nameof(itemCategories)}' holds {itemCategories.Count} entries; the log has {log.Items.Count} items.", nameof(itemCategories));
            }

            int empty = itemCategories.ToList().FindIndex(c => c is { Length: 0 });
            if (empty >= 0)
            {
                throw new ArgumentException($"'{nameof(itemCategories)}[{empty}]' is empty; use null for an item without a category.", nameof(itemCategories));
            }
        }

        DateTime f = new(first.Year, first.Month, 1, 0, 0, 0, DateTimeKind.Utc), l = new(last.Year, last.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        if (l < f)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"'{nameof(last)}' ({last:yyyy-MM}) is before '{nameof(first)}' ({first:yyyy-MM}).");
        }

        return new InterestForecastProtocol(log, f, l, itemCategories is null ? null : [.. itemCategories]);
    }

    /// <summary>
    /// Runs the protocol: a tracker from <paramref name="createTracker"/> observes the events before the first month,
    /// then each month's forecasts are scored and the month's events observed (waiting for the learner each time).
    /// </summary>
    /// <param name="createTracker">Makes the tracker (for example with the options under test); it is disposed at the end.</param>
    /// <returns>Every month's scores and their means.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="createTracker"/> is <see langword="null"/>.</exception>
    public InterestForecastResult Run(Func<PreferenceTracker> createTracker)
    {
        ArgumentNullException.ThrowIfNull(createTracker);
        var clock = Stopwatch.StartNew();
        using var tracker = new TrackerRecommender(_catalog is null ? createTracker : () => WithCatalog(createTracker(), _catalog));
        int users = _log.Users.Count, items = _log.Items.Count;
        UserHistories histories = UserHistories.FromLog(_log);
        var months = new List<InterestForecastMonthResult>();
        int fed = 0;
        foreach ((DateTime month, int start) in _months)
        {
            // Everything before the month's start, the first time through Fit, then the events since the last month.
            Interaction[] since = _ordered[fed..start];
            if (fed == 0)
            {
                tracker.Fit(since, users, items);
            }
            else
            {
                tracker.Update(since, users, items);
            }

            fed = start;

            (ItemCategories categories, ProfileOptions options) = tracker.Tracker!.ProfileCategories();
            InterestForecastReport report = InterestForecastEvaluation.Run(histories, categories, [month.Ticks], options);
            if (report.Months.Count > 0)
            {
                InterestForecastMonth m = report.Months[0];
                months.Add(new InterestForecastMonthResult(month, m.Users, categories.Count, m.Forecast, m.LongTerm, m.Last30Days));
            }
        }

        return new InterestForecastResult(months, Mean(months, m => m.Tracker), Mean(months, m => m.LongTerm), Mean(months, m => m.Last30Days),
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>Registers the catalog with a new tracker, items in index order (the ids <see cref="TrackerRecommender"/> uses).</summary>
    private static PreferenceTracker WithCatalog(PreferenceTracker tracker, string?[] catalog)
    {
        for (int i = 0; i < catalog.Length; i++)
        {
            tracker.RegisterItem(i.ToString(System.Globalization.CultureInfo.InvariantCulture), catalog[i]);
        }

        return tracker;
    }

    private static ForecastScores Mean(List<InterestForecastMonthResult> months, Func<InterestForecastMonthResult, ForecastScores> select) =>
        months.Count == 0
            ? new ForecastScores(double.NaN, double.NaN)
            : new ForecastScores(months.Average(m => select(m).LogLoss), months.Average(m => select(m).Ndcg));
}

/// <summary>One month of <see cref="InterestForecastProtocol"/>.</summary>
/// <param name="Month">The month's first instant (UTC); the forecasts are made at it.</param>
/// <param name="Users">Users scored: active in the month with at least one earlier event.</param>
/// <param name="Categories">How many categories the tracker had at the month's start.</param>
/// <param name="Tracker">The tracker's forecast.</param>
/// <param name="LongTerm">The user's long-term profile.</param>
/// <param name="Last30Days">The distribution of the user's last 30 days.</param>
public sealed record InterestForecastMonthResult(DateTime Month, int Users, int Categories, ForecastScores Tracker, ForecastScores LongTerm,
    ForecastScores Last30Days);

/// <summary>The result of <see cref="InterestForecastProtocol.Run"/>: every month, and the means over months (NaN when no month had users).</summary>
/// <param name="Months">The evaluated months with users, in order.</param>
/// <param name="Tracker">The tracker's forecast, averaged over months.</param>
/// <param name="LongTerm">The long-term baseline, averaged over months.</param>
/// <param name="Last30Days">The last-30-days baseline, averaged over months.</param>
/// <param name="Seconds">The protocol's wall time (feeding the tracker, its categories and the scoring).</param>
public sealed record InterestForecastResult(IReadOnlyList<InterestForecastMonthResult> Months, ForecastScores Tracker, ForecastScores LongTerm,
    ForecastScores Last30Days, double Seconds);

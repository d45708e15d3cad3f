using System.Diagnostics;
using System.Globalization;

namespace LifelongPrefs.Evaluation.Protocols;

/// <summary>
/// Prequential (test-then-train) evaluation over the time-ordered stream: the model is fitted on everything before
/// a start time, then the stream is replayed step by step (a day by default); every basket of the step is first
/// ranked by the model as it stands (it has learned only the earlier steps), and only then is the step given to
/// <see cref="IRecommender.Update"/>. Metrics are reported per basket, per week and per month.
/// </summary>
/// <remarks>
/// <para>
/// A basket (the events of one user with one <see cref="Interaction.BasketKey"/>) is evaluated when the stream reaches
/// its first event, for users with earlier events: the history given to <see cref="IScorer.Score"/> is exactly the
/// user's events before that one (earlier steps and the earlier part of this step, none of the basket's own), so
/// neither the parameters nor the history ever contain the purchase being ranked. The targets are the distinct items
/// the basket buys that the model can rank (indices below its <see cref="IScorer.ItemCount"/>, i.e. items it has seen).
/// With <c>explore</c>, items the user interacted with before are left out of the ranking and the targets (baskets left
/// with no new item are skipped); otherwise re-buys count, as they do in a shop.
/// </para>
/// <para>
/// Each <see cref="IRecommender.Update"/> gets the step's events in stream order with the user and item counts seen so
/// far (largest index + 1), so a model grows as the stream introduces ids. Weeks start on Monday (UTC).
/// </para>
/// </remarks>
public sealed class PrequentialProtocol
{
    private readonly Interaction[] _ordered;
    private readonly int _start, _items;
    private readonly long _origin;

    private PrequentialProtocol(Interaction[] ordered, long origin, int items, TimeSpan step, int cutoff, bool explore)
    {
        (_ordered, _origin, _items) = (ordered, origin, items);
        _start = Timestamps.FirstAtOrAfter(ordered, origin);
        (Step, Cutoff, Explore) = (step, cutoff, explore);
    }

    /// <summary>Gets the length of one test-then-train step.</summary>
    public TimeSpan Step { get; }

    /// <summary>Gets the ranking cutoff.</summary>
    public int Cutoff { get; }

    /// <summary>Gets whether items the user interacted with before are left out of the ranking and the targets.</summary>
    public bool Explore { get; }

    /// <summary>Creates the protocol.</summary>
    /// <param name="log">The events (any order; replayed by time stamp, ties in log order).</param>
    /// <param name="start">Where the stream starts being evaluated: the model is fitted on every earlier event.</param>
    /// <param name="step">The length of one step (default one day; steps are laid from <paramref name="start"/> on); at least one second.</param>
    /// <param name="cutoff">The ranking cutoff K.</param>
    /// <param name="explore">Leave out of the ranking and the targets what each user interacted with before.</param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is shorter than a second, or <paramref name="cutoff"/> is not positive.</exception>
    public static PrequentialProtocol Create(InteractionLog log, DateTimeOffset start, TimeSpan? step = null, int cutoff = 20, bool explore = false)
    {
        ArgumentNullException.ThrowIfNull(log);
        TimeSpan length = step ?? TimeSpan.FromDays(1);
        if (length < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"'{nameof(step)}' must be at least one second; it is {length}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        Interaction[] ordered = [.. log.Events.OrderBy(e => e.Ticks)];   // a stable sort: ties keep the log's order
        return new PrequentialProtocol(ordered, start.UtcTicks, log.Items.Count, length, cutoff, explore);
    }

    /// <summary>Fits <paramref name="model"/> on the events before the start, then tests and trains it step by step.</summary>
    /// <param name="model">A fresh model.</param>
    /// <param name="cancellationToken">Stops between steps and inside the first fit.</param>
    /// <returns>The metrics overall, per week and per month, and the seconds spent learning and ranking.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    public PrequentialResult Run(IRecommender model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var learning = new Stopwatch();
        var ranking = new Stopwatch();
        var state = new ReplayState(this);
        state.Learn(0, _start);
        learning.Start();
        model.Fit(new ArraySegment<Interaction>(_ordered, 0, _start), state.Users, state.Items, null, cancellationToken);
        learning.Stop();

        for (int from = _start; from < _ordered.Length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long end = StepEnd(_ordered[from].Ticks);
            int to = Timestamps.FirstAtOrAfter(_ordered, end);
            ranking.Start();
            state.Test(model, from, to);
            ranking.Stop();
            state.Learn(from, to);
            learning.Start();
            model.Update(new ArraySegment<Interaction>(_ordered, from, to - from), state.Users, state.Items);
            learning.Stop();
            from = to;
        }

        return state.Result(learning.Elapsed.TotalSeconds, ranking.Elapsed.TotalSeconds);
    }

    /// <summary>The end of the step holding <paramref name="ticks"/> (steps are laid from the start time on).</summary>
    private long StepEnd(long ticks) => _origin + ((((ticks - _origin) / Step.Ticks) + 1) * Step.Ticks);

    /// <summary>The replay's running state: histories, id counts, per-period accumulators.</summary>
    private sealed class ReplayState(PrequentialProtocol protocol)
    {
        private readonly Dictionary<int, List<Interaction>> _histories = [];
        private readonly SortedDictionary<DateTime, RankingMetricsAccumulator> _weeks = [], _months = [];
        private readonly RankingMetricsAccumulator _all = new(protocol._items, protocol.Cutoff);
        private readonly int[] _top = new int[protocol.Cutoff];
        private float[] _scores = [];

        internal int Users { get; private set; }

        internal int Items { get; private set; }

        /// <summary>Adds events [from, to) to the id counts (histories grow during <see cref="Test"/>, or here for the fit).</summary>
        internal void Learn(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                Interaction e = protocol._ordered[i];
                Users = Math.Max(Users, e.User + 1);
                Items = Math.Max(Items, e.Item + 1);
                if (i < protocol._start)
                {
                    History(e.User).Add(e);
                }
            }
        }

        /// <summary>Ranks every basket of events [from, to) at its first event, then appends the events to the histories.</summary>
        internal void Test(IRecommender model, int from, int to)
        {
            var baskets = new Dictionary<(int User, long Key), SortedSet<int>>();
            for (int i = from; i < to; i++)
            {
                Interaction e = protocol._ordered[i];
                if (e.Kind == EventKind.Purchase && e.Item < model.ItemCount)
                {
                    (int, long) key = (e.User, e.BasketKey);
                    (baskets.TryGetValue(key, out SortedSet<int>? set) ? set : baskets[key] = []).Add(e.Item);
                }
            }

            var done = new HashSet<(int, long)>();
            for (int i = from; i < to; i++)
            {
                Interaction e = protocol._ordered[i];
                List<Interaction> history = History(e.User);
                if (done.Add((e.User, e.BasketKey)) && history.Count > 0 && baskets.TryGetValue((e.User, e.BasketKey), out SortedSet<int>? targets))
                {
                    Rank(model, e, history, targets);
                }

                history.Add(e);
            }
        }

        internal PrequentialResult Result(double learnSeconds, double rankSeconds)
        {
            static IReadOnlyList<PrequentialPeriod> Periods(SortedDictionary<DateTime, RankingMetricsAccumulator> periods, int cutoff) =>
                [.. periods.Select(p => Period(p.Key, p.Value, cutoff))];
            PrequentialPeriod overall = Period(default, _all, protocol.Cutoff);
            return new PrequentialResult(overall.Ndcg, overall.Recall, overall.Baskets, Periods(_weeks, protocol.Cutoff),
                Periods(_months, protocol.Cutoff), learnSeconds, rankSeconds);
        }

        private static PrequentialPeriod Period(DateTime start, RankingMetricsAccumulator metrics, int cutoff)
        {
            IReadOnlyDictionary<string, double> results = metrics.Results();
            return new PrequentialPeriod(start, results.GetValueOrDefault(string.Create(CultureInfo.InvariantCulture, $"NDCG@{cutoff}"), double.NaN),
                results.GetValueOrDefault(string.Create(CultureInfo.InvariantCulture, $"Recall@{cutoff}"), double.NaN), metrics.UsersEvaluated);
        }

        private void Rank(IRecommender model, in Interaction first, List<Interaction> history, SortedSet<int> targets)
        {
            int items = model.ItemCount;
            int[] excludedSorted = protocol.Explore ? [.. history.Select(h => h.Item).Where(i => i < items).Distinct().Order()] : [];
            int[] relevant = [.. targets.Where(i => Array.BinarySearch(excludedSorted, i) < 0)];
            if (relevant.Length == 0)
            {
                return;   // explore: only re-buys in this basket
            }

            if (_scores.Length != items)
            {
                _scores = new float[items];
            }

            model.Score(first.User, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history), _scores);   // a view, not a copy
            int found = Ranking.TopK(_scores, excludedSorted, _top);
            int firstRank = Ranking.FirstRelevantRank(_scores, relevant, excludedSorted);
            var time = new DateTime(first.Ticks, DateTimeKind.Utc);
            var month = new DateTime(time.Year, time.Month, 1, 0, 0, 0, DateTimeKind.Utc);
            DateTime week = time.Date.AddDays(-(((int)time.DayOfWeek + 6) % 7));
            _all.Add(_top.AsSpan(0, found), relevant, firstRank);
            Accumulator(_weeks, week).Add(_top.AsSpan(0, found), relevant, firstRank);
            Accumulator(_months, month).Add(_top.AsSpan(0, found), relevant, firstRank);
        }

        private RankingMetricsAccumulator Accumulator(SortedDictionary<DateTime, RankingMetricsAccumulator> periods, DateTime start) =>
            periods.TryGetValue(start, out RankingMetricsAccumulator? metrics) ? metrics : periods[start] = new(protocol._items, protocol.Cutoff);

        private List<Interaction> History(int user) =>
            _histories.TryGetValue(user, out List<Interaction>? history) ? history : _histories[user] = [];
    }
}

/// <summary>The metrics of one period (a week or a month) of a <see cref="PrequentialProtocol"/> run.</summary>
/// <param name="Start">The period's first day (UTC; a Monday for weeks).</param>
/// <param name="Ndcg">NDCG at the cutoff, averaged over the period's baskets (NaN when there are none).</param>
/// <param name="Recall">Recall at the cutoff, averaged over the period's baskets.</param>
/// <param name="Baskets">Baskets evaluated in the period.</param>
public readonly record struct PrequentialPeriod(DateTime Start, double Ndcg, double Recall, int Baskets);

/// <summary>The result of a <see cref="PrequentialProtocol"/> run.</summary>
/// <param name="Ndcg">NDCG at the cutoff over every evaluated basket.</param>
/// <param name="Recall">Recall at the cutoff over every evaluated basket.</param>
/// <param name="Baskets">Baskets evaluated.</param>
/// <param name="Weeks">Per week, in time order.</param>
/// <param name="Months">Per month, in time order.</param>
/// <param name="LearnSeconds">Wall-clock seconds in the first fit and the updates.</param>
/// <param name="RankSeconds">Wall-clock seconds ranking.</param>
public sealed record PrequentialResult(double Ndcg, double Recall, int Baskets, IReadOnlyList<PrequentialPeriod> Weeks,
    IReadOnlyList<PrequentialPeriod> Months, double LearnSeconds, double RankSeconds);

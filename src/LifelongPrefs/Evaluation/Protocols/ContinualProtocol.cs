using System.Diagnostics;
using System.Globalization;

namespace LifelongPrefs.Evaluation.Protocols;

/// <summary>
/// The monthly continual-learning protocol: months are tasks learned one after another; <b>forward</b> quality ranks
/// each month's new purchases with the model of the months before, and <b>backward transfer</b> asks, for
/// <i>probe users</i> whose purchases of month m were never trained on, how their month-m ranking changes between
/// right after month m was learned and the end of the stream.
/// </summary>
/// <remarks>
/// <para>
/// For every month m: the users active in m with earlier events rank every item known before m, leaving out what they
/// bought before; targets are the items they buy in m for the first time; NDCG and Recall at the cutoff, averaged
/// over users ("forward", measured before m is learned). Then m is learned without the probe users' events of m
/// (about one user in five: by default <c>(int(userId) + month) % 5 == 0</c>, month 1–12, for numeric ids, a stable
/// hash otherwise). The probe users of m are ranked on their month-m targets (history: their events before m) after
/// every later month; <b>BWT</b> is the mean over months of (final − right after), <b>forgetting</b> the mean of
/// (best − final), both over the months that have a later one. Because a probe target bought again later becomes
/// training data through that later purchase, BWT is also reported on the targets the user never buys again.
/// </para>
/// <para>
/// A model runs <b>retrained</b> (fitted from scratch on all kept events before each boundary) or <b>incremental</b>
/// (fitted once on the events before the first month, then given each month's kept events through
/// <see cref="IRecommender.Update"/>). Either way there is one model per month boundary, so the model measured right
/// after month m is the one whose forward quality month m + 1 reports.
/// </para>
/// </remarks>
public sealed class ContinualProtocol
{
    private readonly InteractionLog _log;
    private readonly Interaction[] _ordered;
    private readonly bool[] _heldOut;
    private readonly List<(DateTime Month, int Start, int End)> _months = [];

    private ContinualProtocol(InteractionLog log, DateTime first, DateTime last, int cutoff, Func<string, DateTime, bool> isProbe)
    {
        (_log, Cutoff) = (log, cutoff);
        _ordered = [.. log.Events.OrderBy(e => e.Ticks)];
        _heldOut = new bool[_ordered.Length];
        for (DateTime m = first; m <= last; m = m.AddMonths(1))
        {
            int start = Timestamps.FirstAtOrAfter(_ordered, m.Ticks), end = Timestamps.FirstAtOrAfter(_ordered, m.AddMonths(1).Ticks);
            if (start > 0 && end > start)
            {
                _months.Add((m, start, end));
                for (int i = start; i < end; i++)
                {
                    _heldOut[i] = isProbe(log.Users.GetId(_ordered[i].User), m);
                }
            }
        }
    }

    /// <summary>Gets the ranking cutoff.</summary>
    public int Cutoff { get; }

    /// <summary>Gets the months evaluated (those with earlier data and events of their own), as the first day of each, UTC.</summary>
    public IReadOnlyList<DateTime> Months => [.. _months.Select(m => m.Month)];

    /// <summary>Creates the protocol over the months from <paramref name="first"/> to <paramref name="last"/> (inclusive).</summary>
    /// <param name="log">The events, in any order.</param>
    /// <param name="first">The first month (any day of it, UTC).</param>
    /// <param name="last">The last month.</param>
    /// <param name="cutoff">The ranking cutoff.</param>
    /// <param name="isProbe">Whether a user (by id) is a probe user in a month (its first day); the default is the rule above.</param>
    /// <returns>The protocol.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is before <paramref name="first"/>, or <paramref name="cutoff"/> is not positive.</exception>
    public static ContinualProtocol Create(InteractionLog log, DateTime first, DateTime last, int cutoff = 20, Func<string, DateTime, bool>? isProbe = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoff);
        DateTime f = new(first.Year, first.Month, 1, 0, 0, 0, DateTimeKind.Utc), l = new(last.Year, last.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        if (l < f)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"The last month ({last:yyyy-MM}) is before the first ({first:yyyy-MM}).");
        }

        return new ContinualProtocol(log, f, l, cutoff, isProbe ?? IsProbe);
    }

    /// <summary>The default probe rule: <c>(int(userId) + month) % 5 == 0</c> for numeric ids, a stable FNV-1a hash of the id otherwise.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="month">The month's first day.</param>
    /// <returns>Whether the user is a probe user in that month.</returns>
    public static bool IsProbe(string userId, DateTime month)
    {
        ArgumentNullException.ThrowIfNull(userId);
        long key;
        if (long.TryParse(userId, NumberStyles.Integer, CultureInfo.InvariantCulture, out long number))
        {
            key = number;
        }
        else
        {
            uint hash = 2166136261;
            foreach (char c in userId)
            {
                hash = (hash ^ c) * 16777619;
            }

            key = hash;
        }

        return ((key % 5) + 5 + month.Month) % 5 == 0;   // % keeps the sign of a negative id: +5 brings it back
    }

    /// <summary>Measures a model retrained from scratch at every month boundary.</summary>
    /// <param name="create">Makes a fresh model.</param>
    /// <param name="cancellationToken">Stops between and inside fits.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is <see langword="null"/>.</exception>
    public ContinualResult Retrained(Func<IRecommender> create, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(create);
        return Run(boundary =>
        {
            IRecommender model = create();
            model.Fit(Kept(0, boundary), _log.Users.Count, _log.Items.Count, null, cancellationToken);
            return model;
        }, cancellationToken);
    }

    /// <summary>Measures one model fitted before the first month and updated with each month's kept events.</summary>
    /// <param name="model">A fresh model.</param>
    /// <param name="cancellationToken">Stops between months and inside the first fit.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    public ContinualResult Incremental(IRecommender model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        int learned = 0;
        return Run(boundary =>
        {
            if (learned == 0)
            {
                model.Fit(Kept(0, boundary), _log.Users.Count, _log.Items.Count, null, cancellationToken);
            }
            else
            {
                model.Update(Kept(learned, boundary), _log.Users.Count, _log.Items.Count);
            }

            learned = boundary;
            return model;
        }, cancellationToken);
    }

    /// <summary>The events in [from, to) that are not held-out probe events.</summary>
    private List<Interaction> Kept(int from, int to)
    {
        var kept = new List<Interaction>(to - from);
        for (int i = from; i < to; i++)
        {
            if (!_heldOut[i])
            {
                kept.Add(_ordered[i]);
            }
        }

        return kept;
    }

    private ContinualResult Run(Func<int, IRecommender> trainUpTo, CancellationToken cancellationToken)
    {
        int count = _months.Count;
        var forward = new (double Ndcg, double Recall, int Users)[count];
        var probes = new (double Ndcg, double NoRebuy, int Users)[count, count];   // [month evaluated, after month learned]
        var clock = new Stopwatch();
        MonthTargets[] targets = [.. Enumerable.Range(0, count).Select(m => new MonthTargets(this, m))];
        for (int m = 0; m < count; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            clock.Start();
            IRecommender model = trainUpTo(_months[m].Start);
            clock.Stop();
            forward[m] = targets[m].Forward(model);
            if (m > 0)
            {
                for (int j = 0; j < m; j++)
                {
                    probes[j, m - 1] = targets[j].Probe(model);
                }
            }
        }

        if (count > 0)
        {
            clock.Start();
            IRecommender final = trainUpTo(_months[count - 1].End);
            clock.Stop();
            for (int j = 0; j < count; j++)
            {
                probes[j, count - 1] = targets[j].Probe(final);
            }
        }

        var months = new List<ContinualMonth>(count);
        for (int m = 0; m < count; m++)
        {
            double best = Enumerable.Range(m, count - m).Max(k => probes[m, k].Ndcg);
            months.Add(new ContinualMonth(_months[m].Month, forward[m].Ndcg, forward[m].Recall, forward[m].Users, probes[m, m].Ndcg, probes[m, count - 1].Ndcg,
                probes[m, m].NoRebuy, probes[m, count - 1].NoRebuy, best, probes[m, m].Users));
        }

        // Backward measures need a later month: the last month's "after" is its "final".
        List<ContinualMonth> earlier = [.. months.Take(Math.Max(0, count - 1)).Where(r => r.ProbeUsers > 0)];
        static double Mean(IEnumerable<double> values)
        {
            double[] finite = [.. values.Where(double.IsFinite)];
            return finite.Length == 0 ? double.NaN : finite.Average();
        }

        return new ContinualResult(months, Mean(months.Select(r => r.ForwardNdcg)), Mean(months.Select(r => r.ForwardRecall)),
            Mean(earlier.Select(r => r.ProbeFinal - r.ProbeAfter)), Mean(earlier.Select(r => r.ProbeFinalNoRebuy - r.ProbeAfterNoRebuy)),
            Mean(earlier.Select(r => r.ProbeBest - r.ProbeFinal)), count == 0 ? double.NaN : months[^1].ForwardNdcg, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One month's evaluation cases: every active user's history before the month and new purchases in it.</summary>
    private sealed class MonthTargets
    {
        private readonly ContinualProtocol _protocol;
        private readonly List<(int User, Interaction[] History, int[] Targets, int[] NeverAgain, bool Probe)> _cases = [];
        private readonly bool[] _known;

        internal MonthTargets(ContinualProtocol protocol, int m)
        {
            _protocol = protocol;
            (_, int start, int end) = protocol._months[m];
            Interaction[] ordered = protocol._ordered;
            _known = new bool[protocol._log.Items.Count];
            var histories = new Dictionary<int, List<Interaction>>();
            for (int i = 0; i < start; i++)
            {
                _known[ordered[i].Item] = true;
                (histories.TryGetValue(ordered[i].User, out var h) ? h : histories[ordered[i].User] = []).Add(ordered[i]);
            }

            var bought = new SortedDictionary<int, SortedSet<int>>();
            var probe = new HashSet<int>();
            for (int i = start; i < end; i++)
            {
                Interaction e = ordered[i];
                if (e.Kind == EventKind.Purchase && histories.ContainsKey(e.User) && _known[e.Item])
                {
                    (bought.TryGetValue(e.User, out var set) ? set : bought[e.User] = []).Add(e.Item);
                }

                if (protocol._heldOut[i])
                {
                    probe.Add(e.User);
                }
            }

            var later = new HashSet<(int, int)>();
            for (int i = end; i < ordered.Length; i++)
            {
                if (ordered[i].Kind == EventKind.Purchase)
                {
                    later.Add((ordered[i].User, ordered[i].Item));
                }
            }

            foreach ((int user, SortedSet<int> items) in bought)
            {
                Interaction[] history = [.. histories[user]];
                var owned = new HashSet<int>(history.Select(e => e.Item));
                int[] targets = [.. items.Where(i => !owned.Contains(i))];
                if (targets.Length > 0)
                {
                    _cases.Add((user, history, targets, [.. targets.Where(i => !later.Contains((user, i)))], probe.Contains(user)));
                }
            }
        }

        /// <summary>Mean NDCG and Recall over every case (the month's forward quality).</summary>
        internal (double Ndcg, double Recall, int Users) Forward(IRecommender model)
        {
            var metrics = new RankingMetricsAccumulator(model.ItemCount, _protocol.Cutoff);
            Score(model, probesOnly: false, metrics, null);
            return (Value(metrics, "NDCG"), Value(metrics, "Recall"), metrics.UsersEvaluated);
        }

        /// <summary>Mean NDCG over the probe users, on all their targets and on those they never buy again.</summary>
        internal (double Ndcg, double NoRebuy, int Users) Probe(IRecommender model)
        {
            var all = new RankingMetricsAccumulator(model.ItemCount, _protocol.Cutoff);
            var noRebuy = new RankingMetricsAccumulator(model.ItemCount, _protocol.Cutoff);
            Score(model, probesOnly: true, all, noRebuy);
            return (Value(all, "NDCG"), Value(noRebuy, "NDCG"), all.UsersEvaluated);
        }

        private void Score(IRecommender model, bool probesOnly, RankingMetricsAccumulator metrics, RankingMetricsAccumulator? noRebuy)
        {
            int items = model.ItemCount, cutoff = _protocol.Cutoff;
            var scores = new float[items];
            var top = new int[cutoff];
            int[] unknown = [.. Enumerable.Range(0, items).Where(i => i >= _known.Length || !_known[i])];
            foreach ((int user, Interaction[] history, int[] targets, int[] neverAgain, bool probe) in _cases)
            {
                if (probesOnly && !probe)
                {
                    continue;
                }

                int[] excludedSorted = [.. history.Select(e => e.Item).Concat(unknown).Distinct().Order()];
                model.Score(user, history, scores);
                int found = Ranking.TopK(scores, excludedSorted, top);
                metrics.Add(top.AsSpan(0, found), targets, Ranking.FirstRelevantRank(scores, targets, excludedSorted));
                if (noRebuy is not null && neverAgain.Length > 0)
                {
                    noRebuy.Add(top.AsSpan(0, found), neverAgain, Ranking.FirstRelevantRank(scores, neverAgain, excludedSorted));
                }
            }
        }

        private double Value(RankingMetricsAccumulator metrics, string name) =>
            metrics.Results().GetValueOrDefault(string.Create(CultureInfo.InvariantCulture, $"{name}@{_protocol.Cutoff}"), double.NaN);
    }
}

/// <summary>One month of a <see cref="ContinualProtocol"/> run.</summary>
/// <param name="Month">The month's first day (UTC).</param>
/// <param name="ForwardNdcg">NDCG at the cutoff of the month's new purchases, ranked before the month was learned.</param>
/// <param name="ForwardRecall">Recall at the cutoff, likewise.</param>
/// <param name="ForwardUsers">Users evaluated forward.</param>
/// <param name="ProbeAfter">The probe users' NDCG on this month's targets right after the month was learned.</param>
/// <param name="ProbeFinal">The same after the last month.</param>
/// <param name="ProbeAfterNoRebuy"><paramref name="ProbeAfter"/> on the targets the user never buys again.</param>
/// <param name="ProbeFinalNoRebuy"><paramref name="ProbeFinal"/> on those targets.</param>
/// <param name="ProbeBest">The best probe NDCG from right after the month to the end.</param>
/// <param name="ProbeUsers">Probe users evaluated.</param>
public readonly record struct ContinualMonth(DateTime Month, double ForwardNdcg, double ForwardRecall, int ForwardUsers, double ProbeAfter, double ProbeFinal,
    double ProbeAfterNoRebuy, double ProbeFinalNoRebuy, double ProbeBest, int ProbeUsers);

/// <summary>The result of a model under a <see cref="ContinualProtocol"/>.</summary>
/// <param name="Months">One entry per month.</param>
/// <param name="ForwardNdcg">Mean over months of the forward NDCG.</param>
/// <param name="ForwardRecall">Mean over months of the forward Recall.</param>
/// <param name="Bwt">Backward transfer: mean over months with a later one of (final − right after) probe NDCG.</param>
/// <param name="BwtNoRebuy">The same on targets never bought again.</param>
/// <param name="Forgetting">Mean over those months of (best − final) probe NDCG.</param>
/// <param name="NewestNdcg">The last month's forward NDCG (plasticity).</param>
/// <param name="TrainSeconds">Wall-clock seconds fitting and updating.</param>
public sealed record ContinualResult(IReadOnlyList<ContinualMonth> Months, double ForwardNdcg, double ForwardRecall, double Bwt, double BwtNoRebuy,
    double Forgetting, double NewestNdcg, double TrainSeconds);

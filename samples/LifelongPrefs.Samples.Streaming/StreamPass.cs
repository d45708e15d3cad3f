using System.Diagnostics;
using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>A drift detector's alarm on the stream.</summary>
/// <param name="Time">The time stamp of the basket whose hit raised it.</param>
/// <param name="Detector">"ADWIN" or "Page-Hinkley".</param>
/// <param name="Basket">The basket's position among the evaluated baskets.</param>
internal readonly record struct DriftAlarm(DateTime Time, string Detector, int Basket);

/// <summary>One week of the prequential stream.</summary>
/// <param name="Start">The week's Monday (UTC).</param>
/// <param name="Baskets">Baskets evaluated in it.</param>
/// <param name="Hits">Of those, the baskets with an item in the top-20.</param>
internal readonly record struct PrequentialWeek(DateTime Start, int Baskets, int Hits)
{
    /// <summary>Gets the week's hit rate (NaN without baskets).</summary>
    public double HitRate => Baskets == 0 ? double.NaN : (double)Hits / Baskets;
}

/// <summary>The customer's profile at the end of one month.</summary>
/// <param name="Month">The month's first day (UTC).</param>
/// <param name="Profile">The tracker's answer after the month's last event.</param>
internal sealed record ProfilePoint(DateTime Month, InterestProfile Profile);

/// <summary>Everything the streaming pass measured.</summary>
internal sealed record StreamResult(
    int Events,
    int Baskets,
    IReadOnlyList<PrequentialWeek> Weeks,
    IReadOnlyList<DriftAlarm> Alarms,
    string Customer,
    IReadOnlyList<ProfilePoint> Profile,
    IReadOnlyList<MonthlyInterest> Trajectory,
    double PrequentialSeconds,
    double RankingSeconds,
    IReadOnlyList<double> UpdateMicroseconds,
    double UpdateSeconds)
{
    /// <summary>Gets the learner's rate: events per second spent in its updates and snapshots.</summary>
    public double EventsPerSecond => Events / UpdateSeconds;

    /// <summary>Gets the prequential hit rate over every evaluated basket.</summary>
    public double HitRate => Weeks.Sum(w => w.Baskets) is int n and > 0 ? (double)Weeks.Sum(w => w.Hits) / n : double.NaN;

    /// <summary>Gets a percentile of the per-update latency (nearest rank).</summary>
    public double UpdatePercentile(double p)
    {
        if (UpdateMicroseconds.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. UpdateMicroseconds.Order()];
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// The log streamed in time order, twice: through a tracker that ranks each basket before it sees it (prequential
/// hits, fed to ADWIN and Page-Hinkley, and the customer's profile at every month's end); and straight into the
/// tracker's default learner in micro-batches, timing each update and snapshot exactly as the learner thread does.
/// (The tracker's end-to-end rate, observe and flush, is the continual protocol's "tracker" row.)
/// </summary>
internal static class StreamPass
{
    /// <summary>The ranking cutoff of a prequential hit.</summary>
    internal const int Cutoff = 20;

    // Re-buys are the strongest single signal in a shop's log: a basket that repeats an earlier purchase is a hit too.
    private static readonly RecommendOptions WithRebuys = new() { ExcludePurchased = false };

    /// <summary>The pass's three phases, for the progress bars.</summary>
    internal interface IProgressSink
    {
        /// <summary>Reports the fraction done of a phase (0 prequential, 1 learner latency).</summary>
        void Report(int phase, double fraction);
    }

    /// <summary>Runs both passes.</summary>
    internal static StreamResult Run(InteractionLog log, IReadOnlyList<string> descriptions, int seed, IProgressSink progress)
    {
        InteractionEvent[] events = ToEvents(log, descriptions);
        string customer = ProfileCustomer(log);
        var clock = Stopwatch.StartNew();
        (List<PrequentialWeek> weeks, List<DriftAlarm> alarms, List<ProfilePoint> profile, IReadOnlyList<MonthlyInterest> trajectory, int baskets, double ranking) = Prequential(log, events, seed, customer, progress);
        double prequential = clock.Elapsed.TotalSeconds;
        (List<double> micros, double seconds) = LearnerLatency(log, seed, progress);
        return new StreamResult(log.Count, baskets, weeks, alarms, customer, profile, trajectory, prequential, ranking, micros, seconds);
    }

    /// <summary>
    /// The customer with events in the most calendar months (then the most events, then the smallest id) among those whose
    /// whole history the tracker keeps (<see cref="TrackerOptions.MaxHistoryPerUser"/>), so the profile covers every month.
    /// </summary>
    internal static string ProfileCustomer(InteractionLog log)
    {
        int kept = new TrackerOptions().MaxHistoryPerUser;
        var months = new Dictionary<int, HashSet<int>>();
        var counts = new Dictionary<int, int>();
        foreach (Interaction e in log.Events)
        {
            var t = new DateTime(e.Ticks, DateTimeKind.Utc);
            (months.TryGetValue(e.User, out var set) ? set : months[e.User] = []).Add((t.Year * 12) + t.Month);
            counts[e.User] = counts.GetValueOrDefault(e.User) + 1;
        }

        int[] candidates = [.. months.Keys.Where(u => counts[u] <= kept)];
        return (candidates.Length > 0 ? candidates : [.. months.Keys])
            .OrderByDescending(u => months[u].Count).ThenByDescending(u => counts[u]).ThenBy(u => log.Users.GetId(u), StringComparer.Ordinal)
            .Select(log.Users.GetId).First();
    }

    /// <summary>The log as the shop's events: ids, time, basket, and each item's description on its first event.</summary>
    private static InteractionEvent[] ToEvents(InteractionLog log, IReadOnlyList<string> descriptions)
    {
        var described = new bool[log.Items.Count];
        var events = new InteractionEvent[log.Count];
        for (int i = 0; i < events.Length; i++)
        {
            Interaction e = log.Events[i];
            ItemAttributes? attributes = null;
            if (!described[e.Item] && e.Item < descriptions.Count && descriptions[e.Item].Length > 0)
            {
                described[e.Item] = true;
                attributes = new ItemAttributes(Text: descriptions[e.Item]);
            }

            events[i] = new InteractionEvent(log.Users.GetId(e.User), log.Items.GetId(e.Item), new DateTimeOffset(e.Ticks, TimeSpan.Zero), e.Kind,
                e.Quantity > 0 ? e.Quantity : 1f, Math.Max(0f, e.Value), e.Basket >= 0 ? log.Baskets.GetId(e.Basket) : null, attributes);
        }

        return events;
    }

    /// <summary>
    /// Test-then-train by basket. The tracker learns in the background; to make every answer deterministic the pass
    /// waits for the learner at each full micro-batch (so each ranking sees exactly the versions of the batches before
    /// it) and at each month's end (before the profile is read).
    /// </summary>
    private static (List<PrequentialWeek>, List<DriftAlarm>, List<ProfilePoint>, IReadOnlyList<MonthlyInterest>, int, double) Prequential(InteractionLog log, InteractionEvent[] events, int seed,
        string customer, IProgressSink progress)
    {
        using var tracker = new PreferenceTracker(new TrackerOptions { Seed = seed, FlushInterval = Timeout.InfiniteTimeSpan });
        int batch = tracker.Options.MicroBatchSize;
        var adwin = new Adwin();
        var pageHinkley = new PageHinkley();
        var weeks = new List<PrequentialWeek>();
        var alarms = new List<DriftAlarm>();
        var profile = new List<ProfilePoint>();
        var basketItems = new Dictionary<(int User, long Basket), HashSet<string>>();
        for (int i = 0; i < events.Length; i++)
        {
            Interaction e = log.Events[i];
            (basketItems.TryGetValue((e.User, e.BasketKey), out var items) ? items : basketItems[(e.User, e.BasketKey)] = new(StringComparer.Ordinal)).Add(events[i].ItemId);
        }

        // A basket begins at its first event in time order (its lines need not be adjacent); a user with an earlier basket is ranked.
        var started = new HashSet<(int User, long Basket)>();
        var returning = new HashSet<int>();
        int pending = 0, evaluated = 0;
        long ranking = 0;
        IReadOnlyList<Interaction> all = log.Events;
        for (int i = 0; i < all.Count; i++)
        {
            Interaction e = all[i];
            var time = new DateTime(e.Ticks, DateTimeKind.Utc);
            if (started.Add((e.User, e.BasketKey)))
            {
                if (!returning.Add(e.User))
                {
                    HashSet<string> basket = basketItems[(e.User, e.BasketKey)];
                    long before = Stopwatch.GetTimestamp();
                    bool hit = tracker.Recommend(events[i].UserId, Cutoff, WithRebuys).Any(r => basket.Contains(r.ItemId));
                    ranking += Stopwatch.GetTimestamp() - before;
                    AddToWeek(weeks, time, hit);

                    // The detectors watch the miss rate: Page-Hinkley raises an alarm when it climbs, ADWIN on any change.
                    double loss = hit ? 0 : 1;
                    if (adwin.Add(loss))
                    {
                        alarms.Add(new DriftAlarm(time, "ADWIN", evaluated));
                    }

                    if (pageHinkley.Add(loss))
                    {
                        alarms.Add(new DriftAlarm(time, "Page-Hinkley", evaluated));
                    }

                    evaluated++;
                }
            }

            tracker.Observe(events[i]);
            if (++pending == batch)
            {
                tracker.FlushAsync().GetAwaiter().GetResult();
                pending = 0;
            }

            if (i + 1 == all.Count || MonthOf(all[i + 1].Ticks) != MonthOf(e.Ticks))
            {
                tracker.FlushAsync().GetAwaiter().GetResult();
                pending = 0;
                profile.Add(new ProfilePoint(MonthOf(e.Ticks), tracker.GetProfile(customer)));
            }

            if (i % 1000 == 0)
            {
                progress.Report(0, (double)i / all.Count);
            }
        }

        progress.Report(0, 1);
        // The whole trajectory over the final categories, for a chart whose categories do not change under it.
        IReadOnlyList<MonthlyInterest> trajectory = tracker.PredictInterests(customer, TimeSpan.FromDays(30)).Trajectory;
        return (weeks, alarms, profile, trajectory, evaluated, (double)ranking / Stopwatch.Frequency);
    }

    private static void AddToWeek(List<PrequentialWeek> weeks, DateTime time, bool hit)
    {
        DateTime monday = time.Date.AddDays(-(((int)time.DayOfWeek + 6) % 7));
        if (weeks.Count == 0 || weeks[^1].Start != monday)
        {
            weeks.Add(new PrequentialWeek(monday, 0, 0));
        }

        PrequentialWeek w = weeks[^1];
        weeks[^1] = w with { Baskets = w.Baskets + 1, Hits = w.Hits + (hit ? 1 : 0) };
    }

    private static DateTime MonthOf(long ticks)
    {
        var t = new DateTime(ticks, DateTimeKind.Utc);
        return new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc);
    }

    /// <summary>
    /// The tracker's default learner (<see cref="RepeatExplore"/> with the tracker's default settings) fed the log in
    /// micro-batches of the tracker's default size, in time order; each <see cref="IRecommender.Update"/> plus
    /// <see cref="IRecommender.CreateScorer"/> (what the learner thread does per batch) is timed.
    /// </summary>
    private static (List<double> Micros, double Seconds) LearnerLatency(InteractionLog log, int seed, IProgressSink progress)
    {
        var defaults = new TrackerOptions { Seed = seed };
        var learner = new RepeatExplore(new RepeatExploreOptions { Dimensions = defaults.Dimensions, Seed = seed, MaxUsers = defaults.MaxUsers, MaxItems = defaults.MaxItems });
        int size = defaults.MicroBatchSize, users = 0, items = 0;
        var batch = new List<Interaction>(size);
        var micros = new List<double>();
        long total = 0;
        for (int start = 0; start < log.Count; start += size)
        {
            batch.Clear();
            for (int i = start; i < Math.Min(log.Count, start + size); i++)
            {
                Interaction e = log.Events[i];
                batch.Add(e);

                // Indices are dense in order of first appearance, so the counts so far are the largest index + 1.
                (users, items) = (Math.Max(users, e.User + 1), Math.Max(items, e.Item + 1));
            }

            long before = Stopwatch.GetTimestamp();
            learner.Update(batch, users, items);
            _ = learner.CreateScorer();
            long elapsed = Stopwatch.GetTimestamp() - before;
            total += elapsed;
            micros.Add(elapsed * 1e6 / Stopwatch.Frequency);
            progress.Report(1, (double)Math.Min(log.Count, start + size) / log.Count);
        }

        return (micros, (double)total / Stopwatch.Frequency);
    }

    /// <summary>A week's label.</summary>
    internal static string Day(DateTime t) => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

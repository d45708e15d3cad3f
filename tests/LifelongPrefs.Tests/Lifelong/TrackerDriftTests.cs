using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// Drift detection inside the tracker: a planted category switch is detected within the delay the detectors' maths
/// allows and not before it, a stationary stream raises no rise, the reaction scales the learning rate for its stretch
/// of stream time and then restores it, the detections are deterministic, a throwing handler harms nothing, and bad
/// options are rejected by name.
/// </summary>
public class TrackerDriftTests(ITestOutputHelper output)
{
    private const int Users = 100, Categories = 4, PerCategory = 25, ShiftDay = 40, Days = 60;

    private static DateTimeOffset ShiftTime => TrackerScenario.Start.AddDays(ShiftDay);

    /// <summary>
    /// Each user buys one item a day (its own basket), 90% from its favourite category; from <paramref name="shiftDay"/>
    /// on every user's favourite is the next category. Event times are unique (user u buys at minute u of the day).
    /// </summary>
    private static List<InteractionEvent> Stream(int seed, int shiftDay = ShiftDay, int days = Days)
    {
        var random = new Random(seed);
        var events = new List<InteractionEvent>(Users * days);
        for (int d = 0; d < days; d++)
        {
            for (int u = 0; u < Users; u++)
            {
                int favourite = (u + (d >= shiftDay ? 1 : 0)) % Categories;
                int item = random.NextDouble() < 0.9 ? favourite + (Categories * random.Next(PerCategory)) : random.Next(Categories * PerCategory);
                events.Add(new InteractionEvent(TrackerScenario.UserId(u), TrackerScenario.ItemId(item),
                    TrackerScenario.Start.AddDays(d).AddMinutes(u), EventKind.Purchase));
            }
        }

        return events;
    }

    private static TrackerOptions Options(DriftOptions drift) => new()
    {
        MicroBatchSize = 64,
        FlushInterval = Timeout.InfiniteTimeSpan,
        Dimensions = 8,
        Drift = drift,
    };

    private static DriftOptions Watching(DriftDetectorKind kind = DriftDetectorKind.Adwin, double multiplier = 1) => new()
    {
        Enabled = true,
        Detector = kind,
        SampleEvery = 1,
        LearningRateMultiplier = multiplier,
        ReactionDuration = TimeSpan.FromDays(3),
    };

    private static async Task<PreferenceTracker> Run(TrackerOptions options, List<InteractionEvent> events, IRecommender? learner = null,
        Action<PreferenceTracker>? subscribe = null)
    {
        var tracker = new PreferenceTracker(options, learner ?? new ItemKnn(), null);
        subscribe?.Invoke(tracker);
        tracker.Observe(events);
        await tracker.FlushAsync();
        return tracker;
    }

    private static bool Rise(DriftDetection d) => d.MissRateAfter > d.MissRateBefore;

    [Theory]
    [InlineData(DriftDetectorKind.Adwin, 1)]
    [InlineData(DriftDetectorKind.Adwin, 6)]
    [InlineData(DriftDetectorKind.Adwin, 7)]
    [InlineData(DriftDetectorKind.PageHinkley, 1)]
    [InlineData(DriftDetectorKind.PageHinkley, 6)]
    public async Task The_global_detector_finds_a_planted_category_switch_within_its_bounded_delay_and_not_before(DriftDetectorKind kind, int seed)
    {
        DriftOptions drift = Watching(kind);
        List<InteractionEvent> events = Stream(seed);
        using PreferenceTracker tracker = await Run(Options(drift), events);
        DriftDetection[] global = [.. tracker.DriftHistory.Where(d => d.Segment.IsGlobal)];
        Assert.DoesNotContain(global, d => d.StreamTime < ShiftTime && Rise(d));   // no false alarm of a rising miss rate
        DriftDetection first = global.FirstOrDefault(d => d.StreamTime >= ShiftTime);
        Assert.True(first.Segment.IsGlobal, "no global detection after the switch");
        Assert.True(Rise(first), $"the first detection after the switch should be a rise: {first}");

        // The size of the change, from below: the part the detector dropped (or put before its change point) is older
        // than the switch, and what it kept is the new miss rate diluted by a few older values, so the true jump is at
        // least after − before. The planted switch to a category the users never bought from makes it large.
        double jump = first.MissRateAfter - first.MissRateBefore;
        Assert.True(jump >= 0.1, $"the planted switch should move the miss rate by at least 0.1: {first}");

        // Every purchase from day 2 on is tested (SampleEvery = 1, each user has history), so the delay in tested purchases
        // is the number of events from the switch up to the detecting one.
        int delay = events.Count(e => e.Timestamp >= ShiftTime && e.Timestamp <= first.StreamTime);
        DateTimeOffset lastBefore = global.Where(d => d.StreamTime < ShiftTime).Select(d => d.StreamTime).DefaultIfEmpty(TrackerScenario.Start).Max();
        int older = events.Count(e => e.Timestamp > lastBefore && e.Timestamp < ShiftTime);   // what ADWIN's window holds at the switch, at least
        int bound = kind == DriftDetectorKind.Adwin ? AdwinBound(older, jump, drift) : PageHinkleyBound(older, jump, drift);
        output.WriteLine($"{kind}, seed {seed}: detected {delay} tested purchases after the switch ({first.StreamTime:O}, miss {first.MissRateBefore:F3} → {first.MissRateAfter:F3}); bound {bound}; {global.Length} global detections");
        Assert.InRange(delay, 1, bound);
        Assert.Equal(tracker.DriftHistory.Count, tracker.Statistics.DriftsDetected);
        Assert.True(tracker.Statistics.DriftTests >= events.Count - (2 * Users) - 64, $"{tracker.Statistics.DriftTests} tested of {events.Count}");
    }

    /// <summary>
    /// ADWIN's guarantee (Bifet and Gavaldà, Theorem 3.1): once an older part of n₀ values and a newer part of n₁ differ
    /// in mean by more than 2·ε_cut, the window is cut w.p. ≥ 1 − δ. With the change at least Δ (bounded from below by the
    /// detection) and the binary variance at most 1/4, n₁* is the first n₁ where 2·ε_cut(n₀, n₁, 1/4) &lt; Δ; cuts are
    /// tested every check interval at bucket boundaries (the newest bucket may hold n₁/(M − 1) values), so the delay is at
    /// most n₁*·M/(M − 1) plus one interval.
    /// </summary>
    private static int AdwinBound(int older, double jump, DriftOptions drift)
    {
        const int perLevel = 5;
        int n1 = 1;
        while (2 * Adwin.Threshold(older, n1, 0.25, drift.AdwinDelta) >= jump)
        {
            n1++;
        }

        return (n1 * perLevel / (perLevel - 1)) + drift.AdwinCheckInterval;
    }

    /// <summary>
    /// Page-Hinkley's expected rise after a jump of Δ with n₀ values before it: Σₖ (Δ·n₀/(n₀ + k) − δ) (the running
    /// mean absorbs the new values); K* is where it first exceeds λ; noise may delay it, so allow 2·K*.
    /// </summary>
    private static int PageHinkleyBound(int older, double jump, DriftOptions drift)
    {
        double rise = 0;
        int k = 0;
        while (rise <= drift.PageHinkleyLambda)
        {
            k++;
            rise += (jump * older / (older + k)) - drift.PageHinkleyDelta;
        }

        return 2 * k;
    }

    [Theory]
    [InlineData(DriftDetectorKind.Adwin)]
    [InlineData(DriftDetectorKind.PageHinkley)]
    public async Task A_stationary_stream_raises_no_rise_of_the_miss_rate(DriftDetectorKind kind)
    {
        using PreferenceTracker tracker = await Run(Options(Watching(kind)), Stream(seed: 2, shiftDay: int.MaxValue));
        DriftDetection[] rises = [.. tracker.DriftHistory.Where(Rise)];
        output.WriteLine($"{kind}: {tracker.Statistics.DriftTests} tested, {tracker.DriftHistory.Count} detections, {rises.Length} rises");
        Assert.True(tracker.Statistics.DriftTests > 4_000);

        // The model only gets better on a stationary stream (the miss rate falls as histories grow), so any rise is a false alarm.
        Assert.Empty(rises);
    }

    [Fact]
    public async Task The_reaction_scales_the_learning_rate_for_its_stretch_of_stream_time_then_restores_it()
    {
        var learner = new ScaleRecorder();
        DriftOptions drift = Watching(multiplier: 3);
        using PreferenceTracker tracker = await Run(Options(drift), Stream(seed: 3), learner);
        DriftDetection[] reacted = [.. tracker.DriftHistory.Where(d => d.Reacted)];
        Assert.NotEmpty(reacted);
        Assert.All(reacted, d => Assert.True(d.Segment.IsGlobal && Rise(d), $"only global rises react by default: {d}"));
        Assert.All(tracker.DriftHistory.Where(d => !d.Reacted), d => Assert.False(d.Segment.IsGlobal && Rise(d), $"a global rise must react: {d}"));

        // Oracle: an update whose batch ends at L runs scaled exactly when some reacting detection at t has t ≤ L < t + duration.
        long duration = drift.ReactionDuration.Ticks;
        foreach ((long latest, float scale) in learner.Updates)
        {
            bool raised = reacted.Any(d => d.StreamTime.UtcTicks <= latest && latest < d.StreamTime.UtcTicks + duration);
            Assert.Equal(raised ? 3f : 1f, scale);
        }

        Assert.Contains(learner.Updates, u => u.Scale == 3f);
        long end = reacted.Max(d => d.StreamTime.UtcTicks) + duration;
        Assert.Contains(learner.Updates, u => u.Latest >= end && u.Scale == 1f);   // restored after the stretch
        Assert.Equal(1f, learner.Updates[^1].Scale);
    }

    [Fact]
    public async Task Report_only_never_touches_the_learning_rate()
    {
        var learner = new ScaleRecorder();
        using PreferenceTracker tracker = await Run(Options(Watching(multiplier: 1)), Stream(seed: 3), learner);
        Assert.Contains(tracker.DriftHistory, d => d.Segment.IsGlobal && Rise(d));
        Assert.DoesNotContain(tracker.DriftHistory, d => d.Reacted);
        Assert.All(learner.Updates, u => Assert.Equal(1f, u.Scale));
        Assert.Equal(0, learner.Sets);
    }

    [Fact]
    public async Task The_same_events_and_seed_give_the_same_detections_with_the_default_learner_reacting()
    {
        // The default learner (RepeatExplore) reacts, so detections change what it learns: both runs must still agree exactly.
        DriftOptions drift = Watching(multiplier: 2) with { SampleEvery = 2 };
        List<InteractionEvent> events = Stream(seed: 4);
        string[] runs = new string[2];
        for (int run = 0; run < 2; run++)
        {
            using var tracker = new PreferenceTracker(Options(drift));
            tracker.Observe(events);
            await tracker.FlushAsync();
            Assert.NotEmpty(tracker.DriftHistory);
            runs[run] = string.Join(Environment.NewLine, tracker.DriftHistory.Select(d =>
                $"{d.StreamTime:O} {d.Segment} {BitConverter.DoubleToInt64Bits(d.MissRateBefore):x} {BitConverter.DoubleToInt64Bits(d.MissRateAfter):x} {d.Tested} {d.Reacted}"));
        }

        output.WriteLine(runs[0]);
        Assert.Equal(runs[0], runs[1]);
    }

    [Fact]
    public async Task A_throwing_handler_neither_stops_learning_nor_the_other_handlers()
    {
        int seen = 0;
        List<InteractionEvent> events = Stream(seed: 1);
        using PreferenceTracker tracker = await Run(Options(Watching()), events, subscribe: t =>
        {
            t.DriftDetected += (_, _) => throw new InvalidOperationException("a broken handler");
            t.DriftDetected += (_, e) => Interlocked.Increment(ref seen);
        });

        Assert.True(tracker.Statistics.DriftsDetected > 0);
        Assert.Equal(tracker.Statistics.DriftsDetected, seen);
        Assert.Equal(tracker.Statistics.DriftsDetected, tracker.DriftHandlerFailures);
        Assert.Equal(events.Count, tracker.Statistics.EventsLearned);
        tracker.Observe(new InteractionEvent("u0", "i0", TrackerScenario.Start.AddDays(Days), EventKind.Purchase));
        await tracker.FlushAsync();   // the learner is alive: a flush completes and learns the new event
        Assert.Equal(events.Count + 1, tracker.Statistics.EventsLearned);
    }

    [Fact]
    public async Task Drift_detection_off_tests_nothing_and_reports_nothing()
    {
        using PreferenceTracker tracker = await Run(Options(new DriftOptions()), Stream(seed: 1));
        Assert.Empty(tracker.DriftHistory);
        Assert.Equal(0, tracker.Statistics.DriftTests);
        Assert.Equal(0, tracker.Statistics.DriftsDetected);
    }

    [Fact]
    public async Task Drift_history_keeps_only_the_newest_detections()
    {
        using PreferenceTracker full = await Run(Options(Watching()), Stream(seed: 1));
        using PreferenceTracker bounded = await Run(Options(Watching() with { HistoryCapacity = 2 }), Stream(seed: 1));
        Assert.True(full.DriftHistory.Count > 2, $"{full.DriftHistory.Count} detections");
        Assert.Equal(full.DriftHistory.TakeLast(2), bounded.DriftHistory);
        Assert.Equal(full.Statistics.DriftsDetected, bounded.Statistics.DriftsDetected);
    }

    public static TheoryData<string, DriftOptions> BadOptions() => new()
    {
        { "Detector", new DriftOptions { Detector = (DriftDetectorKind)7 } },
        { "AdwinDelta", new DriftOptions { AdwinDelta = 0 } },
        { "AdwinDelta", new DriftOptions { AdwinDelta = double.NaN } },
        { "AdwinCheckInterval", new DriftOptions { AdwinCheckInterval = 0 } },
        { "PageHinkleyDelta", new DriftOptions { PageHinkleyDelta = -0.1 } },
        { "PageHinkleyLambda", new DriftOptions { PageHinkleyLambda = double.PositiveInfinity } },
        { "PageHinkleyMinValues", new DriftOptions { PageHinkleyMinValues = 0 } },
        { "SampleEvery", new DriftOptions { SampleEvery = 0 } },
        { "Cutoff", new DriftOptions { Cutoff = 0 } },
        { "LearningRateMultiplier", new DriftOptions { LearningRateMultiplier = 0.5 } },
        { "LearningRateMultiplier", new DriftOptions { LearningRateMultiplier = double.NaN } },
        { "ReactionDuration", new DriftOptions { ReactionDuration = TimeSpan.Zero } },
        { "HistoryCapacity", new DriftOptions { HistoryCapacity = 0 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_drift_option_is_rejected_by_name(string name, DriftOptions drift)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceTracker(new TrackerOptions { Drift = drift }, new ItemKnn(), null));
        Assert.Equal(name, e.ParamName);
        Assert.Contains($"TrackerOptions.Drift.{name}", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new PreferenceTracker(new TrackerOptions { Drift = null! }, new ItemKnn(), null));
    }

    [Fact]
    public void RepeatExplore_at_scale_one_learns_bit_identically_and_at_scale_two_differently()
    {
        List<Interaction> events = [.. Stream(seed: 5, days: 10).Select((e, i) =>
            new Interaction(int.Parse(e.UserId[1..], System.Globalization.CultureInfo.InvariantCulture), int.Parse(e.ItemId[1..], System.Globalization.CultureInfo.InvariantCulture), e.Timestamp.UtcTicks, EventKind.Purchase, 1, 0, i))];
        string[] scores = new string[3];
        float[] scales = [float.NaN, 1f, 2f];   // NaN: never set
        for (int run = 0; run < 3; run++)
        {
            var model = new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Seed = 7 });
            if (!float.IsNaN(scales[run]))
            {
                ((IDriftReactiveLearner)model).LearningRateScale = scales[run];
            }

            for (int from = 0; from < events.Count; from += 100)
            {
                model.Update(events[from..Math.Min(events.Count, from + 100)], Users, Categories * PerCategory);
            }

            var s = new float[Categories * PerCategory];
            model.CreateScorer().Score(3, events.Where(e => e.User == 3).ToArray(), s);
            scores[run] = string.Join(",", s.Select(BitConverter.SingleToInt32Bits));
        }

        Assert.Equal(scores[0], scores[1]);
        Assert.NotEqual(scores[0], scores[2]);
    }

    [Theory]
    [InlineData(DriftDetectorKind.Adwin)]
    [InlineData(DriftDetectorKind.PageHinkley)]
    public async Task A_stream_without_basket_ids_is_tested_as_the_same_stream_with_one_basket_id_per_time_stamp(DriftDetectorKind kind)
    {
        // The library's basket rule: without a basket id, a user's events at one time stamp form one basket. So the drift
        // test of a purchase (which ranks the basket as it starts, without its own earlier items, and counts the user's
        // baskets for the segment) must come out the same whether the shop sends that basket's id or none.
        var random = new Random(3);
        var plain = new List<InteractionEvent>();
        foreach (InteractionEvent e in Stream(seed: 5))
        {
            int extra = random.Next(3);   // 1–3 items per basket, bought at the same moment
            for (int i = 0; i <= extra; i++)
            {
                plain.Add(i == 0 ? e : e with { ItemId = TrackerScenario.ItemId(random.Next(Categories * PerCategory)) });
            }
        }

        List<InteractionEvent> withIds = [.. plain.Select(e => e with { BasketId = $"{e.UserId}@{e.Timestamp.UtcTicks}" })];
        DriftOptions drift = Watching(kind);
        using PreferenceTracker a = await Run(Options(drift), plain);
        using PreferenceTracker b = await Run(Options(drift), withIds);

        Assert.True(a.Statistics.DriftTests > plain.Count / 2, $"{a.Statistics.DriftTests} tested of {plain.Count}");
        Assert.Equal(b.Statistics.DriftTests, a.Statistics.DriftTests);
        Assert.NotEmpty(b.DriftHistory);   // the planted switch is found, so the comparison below covers detections
        Assert.Equal(b.DriftHistory, a.DriftHistory);
    }

    [Fact]
    public void A_users_history_before_an_event_survives_trimming_of_the_log()
    {
        var log = new UserLog();
        var positions = new List<long>();
        for (int i = 0; i < 40; i++)
        {
            positions.Add(log.Appended);
            log.Append(new Interaction(0, i, i, EventKind.Purchase, 1, 0, -1), null, max: 3);
        }

        Assert.Equal(40, log.Appended);
        for (int i = 0; i < 40; i++)
        {
            // Oracle: the newest (at most 3) of events 0..i−1 that the log still keeps (it keeps at least the newest 3 of all 40).
            int[] expected = [.. Enumerable.Range(0, i).Where(j => j >= 40 - log.Count).TakeLast(3)];
            Assert.Equal(expected, log.Before(positions[i], 3).ToArray().Select(e => e.Item));
        }
    }

    /// <summary>ItemKnn with the drift seam: records the scale each update ran with and the newest event time of its batch.</summary>
    private sealed class ScaleRecorder : IRecommender, IDriftReactiveLearner
    {
        private readonly ItemKnn _model = new();
        private float _scale = 1f;

        internal List<(long Latest, float Scale)> Updates { get; } = [];

        internal int Sets { get; private set; }

        public float LearningRateScale
        {
            get => _scale;
            set => (_scale, Sets) = (value, Sets + 1);
        }

        public string Name => "ScaleRecorder";

        public int ItemCount => _model.ItemCount;

        public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<TrainingProgress>? progress = null,
            CancellationToken cancellationToken = default) => _model.Fit(events, userCount, itemCount, progress, cancellationToken);

        public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
        {
            Updates.Add((newEvents.Max(e => e.Ticks), _scale));
            _model.Update(newEvents, userCount, itemCount);
        }

        public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _model.Score(user, history, scores);

        public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
            _model.Recommend(user, history, items, excludedSorted);

        public IScorer CreateScorer() => _model.CreateScorer();

        public void Save(Stream stream) => _model.Save(stream);

        public void Load(Stream stream) => _model.Load(stream);

        public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) => _model.SaveAsync(stream, cancellationToken);

        public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) => _model.LoadAsync(stream, cancellationToken);
    }
}

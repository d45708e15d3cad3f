using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// The learner's publishing cadence: with a finite flush interval it learns every batch of a backlog but publishes
/// only when less than a full batch waits (while the last version is recent), and ends in the same state as a tracker
/// that published every batch; with an infinite one it publishes every batch. Oracle: a second tracker fed the same
/// events with the same batch boundaries.
/// </summary>
public class LearnerPublishingTests
{
    [Theory]
    [InlineData(false, 1)] // finite flush interval on a clock that does not move: the backlog's batches share one version
    [InlineData(true, 4)]  // infinite flush interval: one version per batch, as determinism requires
    public async Task A_backlog_is_learned_batch_by_batch_and_published_when_it_is_drained(bool infinite, int versions)
    {
        var gate = new ManualResetEventSlim(false);
        var learner = new CountingLearner(gate);
        var options = new TrackerOptions
        {
            MicroBatchSize = 2, QueueCapacity = 100, FlushInterval = infinite ? Timeout.InfiniteTimeSpan : TimeSpan.FromHours(1),
        };
        await using var tracker = new PreferenceTracker(options, learner, new StoppedClock());
        InteractionEvent[] events = Events();
        foreach (InteractionEvent e in events)
        {
            tracker.Observe(e); // the learner holds the first batch in Update until the gate opens: a backlog of three
        }

        gate.Set();
        SpinWait.SpinUntil(() => tracker.Statistics.EventsLearned == events.Length, TimeSpan.FromSeconds(30));
        Assert.Equal(events.Length, tracker.Statistics.EventsLearned);
        Assert.Equal(4, learner.Updates);
        Assert.Equal(versions, learner.Snapshots);
        Assert.Equal(versions, tracker.ModelVersion);

        // The same events learned in the same 2-event batches, each published: the same final answers.
        await using var oracle = Create(Deterministic(2), new ItemKnn());
        oracle.Observe(events);
        await oracle.FlushAsync();
        foreach (string user in new[] { "u0", "u1", "u2" })
        {
            Assert.Equal(Render(oracle.Recommend(user, 5)), Render(tracker.Recommend(user, 5)));
        }
    }

    [Theory]
    [InlineData(ItemTablePrecision.Exact)]
    [InlineData(ItemTablePrecision.Quantized)]
    public async Task An_idle_learner_builds_the_scoring_tables_before_it_publishes_and_a_backlog_leaves_them_to_the_reader(ItemTablePrecision precision)
    {
        var gate = new ManualResetEventSlim(false);
        var learner = new GatedRepeatExplore(gate);
        var options = new TrackerOptions { MicroBatchSize = 1, FlushInterval = Timeout.InfiniteTimeSpan, ItemTablePrecision = precision };
        await using var tracker = new PreferenceTracker(options, learner, TimeProvider.System);
        InteractionEvent[] events = Events()[..3];
        foreach (InteractionEvent e in events)
        {
            tracker.Observe(e); // the first batch waits in Update: the other two are queued when it publishes
        }

        gate.Set();
        await tracker.FlushAsync();
        bool quantized = precision == ItemTablePrecision.Quantized;
        Assert.Equal(3, learner.Scorers.Count);
        Assert.False(learner.Scorers[0].IsPrepared(quantized)); // two events waited: the first reader builds them
        Assert.False(learner.Scorers[1].IsPrepared(quantized)); // one waited
        Assert.True(learner.Scorers[2].IsPrepared(quantized));  // none waited: built by the learner, before publishing
        Assert.Same(learner.Scorers[2], tracker.CurrentVersion.Scorer);
    }

    private static InteractionEvent[] Events() =>
        [.. Enumerable.Range(0, 8).Select(i => new InteractionEvent($"u{i % 3}", $"i{(i * 5) % 7}", Start.AddMinutes(i), EventKind.Purchase))];

    /// <summary>A clock whose timestamp never moves and whose timers never fire.</summary>
    private sealed class StoppedClock : TimeProvider
    {
        public override long GetTimestamp() => 0;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Never();

        private sealed class Never : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>The default learner behind a gate that holds every update until it opens, keeping every snapshot it made.</summary>
    private sealed class GatedRepeatExplore(ManualResetEventSlim gate) : IRecommender
    {
        private readonly RepeatExplore _inner = new(new RepeatExploreOptions { Dimensions = 8, Negatives = 4, Seed = 3 });

        public List<RepeatExploreScorer> Scorers { get; } = [];

        public string Name => "gated";

        public int ItemCount => _inner.ItemCount;

        public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<LifelongPrefs.Training.TrainingProgress>? progress = null,
            CancellationToken cancellationToken = default) => _inner.Fit(events, userCount, itemCount, progress, cancellationToken);

        public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
        {
            gate.Wait();
            _inner.Update(newEvents, userCount, itemCount);
        }

        public IScorer CreateScorer()
        {
            var scorer = (RepeatExploreScorer)_inner.CreateScorer();
            Scorers.Add(scorer);
            return scorer;
        }

        public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _inner.Score(user, history, scores);

        public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
            _inner.Recommend(user, history, items, excludedSorted);
    }

    /// <summary>ItemKNN behind a gate that holds every update until it opens, counting updates and snapshots.</summary>
    private sealed class CountingLearner(ManualResetEventSlim gate) : IRecommender
    {
        private readonly ItemKnn _inner = new();

        public int Updates { get; private set; }

        public int Snapshots { get; private set; }

        public string Name => "counting";

        public int ItemCount => _inner.ItemCount;

        public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<LifelongPrefs.Training.TrainingProgress>? progress = null,
            CancellationToken cancellationToken = default) => _inner.Fit(events, userCount, itemCount, progress, cancellationToken);

        public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
        {
            gate.Wait();
            Updates++;
            _inner.Update(newEvents, userCount, itemCount);
        }

        public IScorer CreateScorer()
        {
            Snapshots++;
            return _inner.CreateScorer();
        }

        public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _inner.Score(user, history, scores);

        public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
            _inner.Recommend(user, history, items, excludedSorted);
    }
}

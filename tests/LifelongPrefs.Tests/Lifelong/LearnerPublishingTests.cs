using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;
using LifelongPrefs.Tests.Persistence;
using Microsoft.Extensions.Time.Testing;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// The learner's publishing cadence: with a finite flush interval it learns every batch of a backlog but publishes
/// only when less than a full batch waits and the last version is old enough, or a flush asks, and ends in the same
/// state as a tracker that published every batch; with an infinite one it publishes every batch. Oracle: a second tracker fed the same
/// events with the same batch boundaries.
/// </summary>
public class LearnerPublishingTests
{
    [Theory]
    [InlineData(false, 1)] // finite flush interval on a clock that does not move: the backlog's batches share one version, published for the flush
    [InlineData(true, 4)]  // infinite flush interval: one version per batch, as determinism requires
    public async Task A_backlog_is_learned_batch_by_batch_and_published_when_it_is_drained(bool infinite, int versions)
    {
        var gate = new ManualResetEventSlim(false);
        var learner = new GatedLearner(new ItemKnn(), gate);
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
        await tracker.FlushAsync();
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

    [Fact]
    public async Task Without_a_backlog_a_batch_learned_soon_after_the_last_version_is_published_once_the_minimum_interval_has_passed()
    {
        var clock = new FakeTimeProvider();
        var learner = new GatedLearner(new ItemKnn(), new ManualResetEventSlim(true));
        var options = new TrackerOptions { MicroBatchSize = 2, FlushInterval = TimeSpan.FromHours(1) };
        await using var tracker = new PreferenceTracker(options, learner, clock);
        tracker.Observe(Events()[..2]); // one batch, learned at once; the clock stands at the tracker's start
        Assert.True(SpinWait.SpinUntil(() => learner.Updates == 1, TimeSpan.FromSeconds(30)));
        Thread.Sleep(300); // real time: a learner that published every batch would have published by now
        Assert.Equal(0, tracker.ModelVersion);

        clock.Advance(BackgroundLearner.MinPublishInterval); // no further event: the waiting learner publishes
        Assert.True(SpinWait.SpinUntil(() => tracker.ModelVersion == 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(2, tracker.Statistics.EventsLearned);
        Assert.Equal(1, learner.Snapshots);
    }

    [Fact]
    public async Task A_learner_whose_model_threw_publishes_nothing_it_had_learned_but_not_yet_published()
    {
        var clock = new FakeTimeProvider();
        var learner = new GatedLearner(new ItemKnn(), new ManualResetEventSlim(true)) { ThrowOnUpdate = 2 };
        var options = new TrackerOptions { MicroBatchSize = 2, FlushInterval = TimeSpan.FromHours(1) };
        await using var tracker = new PreferenceTracker(options, learner, clock);
        tracker.Observe(Events()[..4]); // the first batch is learned (unpublished on the standing clock), the second throws
        Assert.True(SpinWait.SpinUntil(() => learner.Updates == 2, TimeSpan.FromSeconds(30)));
        clock.Advance(BackgroundLearner.MinPublishInterval); // a learner that still published leftovers would do it now
        Thread.Sleep(300);
        Assert.Equal(0, tracker.ModelVersion);
        Assert.Equal(0, learner.Snapshots);
    }

    [Fact]
    public async Task Batches_learned_but_not_yet_published_at_a_checkpoint_are_published_whole_after_a_restore()
    {
        string directory = TrackerPersistenceHarness.TempDirectory();
        try
        {
            var clock = new FakeTimeProvider(); // stands still: every batch is learned within the 100 ms floor, so none is published
            var options = new TrackerOptions { MicroBatchSize = 2, FlushInterval = TimeSpan.FromHours(1), Persistence = new PersistenceOptions { Directory = directory } };
            string expected;
            await using (PreferenceTracker original = PreferenceTracker.Open(options, clock))
            {
                original.Observe(Events());
                Thread.Sleep(300); // real time for the learner to take and learn the batches (any still queued are checkpointed as queued)
                await original.CheckpointAsync();
                await original.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)); // publishes the learned batches: a flush waits for them, not only for the queue
                Assert.Equal(Events().Length, original.Statistics.EventsLearned);
                expected = Render(original.Recommend("someone new", 5)); // the trending answer over every item
                Assert.NotEqual(string.Empty, expected);
            }

            await using PreferenceTracker restored = PreferenceTracker.Open(options, clock);
            await restored.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)); // the restore published what the checkpoint had learned but not published
            Assert.Equal(expected, Render(restored.Recommend("someone new", 5)));
            Assert.Equal(Events().Length, restored.Statistics.EventsLearned);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(ItemTablePrecision.Exact)]
    [InlineData(ItemTablePrecision.Quantized)]
    public async Task An_idle_learner_builds_the_newest_versions_scoring_tables_and_a_backlog_leaves_them_to_the_reader(ItemTablePrecision precision)
    {
        var gate = new ManualResetEventSlim(false);
        var learner = new GatedLearner(new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 4, Seed = 3 }), gate);
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
        // Once the learner has idled (50 ms), it builds the newest version's tables: poll for it, with a generous bound.
        Assert.True(SpinWait.SpinUntil(() => Prepared(learner.Scorers[2], quantized), TimeSpan.FromSeconds(30)));
        Assert.False(Prepared(learner.Scorers[0], quantized)); // superseded while events waited: left to a reader
        Assert.False(Prepared(learner.Scorers[1], quantized));
        Assert.Same(learner.Scorers[2], tracker.CurrentVersion.Scorer);
    }

    private static bool Prepared(IScorer scorer, bool quantized) => ((RepeatExploreScorer)scorer).IsPrepared(quantized);

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
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// Checkpoint + journal replay against the uninterrupted run: the same calls, with a checkpoint in the middle and a
/// crash (disposal without a checkpoint: queued events unlearned) later, must end in byte-identical state and
/// identical recommendations.
/// </summary>
public sealed class TrackerRecoveryTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(150, 260, 400)]
    [InlineData(0, 97, 300)]
    [InlineData(-1, 133, 300)] // no checkpoint at all: the whole journal is replayed
    public async Task Checkpoint_crash_recover_continue_equals_the_uninterrupted_run(int checkpointAt, int crashAt, int total)
    {
        List<Action<PreferenceTracker>> calls = Calls(total);
        (byte[] expected, string answers) = Reference(calls, total);

        var first = PreferenceTracker.Open(Options(_directory));
        Assert.Equal(new RecoveryReport(false, 0, 0, 0, 0), first.Recovery);
        int fed = 0;
        if (checkpointAt >= 0)
        {
            Feed(first, calls, 0, checkpointAt);
            await first.CheckpointAsync();
            fed = checkpointAt;
        }

        Feed(first, calls, fed, crashAt);
        first.Dispose(); // the crash: the learner stops, queued events are not learned, no checkpoint

        using PreferenceTracker second = PreferenceTracker.Open(Options(_directory));
        RecoveryReport report = second.Recovery!;
        Assert.Equal(checkpointAt >= 0, report.CheckpointUsed);
        Assert.Equal(crashAt - Math.Max(checkpointAt, 0) - CountRegistrations(checkpointAt, crashAt), report.EventsReplayed);
        Assert.Equal(0, report.TornBytesDropped);
        Feed(second, calls, crashAt, total);
        Assert.Equal(expected, State(second));
        Assert.Equal(answers, Answers(second));
    }

    [Fact]
    public async Task A_second_recovery_after_more_calls_and_checkpoints_still_equals_the_uninterrupted_run()
    {
        List<Action<PreferenceTracker>> calls = Calls(360);
        (byte[] expected, _) = Reference(calls, 360);
        int[] stops = [70, 150, 230, 300];
        int fed = 0;
        foreach (int stop in stops)
        {
            using PreferenceTracker t = PreferenceTracker.Open(Options(_directory, segmentBytes: 4096));
            Feed(t, calls, fed, stop);
            if (stop % 20 == 10)
            {
                await t.CheckpointAsync();
            }

            fed = stop;
        }

        using PreferenceTracker last = PreferenceTracker.Open(Options(_directory, segmentBytes: 4096));
        Feed(last, calls, fed, 360);
        Assert.Equal(expected, State(last));
    }

    [Fact]
    public async Task A_checkpoint_deletes_the_segments_it_covers_and_keeps_the_rest()
    {
        List<Action<PreferenceTracker>> calls = Calls(300);
        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory, segmentBytes: 4096)))
        {
            Feed(t, calls, 0, 250);
            Assert.True(JournalFormat.Segments(_directory).Count >= 3, "4 KiB segments should have rolled over");
            await t.CheckpointAsync();
            Assert.Single(JournalFormat.Segments(_directory));
            Feed(t, calls, 250, 300);
        }

        using PreferenceTracker reopened = PreferenceTracker.Open(Options(_directory, segmentBytes: 4096));
        Assert.True(reopened.Recovery!.CheckpointUsed);
        Assert.Equal(50 - CountRegistrations(250, 300), reopened.Recovery.EventsReplayed);
        Assert.Equal(Reference(calls, 300).State, State(reopened));
    }

    [Theory]
    [InlineData(JournalFlushPolicy.Interval)]
    [InlineData(JournalFlushPolicy.OnCheckpoint)]
    public async Task Buffered_policies_lose_nothing_on_an_orderly_disposal(JournalFlushPolicy policy)
    {
        List<Action<PreferenceTracker>> calls = Calls(200);
        await using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory, policy)))
        {
            Feed(t, calls, 0, 120);
            await t.CheckpointAsync();
            Feed(t, calls, 120, 200);
        }

        using PreferenceTracker reopened = PreferenceTracker.Open(Options(_directory, policy));
        Assert.Equal(Reference(calls, 200).State, State(reopened));
    }

    [Fact]
    public void Persistence_rejects_a_learner_whose_state_it_cannot_save_and_bad_persistence_options()
    {
        TrackerOptions options = Options(_directory);
        Assert.Throws<NotSupportedException>(() => new PreferenceTracker(options, new LifelongPrefs.Tests.Evaluation.CountingModel(), null));
        Assert.Throws<ArgumentException>(() => new PreferenceTracker(new TrackerOptions { Persistence = new PersistenceOptions() }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceTracker(new TrackerOptions { Persistence = new PersistenceOptions { Directory = _directory, SegmentBytes = 10 } }));
    }

    [Fact]
    public async Task Checkpoint_without_persistence_is_refused()
    {
        using var t = new PreferenceTracker(Options(null));
        await Assert.ThrowsAsync<InvalidOperationException>(() => t.CheckpointAsync());
    }

    /// <summary>Registrations are journalled as calls too but are not counted as events or feedback.</summary>
    private static int CountRegistrations(int from, int to) => Enumerable.Range(Math.Max(from, 0), to - Math.Max(from, 0)).Count(n => n % 37 == 36);
}

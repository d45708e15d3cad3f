using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.ContinualPersistenceHarness;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// Checkpoint + journal replay with the continual learner (replay, EWC, distillation, recency; or DP-SGD) and drift
/// detection on, against the uninterrupted run of the same calls: byte-identical state, identical recommendations,
/// drift history and counters.
/// </summary>
public sealed class ContinualRecoveryTests : IDisposable
{
    private const int Total = 360;
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(PersistedLearner.Continual, 150, 260)]
    [InlineData(PersistedLearner.Continual, -1, 200)]   // no checkpoint: the whole journal is replayed
    [InlineData(PersistedLearner.ContinualPrivate, 150, 260)]
    [InlineData(PersistedLearner.DefaultReacting, 170, 290)]
    public async Task Checkpoint_crash_recover_continue_equals_the_uninterrupted_run(PersistedLearner learner, int checkpointAt, int crashAt)
    {
        List<Action<PreferenceTracker>> calls = ShiftingCalls(Total);
        Outcome expected = Reference(learner, calls, Total);

        // The run must exercise what is persisted: tested purchases, detections, and for the default learner a reaction.
        Assert.True(expected.Statistics.DriftTests > 50, $"{expected.Statistics.DriftTests} drift tests");
        if (learner != PersistedLearner.ContinualPrivate)
        {
            Assert.True(expected.Drift.Count > 0, $"no detection in {expected.Statistics.DriftTests} tests");
        }

        if (learner == PersistedLearner.DefaultReacting)
        {
            Assert.Contains(expected.Drift, d => d.Reacted);
        }

        var first = Open(learner, _directory);
        int fed = 0;
        if (checkpointAt >= 0)
        {
            Feed(first, calls, 0, checkpointAt);
            await first.CheckpointAsync();
            fed = checkpointAt;
        }

        Feed(first, calls, fed, crashAt);
        first.Dispose(); // the crash: queued events unlearned, no checkpoint

        using PreferenceTracker second = Open(learner, _directory);
        Assert.Equal(checkpointAt >= 0, second.Recovery!.CheckpointUsed);
        Feed(second, calls, crashAt, Total);
        Outcome recovered = Outcome.Of(second);
        Assert.Equal(expected.State, recovered.State);
        Assert.Equal(expected.Answers, recovered.Answers);
        Assert.Equal(expected.Drift, recovered.Drift);
        Assert.Equal(expected.Statistics, recovered.Statistics);
    }

    [Fact]
    public async Task A_checkpoint_taken_with_events_still_queued_recovers_their_drift_tests()
    {
        // A copy of the directory taken right after the checkpoint, while the live tracker goes on: the crash image.
        List<Action<PreferenceTracker>> calls = ShiftingCalls(Total);
        Outcome expected = Reference(PersistedLearner.Continual, calls, Total);
        string image = Path.Combine(_directory, "image");
        string live = Path.Combine(_directory, "live");
        using (PreferenceTracker t = Open(PersistedLearner.Continual, live))
        {
            Feed(t, calls, 0, 203);   // not a multiple of the batch: the checkpoint holds queued purchases
            await t.CheckpointAsync();
            CopyDirectory(live, image);
            Feed(t, calls, 203, 240);
        }

        using PreferenceTracker recovered = Open(PersistedLearner.Continual, image);
        Assert.Equal(0, recovered.Recovery!.RecordsReplayed);
        Feed(recovered, calls, 203, Total);
        Outcome outcome = Outcome.Of(recovered);
        Assert.Equal(expected.State, outcome.State);
        Assert.Equal(expected.Drift, outcome.Drift);
        Assert.Equal(expected.Statistics, outcome.Statistics);
    }

    [Fact]
    public async Task A_checkpoint_of_other_continual_options_is_refused_naming_them()
    {
        List<Action<PreferenceTracker>> calls = ShiftingCalls(80);
        using (PreferenceTracker t = Open(PersistedLearner.Continual, _directory))
        {
            Feed(t, calls, 0, 80);
            await t.CheckpointAsync();
        }

        TrackerOptions other = Options(PersistedLearner.Continual, _directory);
        other.Continual.EwcStrength = 0.06f;
        TrackerStateException error = Assert.Throws<TrackerStateException>(() => new PreferenceTracker(other, Learner(PersistedLearner.Continual), null));
        Assert.Contains("EwcStrength", error.Message, StringComparison.Ordinal);
    }
}

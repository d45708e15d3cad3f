using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// Which options bind a tracker checkpoint. A tracker whose learner applies no continual strategy (the default learner)
/// never reads <see cref="TrackerOptions.Continual"/>, so a checkpoint saved under other continual options (another
/// release's defaults, say) opens and continues exactly as the uninterrupted run; every other option still binds, and
/// with a <see cref="Models.BprMf"/> learner, which the tracker wraps in a <see cref="ContinualLearner"/>, so do the
/// continual options. (The v1 fixtures, written under earlier continual defaults, check the same from files.)
/// </summary>
public sealed class TrackerOptionsBindingTests : IDisposable
{
    private const int Checkpointed = 80;
    private const int Total = 120;
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ContinualOptions Other() => new() { ReplayCapacity = 7, ReplayRatio = 3, EwcStrength = 0.5f, RecencyHalfLife = TimeSpan.FromDays(1) };

    [Fact]
    public async Task The_default_learner_opens_a_checkpoint_saved_under_other_continual_options_and_continues_as_the_uninterrupted_run()
    {
        List<Action<PreferenceTracker>> calls = Calls(Total);
        (byte[] expected, string answers) = Reference(calls, Total);   // the harness's options: today's continual defaults

        TrackerOptions saved = Options(_directory);
        saved.Continual = Other();
        using (PreferenceTracker first = PreferenceTracker.Open(saved))
        {
            Feed(first, calls, 0, Checkpointed);
            await first.CheckpointAsync();
        }

        using PreferenceTracker second = PreferenceTracker.Open(Options(_directory));
        Assert.True(second.Recovery!.CheckpointUsed);
        Feed(second, calls, Checkpointed, Total);
        Assert.Equal(expected, State(second));
        Assert.Equal(answers, Answers(second));
    }

    [Fact]
    public async Task The_default_learner_still_refuses_a_checkpoint_saved_under_another_tracker_or_drift_option()
    {
        List<Action<PreferenceTracker>> calls = Calls(Checkpointed);
        using (PreferenceTracker first = PreferenceTracker.Open(Options(_directory)))
        {
            Feed(first, calls, 0, Checkpointed);
            await first.CheckpointAsync();
        }

        TrackerOptions trending = Options(_directory);
        trending.TrendingHalfLife = TimeSpan.FromDays(3);
        trending.Continual = Other();
        TrackerStateException tracker = Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(trending));
        Assert.Contains("TrendingHalfLife", tracker.Message, StringComparison.Ordinal);

        TrackerOptions drift = Options(_directory);
        drift.Drift = new DriftOptions { Enabled = true };
        TrackerStateException detector = Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(drift));
        Assert.Contains("Enabled", detector.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_continual_learner_refuses_a_checkpoint_saved_under_other_continual_options()
    {
        List<Action<PreferenceTracker>> calls = ContinualPersistenceHarness.ShiftingCalls(Checkpointed);
        using (PreferenceTracker first = ContinualPersistenceHarness.Open(PersistedLearner.Continual, _directory))
        {
            Feed(first, calls, 0, Checkpointed);
            await first.CheckpointAsync();
        }

        TrackerOptions other = ContinualPersistenceHarness.Options(PersistedLearner.Continual, _directory);
        other.Continual.EwcStrength *= 2;
        TrackerStateException refused = Assert.Throws<TrackerStateException>(
            () => new PreferenceTracker(other, ContinualPersistenceHarness.Learner(PersistedLearner.Continual), null));
        Assert.Contains("EwcStrength", refused.Message, StringComparison.Ordinal);
    }
}

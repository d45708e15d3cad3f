using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.ContinualPersistenceHarness;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// A damaged checkpoint of a tracker with the continual learner and drift detection (so the file holds the replay,
/// EWC, generator and detector sections): every seeded flip or truncation is refused with
/// <see cref="TrackerStateException"/>, with a small allocation.
/// </summary>
public sealed class ContinualCorruptionTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(PersistedLearner.Continual)]
    [InlineData(PersistedLearner.ContinualPrivate)]
    public async Task A_flipped_or_truncated_checkpoint_is_refused_with_TrackerStateException(PersistedLearner learner)
    {
        List<Action<PreferenceTracker>> calls = ShiftingCalls(200);
        string source = Path.Combine(_directory, "source");
        using (PreferenceTracker t = Open(learner, source))
        {
            Feed(t, calls, 0, 200);
            await t.CheckpointAsync();
        }

        // The later half of the file is the learner's containers: aim every other flip there.
        TrackerFileChecks.AssertDamageRefused(source, Path.Combine(_directory, "copy"), d => Open(learner, d), 20261203 + (int)learner, 90,
            (rng, trial, length) => trial % 2 == 0 ? rng.Next(length / 2, length) : rng.Next(length));
    }
}

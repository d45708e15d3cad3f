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

        byte[] checkpoint = File.ReadAllBytes(Path.Combine(source, PreferenceTracker.CheckpointFile));
        var rng = new Random(20261203 + (int)learner);
        string copy = Path.Combine(_directory, "copy");
        for (int trial = 0; trial < 90; trial++)
        {
            byte[] damaged = (byte[])checkpoint.Clone();
            if (trial % 3 == 0)
            {
                damaged = damaged.AsSpan(0, rng.Next(damaged.Length)).ToArray();
            }
            else
            {
                // The later half of the file is the learner's containers: aim half of the flips there.
                int at = trial % 2 == 0 ? rng.Next(damaged.Length / 2, damaged.Length) : rng.Next(damaged.Length);
                damaged[at] ^= (byte)(1 << rng.Next(8));
            }

            CopyDirectory(source, copy);
            File.WriteAllBytes(Path.Combine(copy, PreferenceTracker.CheckpointFile), damaged);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = Record.Exception(() => Open(learner, copy).Dispose());
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(error is TrackerStateException, $"trial {trial}: {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            Assert.True(allocated < 64L << 20, $"trial {trial} allocated {allocated} bytes");
        }
    }
}

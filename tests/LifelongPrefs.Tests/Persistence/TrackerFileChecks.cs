using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>What the fixture and corruption tests of every tracker configuration share: regenerating a checked-in directory, and damaging a checkpoint.</summary>
internal static class TrackerFileChecks
{
    /// <summary>
    /// Rewrites <paramref name="fixture"/>: a checkpoint after <paramref name="checkpointed"/> calls, the journal of the
    /// rest, and <c>answers.txt</c> with what <paramref name="describe"/> says of the directory opened afresh.
    /// </summary>
    internal static async Task Regenerate(string fixture, string scratch, Func<string, PreferenceTracker> open, List<Action<PreferenceTracker>> calls,
        int checkpointed, Func<PreferenceTracker, string> describe)
    {
        string fresh = Path.Combine(scratch, "fresh");
        await using (PreferenceTracker t = open(fresh))
        {
            Feed(t, calls, 0, checkpointed);
            await t.CheckpointAsync();
            Feed(t, calls, checkpointed, calls.Count);
        }

        if (Directory.Exists(fixture))
        {
            Directory.Delete(fixture, recursive: true);
        }

        CopyDirectory(fresh, fixture);
        string probe = Path.Combine(scratch, "probe");
        CopyDirectory(fresh, probe);
        using PreferenceTracker opened = open(probe);
        File.WriteAllText(Path.Combine(fixture, "answers.txt"), describe(opened));
    }

    /// <summary>
    /// Opens <paramref name="trials"/> copies of <paramref name="source"/> whose checkpoint is seeded-damaged (every third
    /// trial a truncation, the others one bit flipped at <paramref name="flipAt"/>(generator, trial, length)); each must
    /// be refused with <see cref="TrackerStateException"/>, allocating less than 64 MiB.
    /// </summary>
    internal static void AssertDamageRefused(string source, string copy, Func<string, PreferenceTracker> open, int seed, int trials, Func<Random, int, int, int> flipAt)
    {
        byte[] checkpoint = File.ReadAllBytes(Path.Combine(source, PreferenceTracker.CheckpointFile));
        var rng = new Random(seed);
        for (int trial = 0; trial < trials; trial++)
        {
            byte[] damaged = (byte[])checkpoint.Clone();
            if (trial % 3 == 0)
            {
                damaged = damaged.AsSpan(0, rng.Next(damaged.Length)).ToArray();
            }
            else
            {
                damaged[flipAt(rng, trial, damaged.Length)] ^= (byte)(1 << rng.Next(8));
            }

            CopyDirectory(source, copy);
            File.WriteAllBytes(Path.Combine(copy, PreferenceTracker.CheckpointFile), damaged);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = Record.Exception(() => open(copy).Dispose());
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(error is TrackerStateException, $"trial {trial}: {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            Assert.True(allocated < 64L << 20, $"trial {trial} allocated {allocated} bytes");
        }
    }
}

using System.Text;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;
using static LifelongPrefs.Tests.Privacy.ErasureFiles;
using static LifelongPrefs.Tests.Privacy.PrivacyScenario;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// A crash during an erasure with persistence on, simulated by copying the persistence directory at a named point of
/// <see cref="PreferenceTracker.Forget"/> (what the disk holds when the process would die there): after the tombstone
/// is journalled and before the checkpoint, inside the checkpoint's write, and between its rename and the journal's
/// clean-up. The original tracker goes on and is the uninterrupted run: the tracker recovered from each copy must equal
/// it byte for byte, before and after both take the rest of the stream, and no file of the recovered directory may hold
/// the user.
/// </summary>
/// <remarks>
/// The hook (<see cref="EventJournal.CrashPoint"/>) is static, so it acts only on the test's own thread (a synchronous
/// <see cref="PreferenceTracker.Forget"/> reaches every one of these points on the calling thread), and other tests'
/// trackers running meanwhile pass through it untouched.
/// </remarks>
public sealed class PersistentErasureCrashTests : IDisposable
{
    private const int Victim = 3;
    private readonly string _directory = TempDirectory();
    private readonly string _crashed = TempDirectory();

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        Directory.Delete(_crashed, recursive: true);
    }

    [Theory]
    [InlineData("forget-journalled", JournalFlushPolicy.EveryRecord)]
    [InlineData("forget-journalled", JournalFlushPolicy.OnCheckpoint)] // the tombstone is flushed whatever the policy
    [InlineData("forget-journalled", JournalFlushPolicy.Interval)]
    [InlineData("checkpoint-write", JournalFlushPolicy.EveryRecord)]
    [InlineData("checkpoint-renamed", JournalFlushPolicy.EveryRecord)]
    public async Task A_crash_during_forget_recovers_to_the_uninterrupted_erased_state(string point, JournalFlushPolicy flush)
    {
        List<InteractionEvent> events = Events();
        int half = events.Count / 2, late = 3 * events.Count / 4;
        List<InteractionEvent> rest = Without(events.Skip(late), Victim);
        byte[] expectedAtCrash, expectedAtEnd;
        float[] row;
        bool copied = false;
        using (var original = PreferenceTracker.Open(PersistedOptions(_directory, flush: flush)))
        {
            original.Observe(events.Take(half));
            await original.FlushAsync();
            await original.CheckpointAsync(); // the checkpoint holds the victim
            events.Skip(half).Take(late - half).ToList().ForEach(original.Observe); // no flush: some of the victim's events still queued
            row = await original.UserRowAsync(IndexOf(original, Customer(Victim)));
            Assert.True(AnyFileContains(_directory, Identifiers(Customer(Victim), null)), "positive control: the files hold the victim before");

            int thread = Environment.CurrentManagedThreadId; // no await from here to the end of the Forget
            EventJournal.CrashPoint = name =>
            {
                if (name == point && Environment.CurrentManagedThreadId == thread && !copied)
                {
                    CopyAsTheDiskHoldsIt(_directory, _crashed);
                    copied = true;
                }
            };
            try
            {
                Assert.True(original.Forget(Customer(Victim)));
            }
            finally
            {
                EventJournal.CrashPoint = null;
            }

            Assert.True(copied, $"the forget never reached '{point}'");
            expectedAtCrash = State(original);
            rest.ForEach(original.Observe);
            expectedAtEnd = State(original);
        }

        using PreferenceTracker recovered = PreferenceTracker.Open(PersistedOptions(_crashed, flush: flush));
        Assert.False(AnyFileContains(_crashed, [.. Identifiers(Customer(Victim), null), Bytes(row)]),
            $"{point}: a file of the recovered directory still holds the victim");
        Assert.True(AnyFileContains(_crashed, Identifiers(Customer(7), null)), "positive control: another user is still found");
        Assert.Equal(-1, IndexOf(recovered, Customer(Victim)));
        Assert.Equal(expectedAtCrash, State(recovered));
        rest.ForEach(recovered.Observe);
        Assert.Equal(expectedAtEnd, State(recovered));
    }

    /// <summary>
    /// Copies every file. A temporary checkpoint the writer holds locked is replaced by the worst case, a torn temporary
    /// file full of the victim's id: recovery must neither read nor keep it.
    /// </summary>
    private static void CopyAsTheDiskHoldsIt(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from))
        {
            string target = Path.Combine(to, Path.GetFileName(file));
            try
            {
                File.Copy(file, target, overwrite: true);
            }
            catch (IOException) when (file.EndsWith(".tmp", StringComparison.Ordinal))
            {
                File.WriteAllBytes(target, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Customer(Victim), 64))));
            }
        }
    }
}

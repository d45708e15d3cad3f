using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using LifelongPrefs.Privacy;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;
using static LifelongPrefs.Tests.Privacy.ErasureFiles;
using static LifelongPrefs.Tests.Privacy.PrivacyScenario;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// Right to erasure with persistence on: after <see cref="PreferenceTracker.Forget"/> no file in the persistence
/// directory holds a byte sequence identifying the user (raw id and pseudonym in UTF-8 and UTF-16, their exact embedding
/// rows), while the same scan found them before and finds another user after; a recovery from the directory equals the
/// tracker after the erasure byte for byte and has the counts of a tracker that never saw the user.
/// </summary>
public sealed class PersistentErasureTests : IDisposable
{
    private const int Victim = 3, Other = 7;
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_forget_no_file_holds_the_user_and_a_recovery_equals_the_erased_tracker(bool pseudonymize)
    {
        PseudonymizationOptions? pseudonyms = pseudonymize ? Pseudonyms() : null;
        List<InteractionEvent> events = Events();
        int half = events.Count / 2;
        byte[] live;
        List<byte[]> victimIds = Identifiers(Customer(Victim), pseudonyms), otherIds = Identifiers(Customer(Other), pseudonyms);
        using (var tracker = PreferenceTracker.Open(PersistedOptions(_directory, pseudonyms)))
        {
            tracker.Observe(events.Take(half));
            await tracker.FlushAsync();
            await tracker.CheckpointAsync();
            int victim = IndexOf(tracker, Customer(Victim));
            float[] checkpointed = await tracker.UserRowAsync(victim); // the row the checkpoint holds
            tracker.Observe(events.Skip(half));
            await tracker.FlushAsync();
            float[] latest = await tracker.UserRowAsync(victim);
            Assert.NotEqual(checkpointed, latest); // two rows to look for: the checkpoint's and the newest

            // Positive controls: the kept id is in the checkpoint and in the journal, and the checkpoint holds the exact row.
            byte[] kept = victimIds[pseudonymize ? 2 : 0];
            Assert.Contains(PreferenceTracker.CheckpointFile, FilesContaining(_directory, kept));
            Assert.Contains(FilesContaining(_directory, kept), f => f.StartsWith("journal-", StringComparison.Ordinal));
            Assert.Equal(pseudonymize, !AnyFileContains(_directory, victimIds.Take(2))); // pseudonymized: the raw id never reached a file
            Assert.Contains(PreferenceTracker.CheckpointFile, FilesContaining(_directory, Bytes(checkpointed)));

            Assert.True(tracker.Forget(Customer(Victim)));

            Assert.False(AnyFileContains(_directory, victimIds));
            Assert.False(AnyFileContains(_directory, [Bytes(checkpointed), Bytes(latest)]));
            Assert.All(Directory.GetFiles(_directory), f => Assert.Matches(@"^(tracker\.ckpt|journal-\d{19}\.seg)$", Path.GetFileName(f)));

            // Positive controls after: another user's kept id and exact current row are still found by the same scan.
            float[] otherRow = await tracker.UserRowAsync(IndexOf(tracker, Customer(Other)));
            Assert.True(AnyFileContains(_directory, [otherIds[pseudonymize ? 2 : 0]]));
            Assert.True(AnyFileContains(_directory, [Bytes(otherRow)]));
            live = State(tracker);
        }

        using PreferenceTracker recovered = PreferenceTracker.Open(PersistedOptions(_directory, pseudonyms));
        Assert.True(recovered.Recovery!.CheckpointUsed);
        Assert.Equal(live, State(recovered));
        Assert.True(recovered.Recommend(Customer(Victim), 5).IsColdStart);
        Assert.False(recovered.Recommend(Customer(Other), 5).IsColdStart);

        using var never = new PreferenceTracker(PersistedOptions(null, pseudonyms));
        never.Observe(Without(events, Victim));
        await never.FlushAsync();
        await ErasureTests.AssertCountsEqual(recovered, never);
    }

    [Fact]
    public async Task Forget_async_with_a_buffered_journal_erases_the_files_and_an_unknown_user_writes_nothing()
    {
        List<InteractionEvent> events = Events();
        await using var tracker = PreferenceTracker.Open(PersistedOptions(_directory, flush: JournalFlushPolicy.OnCheckpoint));
        tracker.Observe(events);
        await tracker.FlushAsync();
        await tracker.CheckpointAsync();
        Dictionary<string, byte[]> files = Snapshot(_directory);
        byte[] state = State(tracker);

        Assert.False(await tracker.ForgetAsync("nobody-ever-seen-here"));
        Assert.False(tracker.Forget("nobody-ever-seen-here"));
        Assert.Equal(files, Snapshot(_directory));
        Assert.Equal(state, State(tracker));

        Assert.True(AnyFileContains(_directory, Identifiers(Customer(Victim), null)));
        Assert.True(await tracker.ForgetAsync(Customer(Victim)));
        Assert.False(AnyFileContains(_directory, Identifiers(Customer(Victim), null)));
        Assert.True(AnyFileContains(_directory, Identifiers(Customer(Other), null)));
    }

    [Fact]
    public async Task Bad_input_to_forget_is_rejected_naming_the_argument_and_changes_neither_state_nor_files()
    {
        TrackerOptions options = PersistedOptions(_directory);
        options.MaxIdLength = 64;
        await using var tracker = PreferenceTracker.Open(options);
        tracker.Observe(Events().Take(80));
        await tracker.FlushAsync();
        Dictionary<string, byte[]> files = Snapshot(_directory);
        byte[] state = State(tracker);

        Assert.Equal("userId", Assert.Throws<ArgumentNullException>(() => tracker.Forget(null!)).ParamName);
        Assert.Equal("userId", Assert.Throws<ArgumentException>(() => tracker.Forget("")).ParamName);
        Assert.Equal("userId", Assert.Throws<ArgumentException>(() => tracker.Forget(new string('x', 65))).ParamName);
        Assert.Equal("userId", (await Assert.ThrowsAsync<ArgumentNullException>(() => tracker.ForgetAsync(null!))).ParamName);
        Assert.Equal("userId", (await Assert.ThrowsAsync<ArgumentException>(() => tracker.ForgetAsync(""))).ParamName);

        Assert.Equal(files, Snapshot(_directory));
        Assert.Equal(state, State(tracker));
    }

    [Fact]
    public async Task Forget_racing_observe_from_other_threads_ends_consistent_and_recovers_to_the_same_state()
    {
        int[] forgotten = [9, 10, 11];
        List<InteractionEvent> events = Events();
        int half = events.Count / 2;
        byte[] live;
        using (var tracker = PreferenceTracker.Open(PersistedOptions(_directory)))
        {
            tracker.Observe(events.Take(half));
            List<InteractionEvent> rest = Without(events.Skip(half), forgotten);
            Task[] observers = [.. Enumerable.Range(0, 3).Select(t => Task.Run(() =>
            {
                // Each thread owns a third of the remaining users, so every user's events stay in time order.
                foreach (InteractionEvent e in rest.Where(e => int.Parse(e.UserId.AsSpan(9, 4), System.Globalization.CultureInfo.InvariantCulture) % 3 == t))
                {
                    tracker.Observe(e);
                }
            }))];
            Task forgetter = Task.Run(() =>
            {
                foreach (int u in forgotten)
                {
                    Assert.True(tracker.Forget(Customer(u)));
                }
            });
            await Task.WhenAll([.. observers, forgetter]);
            await tracker.FlushAsync();
            Assert.False(AnyFileContains(_directory, forgotten.SelectMany(u => Identifiers(Customer(u), null))));
            Assert.True(AnyFileContains(_directory, Identifiers(Customer(Other), null)));
            live = State(tracker);
        }

        using PreferenceTracker recovered = PreferenceTracker.Open(PersistedOptions(_directory));
        Assert.Equal(live, State(recovered));
        using var never = new PreferenceTracker(PersistedOptions(null));
        never.Observe(Without(events, forgotten));
        await never.FlushAsync();
        await ErasureTests.AssertCountsEqual(recovered, never);
    }

    [Fact]
    public void A_journal_without_tombstones_still_reads_and_a_tombstone_of_no_known_user_is_rejected()
    {
        using (var tracker = PreferenceTracker.Open(PersistedOptions(_directory)))
        {
            tracker.Observe(Events().Take(40));
        }

        using (var reopened = PreferenceTracker.Open(PersistedOptions(_directory)))
        {
            Assert.Equal(40, reopened.Recovery!.EventsReplayed); // a journal of events only, as every older one
        }

        (long next, _) = JournalReader.Replay(_directory, 0, (_, _) => { }, truncateTorn: false);
        using (var journal = new EventJournal(PersistedOptions(_directory).Persistence!, next, TimeProvider.System))
        {
            journal.Append([5, 0xE7, 0x03, 0, 0], durable: true); // erases user index 999
        }

        TrackerStateException e = Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(PersistedOptions(_directory)));
        Assert.Contains("999", e.Message, StringComparison.Ordinal);
    }
}

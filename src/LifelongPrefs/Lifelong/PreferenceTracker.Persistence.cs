namespace LifelongPrefs.Lifelong;

/// <summary>
/// Checkpoints and recovery (<see cref="TrackerOptions.Persistence"/>): one atomically replaced checkpoint file plus
/// the event journal since it. Formats and promises: <c>src/LifelongPrefs/Persistence/README.md</c>.
/// </summary>
public sealed partial class PreferenceTracker
{
    /// <summary>The checkpoint's file name in the persistence directory.</summary>
    internal const string CheckpointFile = "tracker.ckpt";

    private readonly SemaphoreSlim _checkpointGate = new(1, 1);

    /// <summary>Gets what the tracker restored when it was created (<see langword="null"/> without <see cref="TrackerOptions.Persistence"/>).</summary>
    public RecoveryReport? Recovery { get; private set; }

    /// <summary>
    /// Creates a tracker with persistence on (<see cref="TrackerOptions.Persistence"/> must be set), restoring the
    /// checkpoint and replaying the journal found in its directory; the same as the constructor, named for reading.
    /// </summary>
    /// <param name="options">The settings, with <see cref="TrackerOptions.Persistence"/> set.</param>
    /// <param name="timeProvider">The clock that paces the flush intervals; <see langword="null"/> for the system clock.</param>
    /// <returns>The restored tracker; <see cref="Recovery"/> says what was found.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or its <see cref="TrackerOptions.Persistence"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="TrackerStateException">The checkpoint or the journal is corrupt, truncated in the middle, from other options, or has a gap.</exception>
    public static PreferenceTracker Open(TrackerOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Persistence, "options.Persistence");
        return new PreferenceTracker(options, null, timeProvider);
    }

    /// <summary>
    /// Writes a checkpoint of the whole tracker — model and optimizer, id maps, histories, dismissals, trending counts,
    /// queued events, counters and stream time — to a temporary file, flushes it to disk and renames it over the
    /// previous checkpoint, then deletes the journal segments it covers. Readers are never blocked; writers are held
    /// only while the learner finishes its current micro-batch and the histories are copied, and the learner pauses
    /// while the model is streamed to the file. Calls are serialised; any thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for an earlier checkpoint to finish; a started write runs to the end.</param>
    /// <returns>A task that completes when the checkpoint is durable.</returns>
    /// <exception cref="InvalidOperationException">Persistence is off, or the learner stopped after an error.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    /// <exception cref="IOException">The disk write failed; the previous checkpoint is still in place.</exception>
    public async Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        PersistenceOptions persistence = _options.Persistence
            ?? throw new InvalidOperationException("Persistence is off (TrackerOptions.Persistence is null), so there is nowhere to write a checkpoint.");
        await _checkpointGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(() => WriteCheckpoint(persistence), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    /// <summary>Writes the whole state (as a checkpoint holds it, with no journal position) to <paramref name="stream"/>: tests compare these bytes.</summary>
    internal void SaveState(Stream stream)
    {
        lock (_write)
        {
            _learner.WhileParked(() =>
            {
                TrackerSnapshot.Capture(this, -1).WriteTo(stream, (ISavableRecommender)_model);
                return 0;
            });
        }
    }

    private void WriteCheckpoint(PersistenceOptions persistence)
    {
        string directory = persistence.Directory;
        string final = Path.Combine(directory, CheckpointFile);
        string temporary = final + ".tmp";
        long covered = 0, erasures = 0;
        Monitor.Enter(_write);
        bool holding = true;
        try
        {
            ThrowIfDisposed();
            _learner.WhileParked(() =>
            {
                // Under the write lock with the learner parked: producer state, queue and journal position agree.
                covered = _journal!.Roll();
                erasures = _erasures; // the parked learner has run every erasure requested so far
                TrackerSnapshot snapshot = TrackerSnapshot.Capture(this, covered);
                Monitor.Exit(_write);
                holding = false;
                using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    snapshot.WriteTo(file, (ISavableRecommender)_model);
                    file.Flush(true);
                }

                return 0;
            });
        }
        finally
        {
            if (holding)
            {
                Monitor.Exit(_write);
            }
        }

        File.Move(temporary, final, overwrite: true);
        DirectorySync.Flush(directory);
        EventJournal.CrashPoint?.Invoke("checkpoint-renamed");
        _journal!.DeleteBefore(covered);
        _erasuresCheckpointed = erasures;
    }

    private void OpenPersistence(TimeProvider time)
    {
        try
        {
            PersistenceOptions persistence = _options.Persistence!;
            if (_model is not ISavableRecommender)
            {
                throw new NotSupportedException($"TrackerOptions.Persistence is set, but the learner {_model.GetType().Name} cannot save its state (it is not an ISavableRecommender); a checkpoint would lose it.");
            }

            Directory.CreateDirectory(persistence.Directory);
            string checkpoint = Path.Combine(persistence.Directory, CheckpointFile);
            File.Delete(checkpoint + ".tmp"); // a checkpoint a crash interrupted: never read, and it may hold an erased user
            long from = 0;
            bool used = File.Exists(checkpoint);
            if (used)
            {
                using var file = new FileStream(checkpoint, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                from = TrackerSnapshot.Restore(this, file, (ISavableRecommender)_model);
            }

            _learner.BeginReplay();
            long records = 0, calls = 0;
            (long next, long torn) = JournalReader.Replay(persistence.Directory, from, (payload, sequence) =>
            {
                records++;
                calls += ApplyRecord(payload, sequence) ? 1 : 0;
            }, truncateTorn: true);
            _learner.EndReplay();
            Recovery = new RecoveryReport(used, from, records, calls, torn);
            _journal = new EventJournal(persistence, next, time);
            _learner.BatchTaken = JournalBatch;
            FinishErasures(persistence, from);
        }
        catch
        {
            _learner.Dispose();
            _journal?.Dispose(); // opened before a recovery's erasure checkpoint, which can still fail
            throw;
        }
    }
}

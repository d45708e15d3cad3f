using LifelongPrefs.Privacy;

namespace LifelongPrefs.Lifelong;

/// <summary>Privacy: pseudonymous user ids at the entry points, and erasing a user on request.</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>
    /// Erases a user (right to erasure): at once, the user's id mapping, history and dismissals; before the learner's
    /// next micro-batch, the user's queued events (voided now, never learned), their embedding row and its optimizer
    /// state, their per-user model statistics, their share of the trending and popularity counts and of the model's
    /// co-occurrence and per-item counts, and their continual-learning state (EWC rows, replay events, teacher copy); the
    /// learner then publishes a version without them. A later event with the same id starts a new user.
    /// </summary>
    /// <param name="userId">The shop's user id (under <see cref="TrackerOptions.Pseudonymization"/>, the raw id: it is hashed first).</param>
    /// <returns>Whether the user was known; an unknown user changes nothing (and writes nothing).</returns>
    /// <remarks>
    /// <para>
    /// Not undone: what shared parameters (item embeddings and biases, the gate) learned from the user's events, and the
    /// stream clock (<see cref="StreamTime"/>), which their events may have moved. The user's dense index stays reserved,
    /// mapped to no id, so <see cref="TrackerStatistics"/> still counts it among the users; it is never handed out again.
    /// The details are in <c>src/LifelongPrefs/Privacy/README.md</c>.
    /// </para>
    /// <para>
    /// With <see cref="TrackerOptions.Persistence"/> on, the erasure is also taken out of the files, and this call blocks
    /// until it is: a tombstone naming the user's dense index (never the id) is appended to the journal and flushed to disk
    /// whatever <see cref="PersistenceOptions.JournalFlush"/> says; the call waits for the learner's part, then writes a
    /// checkpoint without the user and deletes the journal segments it covers. When it returns, no file in the directory
    /// holds the user's id, pseudonym or embedding row; a crash at any point before that recovers to the erased state
    /// (recovery re-applies the tombstone and finishes the clean-up). Persistence's README describes the promises.
    /// </para>
    /// <para>Any thread, concurrently with every other member. Reads that started before the call may still answer from
    /// the user's old state; use <see cref="ForgetAsync"/> to wait until the model part is done.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed (with persistence on, also when it is disposed
    /// before the checkpoint was written: the journalled tombstone makes the next recovery finish the erasure).</exception>
    /// <exception cref="IOException">Persistence is on and a disk write failed: if the tombstone was written the erasure is
    /// done in memory and the next checkpoint or recovery finishes it in the files; otherwise nothing changed.</exception>
    /// <exception cref="InvalidOperationException">Persistence is on and the learner stopped after an error, so no checkpoint
    /// can be written: the erasure is done in memory and journalled, and the next recovery finishes it in the files.</exception>
    public bool Forget(string userId)
    {
        if (ForgetCore(userId) is not { } erasure)
        {
            return false;
        }

        if (_options.Persistence is { } persistence)
        {
            erasure.Learned.GetAwaiter().GetResult();
            CompactErasure(persistence, erasure.Ticket);
        }

        return true;
    }

    /// <summary>
    /// Erases a user as <see cref="Forget"/> does and completes when the learner has taken them out of the model and
    /// published a version without them, and, with <see cref="TrackerOptions.Persistence"/> on, when the checkpoint
    /// without them is durable and the journal segments holding them are deleted.
    /// </summary>
    /// <param name="userId">The shop's user id.</param>
    /// <param name="cancellationToken">Stops waiting (the erasure itself, the files' included, goes on).</param>
    /// <returns>Whether the user was known.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed (also when it is disposed before the learner or the checkpoint got to the request).</exception>
    /// <exception cref="IOException">Persistence is on and a disk write failed (see <see cref="Forget"/>).</exception>
    /// <exception cref="InvalidOperationException">Persistence is on and the learner stopped after an error (see <see cref="Forget"/>).</exception>
    public async Task<bool> ForgetAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (ForgetCore(userId) is not { } erasure)
        {
            return false;
        }

        Task done = _options.Persistence is { } persistence ? CompactErasureAsync(persistence, erasure) : erasure.Learned;
        await done.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Checks the id and erases the user's producer-side state; returns the learner's part and the erasure's ticket, or <see langword="null"/> for an unknown user.</summary>
    private (Task Learned, long Ticket)? ForgetCore(string userId)
    {
        CheckId(userId, nameof(userId));
        string key = UserKey(userId);
        Task learned;
        long ticket;
        lock (_write)
        {
            ThrowIfDisposed();
            if (!_users.TryGetIndex(key, out int user))
            {
                return null;
            }

            learned = EraseUser(key, user);
            ticket = _erasures;
        }

        if (_journal is not null)
        {
            EventJournal.CrashPoint?.Invoke("forget-journalled");
        }

        return (learned, ticket);
    }

    /// <summary>
    /// Erases a known user (write lock held): journals the tombstone when persistence is on (the only step that can fail,
    /// so a failure changes nothing), voids their queued entries, drops their id and log, and queues the learner's part.
    /// </summary>
    private Task EraseUser(string key, int user)
    {
        Task learned = _learner.Forget(user, _journal is null ? null : JournalForget);
        _users.Remove(key);

        // A fresh, empty log: readers that found the user a moment ago keep the old one until they return.
        Volatile.Write(ref _logs[user], new UserLog());
        Volatile.Write(ref _profiles, null);
        _erasures++;

        // The profile context holds a version and a forecaster built while the user was there: rebuild after the erasure too.
        return learned.ContinueWith(t =>
        {
            Volatile.Write(ref _profiles, null);
            t.GetAwaiter().GetResult();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Reserves the next user index with no id and an empty log (restoring an erased user's place from a checkpoint). Write lock held.</summary>
    private int ReserveUserIndex()
    {
        AddLog();
        return _users.Reserve();
    }

    /// <summary>The id the tracker keeps for a (checked) user id: the pseudonym under <see cref="TrackerOptions.Pseudonymization"/>, else the id.</summary>
    private string UserKey(string userId) => _options.Pseudonymization is { } p ? p.Pseudonymize(userId) : userId;

    /// <summary>The event with its user id replaced by the kept id (the same instance without pseudonymization).</summary>
    private InteractionEvent Keyed(InteractionEvent evt) =>
        _options.Pseudonymization is null ? evt : evt with { UserId = UserKey(evt.UserId) };

    /// <summary>Looks a shop's user id up; under pseudonymization the hash is computed on the stack (no allocation).</summary>
    private bool TryGetUser(string userId, out int user)
    {
        if (_options.Pseudonymization is not { } p)
        {
            return _users.TryGetIndex(userId, out user);
        }

        Span<char> key = stackalloc char[PseudonymizationOptions.PseudonymLength];
        p.Pseudonymize(userId, key);
        return _users.TryGetIndex(key, out user);
    }
}

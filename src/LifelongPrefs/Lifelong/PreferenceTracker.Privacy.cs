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
    /// <returns>Whether the user was known; an unknown user changes nothing.</returns>
    /// <remarks>
    /// <para>
    /// Not undone: what shared parameters (item embeddings and biases, the gate) learned from the user's events, and the
    /// stream clock (<see cref="StreamTime"/>), which their events may have moved. The user's dense index stays reserved,
    /// mapped to no id, so <see cref="TrackerStatistics"/> still counts it among the users; it is never handed out again.
    /// Checkpoints or journals written before the call still hold the user. The details are in
    /// <c>src/LifelongPrefs/Privacy/README.md</c>.
    /// </para>
    /// <para>Any thread, concurrently with every other member. Reads that started before the call may still answer from
    /// the user's old state; use <see cref="ForgetAsync"/> to wait until the model part is done.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    /// <exception cref="NotSupportedException"><see cref="TrackerOptions.Persistence"/> is set (erasure from files is not implemented yet).</exception>
    public bool Forget(string userId) => ForgetCore(userId) is not null;

    /// <summary>
    /// Erases a user as <see cref="Forget"/> does and completes when the learner has taken them out of the model and
    /// published a version without them.
    /// </summary>
    /// <param name="userId">The shop's user id.</param>
    /// <param name="cancellationToken">Stops waiting (the erasure itself goes on).</param>
    /// <returns>Whether the user was known.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long.</exception>
    /// <exception cref="NotSupportedException"><see cref="TrackerOptions.Persistence"/> is set (erasure from files is not implemented yet).</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed (also when it is disposed before the learner got to the request).</exception>
    public async Task<bool> ForgetAsync(string userId, CancellationToken cancellationToken = default)
    {
        Task? learned = ForgetCore(userId);
        if (learned is null)
        {
            return false;
        }

        await learned.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private Task? ForgetCore(string userId)
    {
        CheckId(userId, nameof(userId));
        if (_options.Persistence is not null)
        {
            // The journal and checkpoint still hold the user; a recovery would bring them back. Refuse rather than pretend.
            throw new NotSupportedException("Forget is not yet supported with TrackerOptions.Persistence set: erasure from the journal and checkpoint files is not implemented.");
        }

        string key = UserKey(userId);
        Task learned;
        lock (_write)
        {
            ThrowIfDisposed();
            if (!_users.TryGetIndex(key, out int user))
            {
                return null;
            }

            learned = _learner.Forget(user); // first: it is the only step that can throw (a stopping learner)
            _users.Remove(key);

            // A fresh, empty log: readers that found the user a moment ago keep the old one until they return.
            Volatile.Write(ref _logs[user], new UserLog());
            Volatile.Write(ref _profiles, null);
        }

        // The profile context holds a version and a forecaster built while the user was there: rebuild after the erasure too.
        return learned.ContinueWith(t =>
        {
            Volatile.Write(ref _profiles, null);
            t.GetAwaiter().GetResult();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Work the learner thread runs between micro-batches, when the model is idle: erasing a user (right to erasure) and
/// reading the whole learner state (the tracker's state image).
/// </summary>
/// <remarks>
/// A request waits in <see cref="_requests"/> (guarded by <see cref="_gate"/>) and makes <see cref="Ready"/> true, so
/// the learner takes it before its next micro-batch; a batch already being learned finishes first. Requests run in
/// the order they were made, and the task of each completes when it has run (on the learner thread, so a continuation
/// runs asynchronously). They run even after the learner faulted (erasure must not depend on learning working), and
/// fail with <see cref="ObjectDisposedException"/> when the learner stops first. A learner asked to park (a checkpoint)
/// runs the waiting requests first, so a checkpoint never holds a user whose erasure was requested before it. During a
/// journal replay a request runs once every batch boundary replayed before it is learned (the replay waits for it), so
/// a replayed erasure falls between the same two micro-batches as the original.
/// </remarks>
internal sealed partial class BackgroundLearner
{
    private readonly List<Request> _requests = [];
    private int _publishedItems;   // the item count of the newest version

    private bool HasRequests => _requests.Count > 0;

    /// <summary>
    /// Forgets a user's learning: voids every queued entry of <paramref name="user"/> at once (the learner will skip them),
    /// then, on the learner thread between micro-batches, takes the user out of the model
    /// (<see cref="IForgettingModel.ForgetUser"/>) and the trending counts and publishes a version without them.
    /// Producer side, under the tracker's write lock.
    /// </summary>
    /// <param name="user">The user's index.</param>
    /// <param name="journal">Called first, under the queue lock, to journal the erasure (it may throw, and then nothing has
    /// changed): its record then lies between the same batch boundaries as the erasure itself. <see langword="null"/> without persistence.</param>
    /// <returns>A task that completes when the published version no longer holds the user.</returns>
    internal Task Forget(int user, Action<int>? journal)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            journal?.Invoke(user);
            for (long s = _head; s < _enqueued; s++)
            {
                ref QueuedEvent q = ref _ring[s % _ring.Length];
                if (q.Text is null && q.Event.User == user)
                {
                    // Keep only the catalog sizes: the learner skips the entry, and a checkpoint of the queue holds none of the event.
                    q = new QueuedEvent(default, q.Users, q.Items, q.Negative, Voided: true);
                }
            }

            return Add(() => ForgetOnLearner(user));
        }
    }

    /// <summary>Runs <paramref name="work"/> on the learner thread between micro-batches (the model is idle meanwhile). Any thread.</summary>
    internal Task RunExclusive(Action work)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            return Add(work);
        }
    }

    /// <summary>Gets the learner's counts (for the state image). Learner thread only (inside <see cref="RunExclusive"/>).</summary>
    internal TrendingCounts Trending => _trending;

    private Task Add(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add(new Request(work, done));
        Monitor.PulseAll(_gate);
        return done.Task;
    }

    /// <summary>Takes every waiting request, or returns <see langword="null"/> when none waits. Under <see cref="_gate"/>.</summary>
    private List<Request>? TakeRequests()
    {
        if (_requests.Count == 0)
        {
            return null;
        }

        List<Request> taken = [.. _requests];
        _requests.Clear();
        return taken;
    }

    private void RunRequests(List<Request> requests)
    {
        foreach (Request request in requests)
        {
            try
            {
                request.Work();
                request.Done.TrySetResult();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                request.Done.TrySetException(ex);
            }
        }

        lock (_gate)
        {
            _inFlight = false;
            Monitor.PulseAll(_gate);
        }
    }

    private void FailRequests()
    {
        List<Request>? left;
        lock (_gate)
        {
            left = TakeRequests();
        }

        foreach (Request request in left ?? [])
        {
            request.Done.TrySetException(new ObjectDisposedException(nameof(PreferenceTracker)));
        }
    }

    private void ForgetOnLearner(int user)
    {
        (_model as IForgettingModel)?.ForgetUser(user);
        _trending.ForgetUser(user);
        if (_version == 0)
        {
            return; // nothing published yet, so no version can hold the user
        }

        // Publish at once, so that no reader starting after the erasure sees a version with the user's row.
        IScorer scorer = _model.CreateScorer();
        (_publishedScorer, _unprepared) = (scorer, scorer as IPreparableScorer);
        (float[] trending, float[] totals) = _trending.Snapshot(_publishedItems);
        long learned = Interlocked.Add(ref _learned, _unpublished);
        _unpublished = 0;
        _publish(new PublishedVersion(++_version, scorer, trending, totals, learned, _trending.StreamTicks));
        _publishedAt = _time.GetTimestamp();
    }

    /// <summary>One piece of work for the learner thread and the task it completes.</summary>
    private sealed record Request(Action Work, TaskCompletionSource Done);
}

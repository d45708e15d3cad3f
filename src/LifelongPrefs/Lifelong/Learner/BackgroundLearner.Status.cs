namespace LifelongPrefs.Lifelong;

/// <summary>The learner's state as a health check sees it: running or not, and how far it lags the events.</summary>
internal sealed partial class BackgroundLearner
{
    private long _batchEnqueuedAt;  // _time's timestamp of the oldest entry of the batch being learned

    /// <summary>Gets the state, the queue depth and the age of the oldest event not yet learned. Any thread.</summary>
    internal LearnerStatus Status
    {
        get
        {
            lock (_gate)
            {
                if (_fault is not null)
                {
                    return new LearnerStatus(LearnerState.Faulted, 0, TimeSpan.Zero, _fault);
                }

                // The batch in flight left the queue first, so its oldest entry is older than anything still queued.
                int depth = (int)(_enqueued - _head);
                long? oldest = _inFlight ? _batchEnqueuedAt : depth > 0 ? _enqueuedAt[_head % _ring.Length] : null;
                TimeSpan age = oldest is long at ? _time.GetElapsedTime(at) : TimeSpan.Zero;
                return new LearnerStatus(_stopping ? LearnerState.Stopped : LearnerState.Running, depth, age < TimeSpan.Zero ? TimeSpan.Zero : age, null);
            }
        }
    }
}

using System.Diagnostics;

namespace LifelongPrefs.Lifelong;

/// <summary>The learning of one micro-batch (learner thread only): update, publish, telemetry, and whether to skip a version.</summary>
internal sealed partial class BackgroundLearner
{
    private void Learn(List<Interaction> batch, List<(int User, int Item)> negatives, int users, int items, long end)
    {
        bool published = false;
        long started = Stopwatch.GetTimestamp(), skippedBefore = SkippedSteps;
        using Activity? activity = _telemetry.StartUpdate(batch.Count);
        try
        {
            // Descriptions first, so the update that follows writes the rows of the items they describe.
            foreach ((int item, string text) in _batchTexts)
            {
                _texts?.AddItemText(item, text);
            }

            _batchTexts.Clear();
            foreach ((int user, int item) in negatives)
            {
                _negatives?.AddNegative(user, item);
            }

            if (_drift is not null)
            {
                // Test then train: the sampled purchases are ranked by the published version before this batch is learned.
                _drift.Test(_driftTests, _publishedScorer);
                _driftTests.Clear();
                _drift.BeforeUpdate(_latestTicks);
            }

            _model.Update(batch, users, items);
            foreach (Interaction e in batch)
            {
                _trending.Add(e, items);
            }

            _unpublished += batch.Count;
            if (!SkipVersion(end))
            {
                PublishLearned(items);
                published = true;
            }

            _telemetry.BatchLearned(batch.Count, started, published, _version, SkippedSteps - skippedBefore, SkippedSteps, activity);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _telemetry.LearnerFaulted(ex, batch.Count, activity);
            lock (_gate)
            {
                _fault = ex;
                _inFlight = false;
                _dropped += _enqueued - _head; // nothing will learn them; producers must not wait for room
                _head = _enqueued;
                foreach ((_, TaskCompletionSource done) in _waiters)
                {
                    done.TrySetException(new InvalidOperationException($"The background learner stopped after an error: {ex.Message}", ex));
                }

                _waiters.Clear();
                Monitor.PulseAll(_gate);
            }

            return;
        }

        activity?.Stop(); // before the waiters run: whoever awaited this version sees its activity ended
        lock (_gate)
        {
            _inFlight = false;
            Monitor.PulseAll(_gate); // a replay or a checkpoint may wait for this batch
            if (published)
            {
                _done = Math.Max(_done, end);
                CompleteWaiters();
            }
        }
    }

    /// <summary>
    /// Publishes what the learner has learned as the next version: the model's snapshot scorer, the trending counts of
    /// the first <paramref name="items"/> items, and the count of events learned.
    /// </summary>
    private void PublishLearned(int items)
    {
        IScorer scorer = _model.CreateScorer();
        (_publishedScorer, _unprepared) = (scorer, scorer as IPreparableScorer);
        (float[] trending, float[] totals) = _trending.Snapshot(items);
        _publishedItems = items;
        long learned = Interlocked.Add(ref _learned, _unpublished);
        _publish(new PublishedVersion(++_version, scorer, trending, totals, learned, _trending.StreamTicks));
        (_unpublished, _publishedAt) = (0, _time.GetTimestamp());
    }

    /// <summary>
    /// Publishes the batches learned since the last version when the learner has waited out
    /// <see cref="MinPublishInterval"/> or a flush asks for them (see <see cref="WaitIdle"/>), and completes the waiters
    /// they satisfy.
    /// </summary>
    private void PublishDeferred()
    {
        PublishLearned(_maxItems); // the catalog size of the last batch taken, and every batch taken was learned
        lock (_gate)
        {
            _done = Math.Max(_done, _head); // what left the queue was learned (now published) or dropped
            CompleteWaiters();
        }
    }

    /// <summary>
    /// Whether to leave the batch ending at <paramref name="end"/> unpublished (see the remarks): only with a finite flush
    /// interval, when no flush waits for this batch, and either a full batch waits (a backlog: at most
    /// <see cref="MaxUnpublished"/> between versions) or the last version is younger than <see cref="MinPublishInterval"/>.
    /// </summary>
    private bool SkipVersion(long end)
    {
        TimeSpan age = _time.GetElapsedTime(_publishedAt);
        if (_publishEveryBatch || age >= MaxUnpublished)
        {
            return false;
        }

        lock (_gate)
        {
            if (_stopping)
            {
                return false;
            }

            foreach ((long target, _) in _waiters)
            {
                if (target <= end)
                {
                    return false;
                }
            }

            return _enqueued - _head >= _batchSize || age < MinPublishInterval;
        }
    }

    /// <summary>
    /// Waits, under the gate, while the learner has no batch to learn and something is left over from the last one:
    /// learned batches not yet published, or the newest version's scoring tables not yet built.
    /// </summary>
    /// <remarks>
    /// Learned batches are published once <see cref="MinPublishInterval"/> has passed since the last version, or at once
    /// when a flush waits. The newest version's tables (a whole fp32 or int8 item table: about 10–20 ms at 100,000 items
    /// × 64) are built once the learner has found no work for <see cref="IdleBeforePrepare"/>, so that its idle time pays
    /// them instead of the version's first <c>Recommend</c>. The version is published first, so freshness never waits
    /// for its tables, and a busy learner (a backlog, or batches that fill within the wait) never builds tables that the
    /// next version replaces.
    /// </remarks>
    /// <returns>What to do now; <see cref="IdleWork.None"/> when a batch is ready, nothing is left over, or the learner is asked to stop or park.</returns>
    private IdleWork WaitIdle()
    {
        if (!HasLeftovers)
        {
            return IdleWork.None;
        }

        lock (_gate)
        {
            long since = Stopwatch.GetTimestamp();
            while (!_stopping && _pauseRequests == 0 && !Ready())
            {
                TimeSpan left;
                if (_unpublished > 0 && _fault is null)
                {
                    left = MinPublishInterval - _time.GetElapsedTime(_publishedAt);
                    if (left <= TimeSpan.Zero || _waiters.Count > 0)
                    {
                        return IdleWork.Publish;
                    }
                }
                else
                {
                    left = IdleBeforePrepare - Stopwatch.GetElapsedTime(since);
                    if (left <= TimeSpan.Zero)
                    {
                        return IdleWork.Prepare;
                    }
                }

                Monitor.Wait(_gate, left);
            }

            return IdleWork.None;
        }
    }

    /// <summary>
    /// Whether the last batch left work for <see cref="WaitIdle"/>: learned batches to publish (never after the model
    /// threw: its state may be half updated) or tables to build. Learner thread only, like the fields it reads.
    /// </summary>
    private bool HasLeftovers => (_unpublished > 0 && _fault is null) || _unprepared is not null;

    /// <summary>What the learner does when it has no batch to learn (<see cref="WaitIdle"/>).</summary>
    private enum IdleWork
    {
        /// <summary>Nothing: take the next batch (or stop, or park).</summary>
        None,

        /// <summary>Publish the learned batches (<see cref="PublishDeferred"/>).</summary>
        Publish,

        /// <summary>Build the newest version's scoring tables.</summary>
        Prepare,
    }

    private void CompleteWaiters()
    {
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Target <= _done)
            {
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}

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
                IScorer scorer = _model.CreateScorer();
                PrepareIfIdle(scorer);
                _publishedScorer = scorer;
                (float[] trending, float[] totals) = _trending.Snapshot(items);
                _publishedItems = items;
                long learned = Interlocked.Add(ref _learned, _unpublished);
                _publish(new PublishedVersion(++_version, scorer, trending, totals, learned, _trending.StreamTicks));
                (_unpublished, _publishedAt, published) = (0, _time.GetTimestamp(), true);
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
    /// Whether to leave the batch ending at <paramref name="end"/> unpublished (see the remarks): only with a finite flush
    /// interval, while a full batch waits, no flush waits for this batch, and the last version is recent.
    /// </summary>
    private bool SkipVersion(long end)
    {
        if (_publishEveryBatch || _time.GetElapsedTime(_publishedAt) >= MaxUnpublished)
        {
            return false;
        }

        lock (_gate)
        {
            if (_stopping || _enqueued - _head < _batchSize)
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

            return true;
        }
    }

    /// <summary>
    /// Builds the new version's scoring tables before it is published when no event waits to be learned, so that the
    /// learner's idle time pays them rather than the version's first <c>Recommend</c> (a whole fp32 or int8 item
    /// table: about 10–20 ms at 100,000 items × 64). With events waiting, the first reader builds them as before, so a
    /// backlog is never slowed by it.
    /// </summary>
    private void PrepareIfIdle(IScorer scorer)
    {
        if (scorer is not IPreparableScorer preparable)
        {
            return;
        }

        lock (_gate)
        {
            if (_enqueued != _head || _stopping)
            {
                return;
            }
        }

        preparable.Prepare(_quantized);
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

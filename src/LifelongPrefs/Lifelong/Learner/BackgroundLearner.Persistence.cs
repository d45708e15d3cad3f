namespace LifelongPrefs.Lifelong;

/// <summary>
/// The learner's side of persistence: parking between micro-batches for a checkpoint, its counters, trending counts
/// and queued entries as state sections, and replaying journalled batch boundaries so that recovery learns exactly
/// the batches the original run learned.
/// </summary>
internal sealed partial class BackgroundLearner
{
    private readonly Queue<(long Start, long End)> _cuts = new();
    private int _maxUsers;        // the largest catalog sizes any batch saw (the model grows to them)
    private int _maxItems;
    private int _pauseRequests;
    private bool _paused;
    private bool _replaying;

    /// <summary>Called under the queue lock when the learner takes a batch: its first and end sequence numbers (the journal records them).</summary>
    internal Action<long, long>? BatchTaken { get; set; }

    /// <summary>
    /// Runs <paramref name="action"/> while the learner thread is parked between micro-batches, so the model and the
    /// learner's state do not change under it. Readers are not affected; producers may still queue events (the caller
    /// decides whether it holds the tracker's write lock).
    /// </summary>
    /// <exception cref="InvalidOperationException">The learner stopped after an error.</exception>
    /// <exception cref="ObjectDisposedException">The learner is stopped.</exception>
    internal T WhileParked<T>(Func<T> action)
    {
        lock (_gate)
        {
            _pauseRequests++;
            Monitor.PulseAll(_gate);
            try
            {
                while (!_paused)
                {
                    ObjectDisposedException.ThrowIf(_stopping, this);
                    ThrowIfFaulted();
                    Monitor.Wait(_gate);
                }
            }
            catch
            {
                _pauseRequests--;
                Monitor.PulseAll(_gate);
                throw;
            }
        }

        try
        {
            return action();
        }
        finally
        {
            lock (_gate)
            {
                _pauseRequests--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Copies the queued entries (learner parked, producers held off by the caller).</summary>
    internal QueuedEvent[] Pending()
    {
        lock (_gate)
        {
            var pending = new QueuedEvent[_enqueued - _head];
            for (long s = _head; s < _enqueued; s++)
            {
                pending[s - _head] = _ring[s % _ring.Length];
            }

            return pending;
        }
    }

    /// <summary>Adds the learner's counters and trending counts (learner parked).</summary>
    internal void WriteState(ModelStateWriter writer)
    {
        lock (_gate)
        {
            writer.AddLongs("learner.counters", [_version, Interlocked.Read(ref _learned), _dropped, _head, _enqueued, _unpublished, _maxUsers, _maxItems]);
        }

        _trending.WriteState(writer);
        _drift?.WriteState(writer, _latestTicks);
    }

    /// <summary>Reads and checks the learner's sections; the returned action applies them and the queued entries (learner idle, before any event).</summary>
    internal Action ReadState(ModelStateReader reader, QueuedEvent[] pending)
    {
        long[] c = reader.Longs("learner.counters", 8);
        reader.Require(c[0] >= 0 && c[1] >= 0 && c[2] >= 0 && c[3] >= 0 && c[4] >= c[3] && c[5] >= 0, "learner counters are negative or out of order");
        reader.Require(c[4] - c[3] == pending.Length && pending.Length <= _capacity, $"{pending.Length} queued entries for a queue of {c[4] - c[3]} (capacity {_capacity})");
        reader.Require(c[6] >= 0 && c[6] <= int.MaxValue && c[7] >= 0 && c[7] <= int.MaxValue, "learner catalog sizes out of range");
        Action trending = _trending.ReadState(reader, (int)c[6]);
        Func<long>? drift = _drift?.ReadState(reader);   // absent from checkpoints without drift detection (their options say so)
        return () =>
        {
            lock (_gate)
            {
                (_version, _learned, _dropped, _head, _enqueued, _unpublished) = (c[0], c[1], c[2], c[3], c[4], c[5]);
                (_maxUsers, _maxItems, _done, _cutUntil) = ((int)c[6], (int)c[7], c[3], c[3]);
                for (long s = _head; s < _enqueued; s++)
                {
                    _ring[s % _ring.Length] = pending[s - _head];
                }
            }

            trending();
            if (drift is not null)
            {
                _latestTicks = drift();
            }
        };
    }

    /// <summary>
    /// Publishes the restored model as the current version (after a restore, before any event): the checkpoint's version
    /// again, or the next one when the checkpoint held batches learned but not yet published (then they count as learned).
    /// </summary>
    internal void PublishRestored()
    {
        if (_version == 0 && _unpublished == 0)
        {
            return;
        }

        IScorer scorer = _model.CreateScorer();
        (_publishedScorer, _unprepared) = (scorer, scorer as IPreparableScorer);
        _publishedItems = _maxItems; // what the last learned version had: an erasure replayed next publishes the same
        (float[] trending, float[] totals) = _trending.Snapshot(_maxItems);
        long number = _unpublished > 0 ? ++_version : _version;
        long learned = Interlocked.Add(ref _learned, _unpublished);
        _unpublished = 0;
        _publish(new PublishedVersion(number, scorer, trending, totals, learned, _trending.StreamTicks));
    }

    /// <summary>Starts replay: from now on the learner cuts only the batches <see cref="ReplayCut"/> names.</summary>
    internal void BeginReplay()
    {
        lock (_gate)
        {
            _replaying = true;
        }
    }

    /// <summary>A journalled batch boundary: the learner takes entries <paramref name="start"/> to <paramref name="end"/> (dropping any queued before <paramref name="start"/>).</summary>
    internal void ReplayCut(long start, long end)
    {
        lock (_gate)
        {
            long last = _cuts.Count > 0 ? _cuts.Last().End : _head;
            if (start < last || end <= start || end - start > _batchSize)
            {
                throw new TrackerStateException($"The journal's batch boundary [{start}, {end}) does not follow the previous one (ending at {last}) or exceeds the batch size {_batchSize}.");
            }

            _cuts.Enqueue((start, end));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until every replayed boundary is learned, then returns to cutting batches by count and time.</summary>
    internal void EndReplay()
    {
        lock (_gate)
        {
            AwaitReplayedCuts();
            _replaying = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Waits until every boundary replayed so far is learned, so the queue holds what the live queue held at this point
    /// of the journal (a replayed erasure voids exactly the entries the original one did). Replay thread.
    /// </summary>
    internal void AwaitReplayedCuts()
    {
        lock (_gate)
        {
            while ((_cuts.Count > 0 || _inFlight) && _fault is null)
            {
                if (_cuts.Count > 0 && _enqueued < _cuts.Peek().End)
                {
                    throw new TrackerStateException($"The journal records a batch ending at entry {_cuts.Peek().End}, but only {_enqueued} entries were replayed.");
                }

                Monitor.Wait(_gate);
            }

            ThrowIfFaulted();
        }
    }

    /// <summary>How many entries the next batch takes (under the gate, when <see cref="Ready"/>).</summary>
    private long TakeCount()
    {
        if (!_replaying)
        {
            return Math.Min(_enqueued - _head, _batchSize);
        }

        (long start, long end) = _cuts.Dequeue();
        if (start > _head)
        {
            // The live queue dropped these (QueueFullPolicy.DropOldest) before the batch was taken.
            _dropped += start - _head;
            _head = start;
        }

        return end - _head;
    }

    private void ParkIfAsked()
    {
        if (_pauseRequests > 0 && !_paused && !_inFlight && !HasRequests)
        {
            _paused = true;
            Monitor.PulseAll(_gate);
        }
    }
}

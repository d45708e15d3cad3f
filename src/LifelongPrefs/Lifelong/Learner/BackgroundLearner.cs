using System.Diagnostics;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The tracker's single writer of model state: a dedicated thread that takes micro-batches from a bounded queue,
/// updates the model, and publishes immutable <see cref="PublishedVersion"/>s (after each batch, or at the cadence the remarks give).
/// </summary>
/// <remarks>
/// <para>
/// Producers (the tracker's <c>Observe</c> and <c>Feedback</c>, serialised by the tracker's write lock) and the learner
/// meet only at <see cref="_gate"/>, which guards the ring buffer and the sequence counters. The learner never takes the
/// tracker's write lock, so a producer that waits for queue space while holding that lock cannot deadlock it.
/// </para>
/// <para>
/// Sequence numbers: every queued entry gets the next number (<see cref="_enqueued"/>); an entry leaves the queue by
/// being taken into a batch or dropped (<see cref="QueueFullPolicy.DropOldest"/>); <see cref="_done"/> is the number up
/// to which every entry is either dropped or learned and published. A flush waits until <see cref="_done"/> reaches
/// the count of entries queued when it was called.
/// </para>
/// <para>
/// Publishing: with an infinite flush interval every batch is published, so the versions depend only on the events
/// and the seed. With a finite one (batch boundaries then depend on timing anyway) the learner skips the version of a
/// batch while another full batch is already waiting and the last version is younger than <see cref="MaxUnpublished"/>:
/// it keeps learning every batch, but a backlog does not pay for a snapshot and the writer's copy-on-write copies
/// per batch, so it drains faster and the newest learned state is never more than that much older than the published
/// one. Without a backlog it publishes at most every <see cref="MinPublishInterval"/>: a batch learned sooner is
/// published with the next one or, when none comes, once the learner has waited out the interval, and at once when a
/// flush waits for it, so nothing learned stays unpublished longer than that while the learner waits.
/// </para>
/// </remarks>
internal sealed partial class BackgroundLearner : IDisposable
{
    /// <summary>
    /// How long the published version may lag the learned state while a backlog is being worked off: each version costs
    /// the writer a copy of nearly every chunk it touches afterwards, so a backlog publishes at most this often (500 ms,
    /// within the 1 s freshness goal; at 200 ms a million-user backlog learned half as fast in one alternated pair with
    /// 128 negatives at load 3–7, benchmarks/README.md).
    /// </summary>
    internal static readonly TimeSpan MaxUnpublished = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The shortest time between two versions without a backlog (with a finite flush interval): a batch learned sooner
    /// after the last version is published with the next one, or when the learner has waited this long, or at once for
    /// a flush. At 10,000 events/s the default 256-event batches arrive every 26 ms, and each version makes the writer
    /// copy nearly the whole output table afterwards (copy-on-write): publishing every batch made the learner fall
    /// behind the stream it could otherwise keep up with (benchmarks/README.md). 100 ms is a tenth of the 1 s freshness goal.
    /// </summary>
    internal static readonly TimeSpan MinPublishInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long the learner must find no work before it builds the newest version's scoring tables itself (see
    /// <see cref="WaitIdle"/>). Building them before publishing, whenever the queue was momentarily empty, cost a
    /// million-user warm-up 30% of its events per CPU-second (benchmarks/README.md): at thousands of events per second
    /// the queue empties between most batches, and each table was replaced a few milliseconds later.
    /// </summary>
    internal static readonly TimeSpan IdleBeforePrepare = TimeSpan.FromMilliseconds(50);

    private readonly object _gate = new();
    private readonly IRecommender _model;
    private readonly INegativeFeedbackLearner? _negatives;
    private readonly IItemTextLearner? _texts;
    private readonly List<(int Item, string Text)> _batchTexts = [];
    private readonly TrendingCounts _trending;
    private readonly QueuedEvent[] _ring;
    private readonly long[] _enqueuedAt;  // _time's timestamp of each ring slot's entry (the learner's lag)
    private readonly int _batchSize;
    private readonly int _capacity;
    private readonly QueueFullPolicy _policy;
    private readonly Action<PublishedVersion> _publish;
    private readonly Thread _thread;
    private readonly ITimer? _timer;
    private readonly TimeProvider _time;
    private readonly bool _publishEveryBatch;
    private readonly bool _quantized;  // the reads take the reduced-precision pass (ItemTablePrecision.Quantized)
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly DriftMonitor? _drift;
    private readonly TrackerTelemetry _telemetry;
    private readonly List<QueuedEvent> _driftTests = [];
    private IScorer? _publishedScorer;    // the newest published version's scorer: what the drift tests rank with
    private IPreparableScorer? _unprepared; // the newest version's scorer until the learner has idled long enough to prepare it
    private long _latestTicks = long.MinValue;
    private long _head;           // sequence number of the oldest queued entry
    private long _enqueued;       // sequence number the next entry gets
    private long _cutUntil;       // take short batches until this many entries have left the queue
    private long _done;
    private long _dropped;
    private long _learned;
    private long _unpublished;    // events learned since the last version
    private long _publishedAt;    // _time's timestamp of the last version
    private long _version;
    private bool _stopping;
    private bool _inFlight;
    private Exception? _fault;

    internal BackgroundLearner(IRecommender model, TrackerOptions options, TimeProvider time, Action<PublishedVersion> publish,
        Action<DriftDetection>? drift = null, TrackerTelemetry? telemetry = null)
    {
        _telemetry = telemetry ?? new TrackerTelemetry(null, null);
        _drift = options.Drift.Enabled ? new DriftMonitor(options.Drift, options, model, drift ?? (_ => { })) : null;
        _model = model;
        _negatives = model as INegativeFeedbackLearner;
        _texts = model as IItemTextLearner;
        _trending = new TrendingCounts(options.TrendingHalfLife);
        // One slot more than the capacity: a replayed journal may hold one event more than the live queue did (see Replay).
        _ring = new QueuedEvent[options.QueueCapacity + 1];
        _enqueuedAt = new long[_ring.Length];
        _capacity = options.QueueCapacity;
        _batchSize = options.MicroBatchSize;
        _policy = options.QueueFullPolicy;
        _publish = publish;
        _time = time;
        _publishEveryBatch = options.FlushInterval == Timeout.InfiniteTimeSpan;
        _quantized = options.ItemTablePrecision == ItemTablePrecision.Quantized;
        _publishedAt = time.GetTimestamp();
        _thread = new Thread(Run) { IsBackground = true, Name = "LifelongPrefs learner" };
        _thread.Start();
        if (options.FlushInterval != Timeout.InfiniteTimeSpan)
        {
            _timer = time.CreateTimer(_ => Cut(), null, options.FlushInterval, options.FlushInterval);
        }
    }

    /// <summary>Gets the number of entries waiting.</summary>
    internal int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return (int)(_enqueued - _head);
            }
        }
    }

    /// <summary>Gets the number of entries dropped from the queue under <see cref="QueueFullPolicy.DropOldest"/>.</summary>
    internal long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets the number of events learned and published.</summary>
    internal long Learned => Interlocked.Read(ref _learned);

    /// <summary>Gets the drift monitor (<see langword="null"/> when <see cref="DriftOptions.Enabled"/> is off).</summary>
    internal DriftMonitor? Drift => _drift;

    /// <summary>Gets the optimizer steps the model skipped for non-finite gradients.</summary>
    internal long SkippedSteps => _model is ITrainableRecommender t ? t.Trainer.SkippedSteps : 0;

    /// <summary>
    /// Throws the queue-full <see cref="InvalidOperationException"/> now if the policy is <see cref="QueueFullPolicy.Throw"/>
    /// and there is no room, so that the caller can reject an event before it changes anything. Producer side, under the
    /// tracker's write lock (the queue can only get emptier until the following <see cref="Enqueue"/>).
    /// </summary>
    internal void EnsureRoom()
    {
        lock (_gate)
        {
            if (_policy == QueueFullPolicy.Throw && !_replaying && _enqueued - _head >= _capacity && _fault is null)
            {
                throw new InvalidOperationException(
                    $"The learning queue is full ({_capacity} events, TrackerOptions.QueueCapacity) and TrackerOptions.QueueFullPolicy is Throw; the event was not recorded.");
            }
        }
    }

    /// <summary>Queues one entry, applying the queue-full policy. Producer side, under the tracker's write lock.</summary>
    internal void Enqueue(in QueuedEvent entry)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_fault is not null)
            {
                // The learner has stopped: the event is still in the user's history, but nothing will learn it.
                _dropped++;
                return;
            }

            while (_enqueued - _head >= (_replaying ? _ring.Length : _capacity))
            {
                if (_policy == QueueFullPolicy.DropOldest)
                {
                    _head++;
                    _dropped++;
                }
                else if (_replaying)
                {
                    throw new Persistence.TrackerStateException($"The journal replays more than {_ring.Length} events without a batch boundary; it does not match the options' queue capacity.");
                }
                else
                {
                    // Block (Throw was checked by EnsureRoom): the learner pulses after every batch it takes.
                    Monitor.Wait(_gate);
                    ObjectDisposedException.ThrowIf(_stopping, this);
                    if (_fault is not null)
                    {
                        _dropped++;
                        return;
                    }
                }
            }

            _ring[_enqueued % _ring.Length] = entry;
            _enqueuedAt[_enqueued % _ring.Length] = _time.GetTimestamp();
            _enqueued++;
            if (_enqueued - _head >= _batchSize)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Completes when every entry queued before the call is learned and published (or dropped).</summary>
    internal Task FlushAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowIfFaulted();
            if (_done >= _enqueued)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_enqueued, done));
            _cutUntil = Math.Max(_cutUntil, _enqueued);
            Monitor.PulseAll(_gate);
            return cancellationToken.CanBeCanceled ? done.Task.WaitAsync(cancellationToken) : done.Task;
        }
    }

    /// <summary>Stops the thread without learning what is still queued; pending flushes fail.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        FailRequests();

        _timer?.Dispose();
        _thread.Join();
        lock (_gate)
        {
            foreach ((_, TaskCompletionSource done) in _waiters)
            {
                done.TrySetException(new ObjectDisposedException(nameof(PreferenceTracker)));
            }

            _waiters.Clear();
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new InvalidOperationException($"The background learner stopped after an error: {_fault.Message}", _fault);
        }
    }

    private void Cut()
    {
        lock (_gate)
        {
            if (_enqueued > _cutUntil)
            {
                _cutUntil = _enqueued;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Run()
    {
        var batch = new List<Interaction>(_batchSize);
        var negatives = new List<(int User, int Item)>();
        long end = 0;
        List<Request>? requests;
        while (true)
        {
            switch (WaitIdle())
            {
                case IdleWork.Publish:
                    PublishDeferred();
                    continue;
                case IdleWork.Prepare:
                    IPreparableScorer scorer = _unprepared!;
                    _unprepared = null;
                    scorer.Prepare(_quantized);
                    continue;
            }

            batch.Clear();
            negatives.Clear();
            lock (_gate)
            {
                // Asked to park, the learner still runs waiting requests first (an erasure must precede a checkpoint).
                bool idleWork = false;
                while (!_stopping && ((_pauseRequests > 0 && (_paused || !HasRequests)) || !Ready()))
                {
                    ParkIfAsked();
                    if (_pauseRequests == 0 && HasLeftovers)
                    {
                        // Back from parking with leftovers of the last batch: WaitIdle handles them. No longer parked, so
                        // that the next pause request waits for the learner to park again.
                        (idleWork, _paused) = (true, false);
                        break;
                    }

                    Monitor.Wait(_gate);
                }

                if (idleWork)
                {
                    continue;
                }

                _paused = false;
                if (_stopping)
                {
                    return;
                }

                requests = _replaying && _cuts.Count > 0 ? null : TakeRequests();
                long start = _head;
                long n = requests is null ? TakeCount() : 0;
                for (long s = _head; s < _head + n; s++)
                {
                    QueuedEvent q = _ring[s % _ring.Length];
                    if (q.Voided)
                    {
                        continue;
                    }

                    _maxUsers = Math.Max(_maxUsers, q.Users);
                    _maxItems = Math.Max(_maxItems, q.Items);
                    if (_drift is not null && q.Text is null)
                    {
                        _latestTicks = Math.Max(_latestTicks, q.Event.Ticks);
                        if (_drift.Samples(q))
                        {
                            _driftTests.Add(q);
                        }
                    }

                    if (q.Text is not null)
                    {
                        _batchTexts.Add((q.Event.Item, q.Text));
                    }
                    else if (q.Negative)
                    {
                        negatives.Add((q.Event.User, q.Event.Item));
                    }
                    else
                    {
                        batch.Add(q.Event);
                    }
                }

                _inFlight = true;
                if (requests is null)
                {
                    _batchEnqueuedAt = _enqueuedAt[_head % _ring.Length];
                    _head += n;
                    end = _head;
                    if (!_replaying)
                    {
                        // Journal the boundary under the gate, before any later event can be queued (a replay re-cuts it).
                        BatchTaken?.Invoke(start, end);
                    }

                    Monitor.PulseAll(_gate); // producers waiting for room
                }
            }

            if (requests is not null)
            {
                // Between micro-batches: the model is idle, so a request may change its state.
                RunRequests(requests);
                continue;
            }

            Learn(batch, negatives, _maxUsers, _maxItems, end);
        }
    }

    private bool Ready()
    {
        long queued = _enqueued - _head;
        if (queued == 0 && !_inFlight && _done < _head && _unpublished == 0)
        {
            // Everything left the queue by being published or dropped: those entries are done. (Batches learned but not
            // yet published, see MinPublishInterval, are done when their version is: PublishDeferred.)
            _done = _head;
            CompleteWaiters();
        }

        if (_replaying)
        {
            // A replayed request (an erasure) comes after every boundary replayed before it.
            return _cuts.Count == 0 ? HasRequests : _fault is null && _enqueued >= _cuts.Peek().End;
        }

        return HasRequests || (_fault is null && (queued >= _batchSize || (queued > 0 && _head < _cutUntil)));
    }
}

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The lifelong preference tracker: a long-lived object a shop holds as a singleton and feeds with its event stream.
/// It records every event at once (history, exclusions, freshness of the next recommendation) and learns from them
/// in the background, publishing a new immutable model version after every micro-batch.
/// </summary>
/// <remarks>
/// <para>
/// <b>Ids and time.</b> Everything here speaks the shop's own string ids and time stamps. The tracker's clock is the
/// stream's: the latest event time it has observed ("stream time"), which drives trending, dismissal expiry and
/// feedback time stamps, so a replay of an old log behaves as the live stream did. The <see cref="TimeProvider"/> only
/// paces the learner's <see cref="TrackerOptions.FlushInterval"/>.
/// </para>
/// <para>
/// <b>Thread safety.</b> Every public member may be called from any number of threads at once. Writes —
/// <see cref="Observe(InteractionEvent)"/>, <see cref="Feedback"/>, <see cref="RegisterItem"/> — are serialised by one
/// lock and take microseconds; they never wait for training (except under <see cref="QueueFullPolicy.Block"/> when the
/// learning queue is full). Reads — <see cref="Recommend(string, int, RecommendOptions?)"/>, <see cref="Explain"/>, <see cref="FindAudience"/> — take no
/// lock: each reads exactly one published <see cref="ModelVersion"/> (reported in its answer) plus the user's live
/// history, and neither changes under it. The design note is <c>src/LifelongPrefs/Lifelong/README.md</c>.
/// </para>
/// <para>
/// <b>Determinism.</b> With <see cref="TrackerOptions.FlushInterval"/> infinite the learner cuts micro-batches by count
/// only, so the same events with the same seed give the same model versions and the same recommendations.
/// </para>
/// </remarks>
public sealed partial class PreferenceTracker : IPreferenceTracker, IDisposable, IAsyncDisposable
{
    private readonly TrackerOptions _options;
    private readonly IRecommender _model;
    private readonly BackgroundLearner _learner;
    private readonly TrackerTelemetry _telemetry;
    private readonly object _write = new();
    private readonly ConcurrentIdMap _users = new();
    private readonly ConcurrentIdMap _items = new();
    private readonly ConcurrentIdMap _categories = new();
    private readonly ScratchPool<Scratch> _scratch = new(() => new Scratch());
    private UserLog[] _logs = new UserLog[16];
    private int[] _itemCategory = [];
    private string?[] _itemText = [];
    private PublishedVersion _current = PublishedVersion.Empty;
    private long _streamTicks;
    private long _observed;
    private long _feedback;
    private int _nextBasket;
    private bool _disposed;

    /// <summary>Creates a tracker with the default options and the default learner.</summary>
    public PreferenceTracker()
        : this(null, null, null)
    {
    }

    /// <summary>Creates a tracker with the default learner.</summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it and its value).</exception>
    public PreferenceTracker(TrackerOptions? options)
        : this(options, null, null)
    {
    }

    /// <summary>
    /// Creates a tracker that learns with <paramref name="learner"/>, which it then owns: nothing else may call the
    /// model's writes while the tracker lives. The model's <see cref="IRecommender.Update"/> receives every micro-batch and
    /// its <see cref="IRecommender.CreateScorer"/> makes each published version.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="learner">The model to learn with (any of the library's recommenders; a <see cref="BprMf"/> is wrapped in a <see cref="ContinualLearner"/> with <see cref="TrackerOptions.Continual"/>); <see langword="null"/> for the default learner.</param>
    /// <param name="timeProvider">The clock that paces <see cref="TrackerOptions.FlushInterval"/>; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it and its value).</exception>
    public PreferenceTracker(TrackerOptions? options, IRecommender? learner, TimeProvider? timeProvider)
        : this(options, new TrackerServices { Learner = learner, TimeProvider = timeProvider })
    {
    }

    /// <summary>
    /// Creates a tracker with the given services: its learner, clock, logger factory and meter factory (the telemetry is
    /// described in <c>src/LifelongPrefs/Lifelong/README.md</c>). The tracker keeps a copy of <paramref name="options"/>,
    /// so changing that object later changes nothing.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="services">The optional services; <see langword="null"/>, or any of them <see langword="null"/>, for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it and its value).</exception>
    /// <exception cref="ArgumentNullException"><see cref="TrackerOptions.Drift"/> or <see cref="TrackerOptions.Continual"/> is <see langword="null"/>.</exception>
    /// <exception cref="NotSupportedException"><see cref="TrackerOptions.Persistence"/> is set and the learner is not an <see cref="ISavableRecommender"/> (every library model is; a <see cref="BprMf"/> is wrapped in the savable <see cref="ContinualLearner"/>).</exception>
    /// <exception cref="Persistence.TrackerStateException"><see cref="TrackerOptions.Persistence"/> is set and the checkpoint or journal in its directory is corrupt, from other options, or has a gap.</exception>
    public PreferenceTracker(TrackerOptions? options, TrackerServices? services)
    {
        _options = options?.Copy() ?? new TrackerOptions();
        _options.Validate();
        IRecommender? learner = services?.Learner;
        _model = learner is BprMf bpr ? new ContinualLearner(bpr, _options.Continual) : learner ?? DefaultLearner.Create(_options);
        _telemetry = new TrackerTelemetry(services?.LoggerFactory, services?.MeterFactory);
        _learner = new BackgroundLearner(_model, _options, services?.TimeProvider ?? TimeProvider.System,
            v =>
            {
                Volatile.Write(ref _current, v);
                VersionPublished?.Invoke(v);
            }, RaiseDriftDetected, _telemetry);
        _telemetry.AddGauges(this);
        if (_options.Persistence is not null)
        {
            OpenPersistence(services?.TimeProvider ?? TimeProvider.System);
        }
    }

    /// <summary>Raised on the learner thread after each version is published (tests keep the versions to recompute reads).</summary>
    internal event Action<PublishedVersion>? VersionPublished;

    /// <summary>Gets the tracker's logger, meter and activity source (tests listen to this tracker's own).</summary>
    internal TrackerTelemetry Telemetry => _telemetry;

    /// <summary>Gets the newest published version.</summary>
    internal PublishedVersion CurrentVersion => Volatile.Read(ref _current);

    /// <summary>Gets the shop's id of an item index. Any thread.</summary>
    internal string ItemIdOf(int item) => _items.GetId(item);

    /// <summary>Gets a user's index and kept events (empty for an unknown user). Any thread.</summary>
    /// <remarks>Takes the shop's id: under <see cref="TrackerOptions.Pseudonymization"/> it looks the pseudonym up (hashed on the stack, no allocation).</remarks>
    internal (int User, UserLog? Log) Find(string userId) =>
        TryGetUser(userId, out int user) ? (user, LogOf(user)) : (-1, null);

    /// <summary>Gets a copy of the settings the tracker runs with (a new object on every read: changing it changes nothing).</summary>
    public TrackerOptions Options => _options.Copy();

    /// <summary>Gets the background learner's state, queue depth and lag (what a health check reads). Any thread.</summary>
    public LearnerStatus LearnerStatus => _learner.Status;

    /// <summary>Gets the newest published model version (0 until the learner has published one).</summary>
    public long ModelVersion => Volatile.Read(ref _current).Number;

    /// <summary>Gets the tracker's counters. Any thread; each counter is read on its own.</summary>
    public TrackerStatistics Statistics
    {
        get
        {
            PublishedVersion v = Volatile.Read(ref _current);
            return new TrackerStatistics(Interlocked.Read(ref _observed), _learner.Learned, _learner.QueueDepth,
                _learner.Dropped, v.Number, _users.Count, _items.Count, Interlocked.Read(ref _feedback), _learner.SkippedSteps,
                _learner.Drift?.Tested ?? 0, _learner.Drift?.Detections ?? 0);
        }
    }

    /// <summary>Gets the stream time: the latest event time observed (<see cref="DateTimeOffset.MinValue"/> before any).</summary>
    public DateTimeOffset StreamTime => new(Interlocked.Read(ref _streamTicks), TimeSpan.Zero);

    /// <summary>
    /// Records one event: the user's history, exclusions and freshness change at once; learning is queued.
    /// </summary>
    /// <param name="evt">The event. Its quantity must be positive (any nonzero value for a return), its value finite and not
    /// negative, its ids non-empty and at most <see cref="TrackerOptions.MaxIdLength"/> long, and its time no more than
    /// <see cref="TrackerOptions.LateEventTolerance"/> before the user's latest event. A category in
    /// <see cref="InteractionEvent.Attributes"/> registers the item's category; a text registers its description.</param>
    /// <exception cref="ArgumentNullException"><paramref name="evt"/> or one of its ids is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A field is invalid, or the event is too late; the message names the field and value.
    /// Nothing is recorded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A new user or item would exceed <see cref="TrackerOptions.MaxUsers"/> or <see cref="TrackerOptions.MaxItems"/>.</exception>
    /// <exception cref="InvalidOperationException">The learning queue is full under <see cref="QueueFullPolicy.Throw"/>; nothing is recorded.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    public void Observe(InteractionEvent evt)
    {
        try
        {
            CheckEvent(evt, nameof(evt));
            evt = Keyed(evt);
            lock (_write)
            {
                ThrowIfDisposed();
                CheckAgainstState(evt, nameof(evt), null);
                _learner.EnsureRoom();
                JournalEvent(evt);
                Record(evt);
            }
        }
        catch (Exception ex) when (_telemetry.Rejected(nameof(Observe), ex))
        {
            throw; // never reached: the filter only logs
        }
    }

    /// <summary>
    /// Records a batch of events in order, all or nothing: every event is checked (against the tracker and the events
    /// before it in the batch) before the first is recorded.
    /// </summary>
    /// <param name="events">The events, in time order per user.</param>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or an element is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event is invalid (the message gives its position); nothing is recorded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The new users or items would exceed the options' limits.</exception>
    /// <exception cref="InvalidOperationException">The learning queue is full under <see cref="QueueFullPolicy.Throw"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    public void Observe(IEnumerable<InteractionEvent> events)
    {
        try
        {
            ObserveBatch(events);
        }
        catch (Exception ex) when (_telemetry.Rejected(nameof(Observe), ex))
        {
            throw; // never reached: the filter only logs
        }
    }

    private void ObserveBatch(IEnumerable<InteractionEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        InteractionEvent[] batch = events.ToArray();
        for (int i = 0; i < batch.Length; i++)
        {
            CheckEvent(batch[i], $"{nameof(events)}[{i}]");
            batch[i] = Keyed(batch[i]);
        }

        lock (_write)
        {
            ThrowIfDisposed();
            var pending = new BatchCheck();
            for (int i = 0; i < batch.Length; i++)
            {
                CheckAgainstState(batch[i], $"{nameof(events)}[{i}]", pending);
            }

            foreach (InteractionEvent evt in batch)
            {
                _learner.EnsureRoom();
                JournalEvent(evt);
                Record(evt);
            }
        }
    }

    /// <summary>
    /// Takes the shopper's reaction to a recommended item: a click or purchase is observed as an event; a dismissal
    /// hides the item from that user for <see cref="TrackerOptions.DismissalDuration"/> and becomes a negative example
    /// in the learner's next update; a view of the list is only counted.
    /// </summary>
    /// <param name="userId">The shop's user id (may be new: cold-start users give feedback too).</param>
    /// <param name="itemId">The recommended item; for a dismissal it must be known to the tracker.</param>
    /// <param name="outcome">What the shopper did.</param>
    /// <param name="timestamp">When; <see langword="null"/> for the stream time.</param>
    /// <exception cref="ArgumentNullException">An id is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An id is empty or too long, the item is unknown (dismissal), or the time is too late.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outcome"/> is not defined, or a limit would be exceeded.</exception>
    /// <exception cref="InvalidOperationException">The learning queue is full under <see cref="QueueFullPolicy.Throw"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    public void Feedback(string userId, string itemId, FeedbackOutcome outcome, DateTimeOffset? timestamp = null)
    {
        try
        {
            FeedbackCore(userId, itemId, outcome, timestamp);
        }
        catch (Exception ex) when (_telemetry.Rejected(nameof(Feedback), ex))
        {
            throw; // never reached: the filter only logs
        }
    }

    private void FeedbackCore(string userId, string itemId, FeedbackOutcome outcome, DateTimeOffset? timestamp)
    {
        CheckId(userId, nameof(userId));
        CheckId(itemId, nameof(itemId));
        userId = UserKey(userId);
        if (!Enum.IsDefined(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, $"Feedback outcome {(int)outcome} is not a defined {nameof(FeedbackOutcome)}.");
        }

        lock (_write)
        {
            ThrowIfDisposed();
            DateTimeOffset at = timestamp ?? StreamTime;
            switch (outcome)
            {
                case FeedbackOutcome.Clicked:
                case FeedbackOutcome.Bought:
                    var evt = new InteractionEvent(userId, itemId, at, outcome == FeedbackOutcome.Bought ? EventKind.Purchase : EventKind.Click);
                    CheckEvent(evt, nameof(timestamp));
                    CheckAgainstState(evt, nameof(timestamp), null);
                    _learner.EnsureRoom();
                    JournalFeedback(userId, itemId, outcome, at);
                    Record(evt);
                    break;
                case FeedbackOutcome.Dismissed:
                    Dismiss(userId, itemId, at);
                    break;
                default:
                    JournalFeedback(userId, itemId, outcome, at);
                    break;
            }

            Interlocked.Increment(ref _feedback);
            _telemetry.Feedback();
        }
    }

    /// <summary>
    /// Completes when everything observed before the call has been learned and published as a model version.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the learning itself goes on).</param>
    /// <returns>A task that completes when the learner has caught up.</returns>
    /// <exception cref="InvalidOperationException">The background learner stopped after an error (the inner exception says which).</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _learner.FlushAsync(cancellationToken);
    }

    /// <summary>Stops the background learner at once; queued events are not learned (their histories remain until the tracker is collected).</summary>
    public void Dispose()
    {
        lock (_write)
        {
            _disposed = true;
        }

        _learner.Dispose();
        _telemetry.Dispose();
        _journal?.Dispose();
    }

    /// <summary>Learns everything queued, then stops the background learner.</summary>
    /// <returns>A task that completes when the learner has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!Volatile.Read(ref _disposed))
        {
            try
            {
                await _learner.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // A faulted learner has nothing more to learn; disposing still stops it.
            }
        }

        Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

    private UserLog? LogOf(int user)
    {
        UserLog[] logs = Volatile.Read(ref _logs);
        return user < logs.Length ? logs[user] : null;
    }

    private void Record(InteractionEvent evt)
    {
        int user = UserIndex(evt.UserId);
        int item = ItemIndex(evt.ItemId);
        if (evt.Attributes is { } attributes)
        {
            Describe(item, attributes.Category, attributes.Text);
        }

        UserLog log = _logs[user];
        long ticks = evt.Timestamp.UtcTicks;
        int basket = -1;
        if (evt.BasketId is not null)
        {
            // The same basket id as the user's previous event continues that basket; any other id starts a new one.
            basket = evt.BasketId == log.LastBasketId && log.LastBasket >= 0 ? log.LastBasket : NextBasket();
        }

        var interaction = new Interaction(user, item, ticks, evt.Kind, evt.Quantity, evt.Value, basket);
        long position = log.Appended;
        log.Append(interaction, evt.BasketId, _options.MaxHistoryPerUser);
        if (ticks > _streamTicks)
        {
            Interlocked.Exchange(ref _streamTicks, ticks);
        }

        _learner.Enqueue(new QueuedEvent(interaction, _users.Count, _items.Count, Negative: false, Log: log, Position: position));
        Interlocked.Increment(ref _observed);
        _telemetry.Observed();
    }

    private void Dismiss(string userId, string itemId, DateTimeOffset at)
    {
        if (!_items.TryGetIndex(itemId, out int item))
        {
            throw new ArgumentException($"Item '{itemId}' is not known to the tracker, so it cannot have been recommended.", nameof(itemId));
        }

        if (!_users.TryGetIndex(userId, out _))
        {
            CheckCapacity(_users.Count + 1, _options.MaxUsers, nameof(userId), "users", "MaxUsers");
        }

        _learner.EnsureRoom();
        JournalFeedback(userId, itemId, FeedbackOutcome.Dismissed, at);
        int user = UserIndex(userId);
        long ticks = at.UtcTicks;
        if (_options.DismissalDuration > TimeSpan.Zero)
        {
            long until = ticks > DateTime.MaxValue.Ticks - _options.DismissalDuration.Ticks
                ? DateTime.MaxValue.Ticks
                : ticks + _options.DismissalDuration.Ticks;
            _logs[user].Dismiss(item, until, Math.Max(ticks, Interlocked.Read(ref _streamTicks)));
        }

        var negative = new Interaction(user, item, ticks, EventKind.View, 1f, 0f, -1);
        _learner.Enqueue(new QueuedEvent(negative, _users.Count, _items.Count, Negative: true));
    }

    private int NextBasket()
    {
        int basket = _nextBasket;
        _nextBasket = basket == int.MaxValue ? 0 : basket + 1;
        return basket;
    }

    private int UserIndex(string userId)
    {
        if (_users.TryGetIndex(userId, out int user))
        {
            return user;
        }

        AddLog();
        return _users.GetOrAdd(userId);
    }

    /// <summary>Gives the next user index its empty log: the log exists before the id is published, so a reader that finds the user always finds its log.</summary>
    private void AddLog()
    {
        int next = _users.Count;
        if (next == _logs.Length)
        {
            var grown = new UserLog[_logs.Length * 2];
            _logs.AsSpan().CopyTo(grown);
            Volatile.Write(ref _logs, grown);
        }

        _logs[next] = new UserLog();
    }
}

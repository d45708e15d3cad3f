using System.Globalization;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// A <see cref="PreferenceTracker"/> behind <see cref="IRecommender"/>, so that the evaluation protocols measure the
/// tracker exactly as a shop uses it: <see cref="Fit"/> starts a new tracker and feeds it the events through
/// <see cref="PreferenceTracker.Observe(IEnumerable{InteractionEvent})"/>, <see cref="Update"/> observes more, and both wait for the
/// background learner (<see cref="PreferenceTracker.FlushAsync"/>); scores come from the tracker's published version and
/// its own copy of each user's history.
/// </summary>
/// <remarks>
/// Dense indices become ids by their decimal text; every item index below the catalog size is registered first, so the
/// tracker's item order equals the caller's. Scoring ignores the history argument: the tracker scores with the events
/// it observed, which for the protocols are the same. Item descriptions a protocol hands over (the catalog a shop
/// knows before its items sell) are registered with the items, before any event. Reads are as thread-safe as the
/// tracker's; <see cref="Fit"/> and <see cref="Update"/> are exclusive.
/// </remarks>
/// <param name="create">Makes the tracker for each <see cref="Fit"/> (for example with the options under test).</param>
public sealed class TrackerRecommender(Func<PreferenceTracker> create) : IRecommender, IItemTextLearner, IDisposable
{
    private readonly Func<PreferenceTracker> _create = create ?? throw new ArgumentNullException(nameof(create));
    private PreferenceTracker? _tracker;
    private int _registered;
    private string?[] _texts = [];

    /// <inheritdoc/>
    public string Name => "Tracker";

    /// <summary>Gets the tracker of the latest <see cref="Fit"/> (<see langword="null"/> before the first).</summary>
    public PreferenceTracker? Tracker => _tracker;

    /// <inheritdoc/>
    public int ItemCount => _tracker?.CurrentVersion.ModelItems ?? 0;

    /// <inheritdoc/>
    /// <remarks>Progress is not reported; cancellation is checked before the events are observed.</remarks>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        cancellationToken.ThrowIfCancellationRequested();
        _tracker?.Dispose();
        _tracker = _create();
        _registered = 0;
        Feed(events, itemCount);
    }

    /// <inheritdoc/>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(newEvents);
        if (_tracker is null)
        {
            Fit(newEvents, userCount, itemCount);
            return;
        }

        Feed(newEvents, itemCount);
    }

    /// <inheritdoc/>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        PreferenceTracker tracker = _tracker ?? throw new InvalidOperationException("Fit the recommender before scoring.");
        tracker.ScoreAll(Id(user), scores);
    }

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    /// <remarks>The published version's scorer: it scores with the history it is given, as every scorer does.</remarks>
    public IScorer CreateScorer() =>
        _tracker?.CurrentVersion.Scorer ?? throw new InvalidOperationException("Fit the recommender (and let it learn) before creating a scorer.");

    /// <summary>Keeps the description for the item's registration (at once if the item is registered already).</summary>
    void IItemTextLearner.AddItemText(int item, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(item);
        if (item >= _texts.Length)
        {
            Array.Resize(ref _texts, Math.Max(item + 1, 2 * _texts.Length));
        }

        _texts[item] = text;
        if (item < _registered)
        {
            _tracker!.RegisterItem(Id(item), null, text);
        }
    }

    /// <summary>Stops the tracker's learner.</summary>
    public void Dispose() => _tracker?.Dispose();

    private static string Id(int index) => index.ToString(CultureInfo.InvariantCulture);

    private void Feed(IReadOnlyList<Interaction> events, int itemCount)
    {
        PreferenceTracker tracker = _tracker!;
        for (; _registered < itemCount; _registered++)
        {
            tracker.RegisterItem(Id(_registered), null, _registered < _texts.Length ? _texts[_registered] : null);
        }

        // The tracker takes each user's events in time order; a log sorted otherwise is replayed by time (stable).
        foreach (Interaction e in events.OrderBy(e => e.Ticks))
        {
            tracker.Observe(new InteractionEvent(Id(e.User), Id(e.Item), new DateTimeOffset(e.Ticks, TimeSpan.Zero), e.Kind,
                e.Quantity == 0f && e.Kind != EventKind.Return ? 1f : e.Quantity, Math.Max(0f, e.Value),
                e.Basket >= 0 ? Id(e.Basket) : null));
        }

        tracker.FlushAsync().GetAwaiter().GetResult();
    }
}

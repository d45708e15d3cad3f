using System.Collections.ObjectModel;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The learner thread's drift watch (<see cref="DriftOptions"/>): picks the purchases to test, ranks each with the
/// newest published version and the history its user had when it arrived, feeds the misses to a global detector and
/// to one per <see cref="DriftSegment"/>, keeps the recent detections, and scales the learner's learning rate for a
/// stretch of stream time after a detected rise.
/// </summary>
/// <remarks>
/// <para>
/// <b>The signal.</b> A tested purchase's loss is its miss at the cutoff: 0 when the bought item ranks among the top
/// <see cref="DriftOptions.Cutoff"/> of the whole catalog (higher score first, ties to the lower index, re-buys allowed,
/// as <c>PrequentialProtocol</c> ranks), else 1. A binary loss has a known variance (p·(1 − p)), which is what ADWIN's
/// bound and Page-Hinkley's δ are tuned for, and it is the hit the shop sees; 1 − reciprocal rank would weigh the top
/// more but move less when the tail changes. The history is the user's kept events before the purchase's basket (the
/// basket's own earlier items are left out, as the protocols leave them), without the items the version does not know.
/// A purchase is skipped (not tested, the sample does not move on) when there is no version yet, the version does not
/// know the item, or the history is shorter than <see cref="TrackerOptions.MinEventsForPersonalization"/> (the tracker
/// would answer from trending).
/// </para>
/// <para>
/// <b>Threads.</b> Only the learner thread calls <see cref="Samples"/>, <see cref="Test"/> and <see cref="BeforeUpdate"/>;
/// <see cref="History"/> and <see cref="Detections"/> may be read from any thread. The report callback runs on the
/// learner thread.
/// </para>
/// </remarks>
internal sealed partial class DriftMonitor
{
    private readonly DriftOptions _options;
    private readonly int _minHistory, _maxHistory;
    private readonly IDriftReactiveLearner? _reactive;
    private readonly Action<DriftDetection> _report;
    private readonly Watch _global;
    private readonly Watch[] _segments;
    private readonly long _reactionTicks;
    private DriftDetection[] _recent = [];
    private ReadOnlyCollection<DriftDetection> _history = new([]);
    private Interaction[] _buffer = new Interaction[16];
    private float[] _scores = [];
    private long _purchases, _tested, _detections;
    private long _until = long.MinValue;

    internal DriftMonitor(DriftOptions options, TrackerOptions tracker, IRecommender model, Action<DriftDetection> report)
    {
        _options = options;
        (_minHistory, _maxHistory) = (tracker.MinEventsForPersonalization, tracker.MaxHistoryPerUser);
        _reactive = options.LearningRateMultiplier > 1 ? model as IDriftReactiveLearner : null;
        _report = report;
        _global = new Watch(options.CreateDetector());
        _segments = new Watch[options.PerSegment ? DriftSegment.Tiers * DriftSegment.Tiers : 0];
        for (int i = 0; i < _segments.Length; i++)
        {
            _segments[i] = new Watch(options.CreateDetector());
        }

        _reactionTicks = options.ReactionDuration.Ticks;
    }

    /// <summary>Gets the recent detections, oldest first (an immutable snapshot). Any thread.</summary>
    internal IReadOnlyList<DriftDetection> History => Volatile.Read(ref _history);

    /// <summary>Gets the number of detections since the start. Any thread.</summary>
    internal long Detections => Interlocked.Read(ref _detections);

    /// <summary>Gets the number of purchases tested since the start. Any thread.</summary>
    internal long Tested => Interlocked.Read(ref _tested);

    /// <summary>Whether <paramref name="entry"/> is in the sample: every <see cref="DriftOptions.SampleEvery"/>-th purchase taken from the queue.</summary>
    internal bool Samples(in QueuedEvent entry)
    {
        if (entry.Log is null || entry.Negative || entry.Text is not null || entry.Event.Kind != EventKind.Purchase)
        {
            return false;
        }

        return _purchases++ % _options.SampleEvery == 0;
    }

    /// <summary>Tests the sampled purchases of a batch with <paramref name="scorer"/> (the newest published version), before the batch is learned.</summary>
    internal void Test(List<QueuedEvent> sampled, IScorer? scorer)
    {
        if (scorer is null)
        {
            return;
        }

        foreach (QueuedEvent entry in sampled)
        {
            TestOne(entry, scorer);
        }
    }

    /// <summary>Sets the learner's learning-rate scale for a batch whose newest event is at <paramref name="streamTicks"/>.</summary>
    internal void BeforeUpdate(long streamTicks)
    {
        if (_reactive is null)
        {
            return;
        }

        float scale = streamTicks < _until ? (float)_options.LearningRateMultiplier : 1f;
        if (_reactive.LearningRateScale != scale)
        {
            _reactive.LearningRateScale = scale;
        }
    }

    private void TestOne(in QueuedEvent entry, IScorer scorer)
    {
        Interaction e = entry.Event;
        int items = scorer.ItemCount;
        if (e.Item >= items)
        {
            return;
        }

        ReadOnlySpan<Interaction> before = entry.Log!.Before(entry.Position, _maxHistory);
        int end = before.Length;
        while (end > 0 && before[end - 1].BasketKey == e.BasketKey)
        {
            end--;   // the basket's own earlier items: the test ranks the basket as it starts
        }

        before = before[..end];
        if (before.Length < _minHistory || before.Length == 0)
        {
            return;
        }

        // The segment from the whole kept history; the scorer's history without items the version does not know.
        int baskets = 0, known = 0;
        if (_buffer.Length < before.Length)
        {
            _buffer = new Interaction[Math.Max(before.Length, 2 * _buffer.Length)];
        }

        for (int i = 0; i < before.Length; i++)
        {
            if (i == 0 || before[i].BasketKey != before[i - 1].BasketKey)
            {
                baskets++;
            }

            if (before[i].Item < items)
            {
                _buffer[known++] = before[i];
            }
        }

        double days = TimeSpan.FromTicks(Math.Max(0, e.Ticks - before[^1].Ticks)).TotalDays;
        DriftSegment segment = DriftSegment.Of(baskets, days);
        if (_scores.Length < items)
        {
            _scores = new float[Math.Max(items, 2 * _scores.Length)];
        }

        Span<float> scores = _scores.AsSpan(0, items);
        scorer.Score(e.User, _buffer.AsSpan(0, known), scores);
        double miss = Rank(scores, e.Item, _options.Cutoff) < _options.Cutoff ? 0 : 1;
        Interlocked.Increment(ref _tested);
        Feed(_global, DriftSegment.Global, miss, e.Ticks);
        if (_segments.Length > 0)
        {
            Feed(_segments[segment.Index], segment, miss, e.Ticks);
        }
    }

    /// <summary>The item's 0-based rank (higher score first, ties to the lower index), counted only up to <paramref name="cutoff"/>; a NaN score ranks last.</summary>
    internal static int Rank(ReadOnlySpan<float> scores, int item, int cutoff)
    {
        float target = scores[item];
        if (float.IsNaN(target))
        {
            return int.MaxValue;
        }

        int rank = 0;
        for (int i = 0; i < scores.Length && rank < cutoff; i++)
        {
            float s = scores[i];
            if (s > target || (s == target && i < item))
            {
                rank++;
            }
        }

        return rank;
    }

    private void Feed(Watch watch, DriftSegment segment, double miss, long ticks)
    {
        if (!watch.Add(miss, out double before, out double after))
        {
            return;
        }

        bool react = _reactive is not null && after > before && (segment.IsGlobal || _options.ReactToSegments);
        if (react)
        {
            long until = ticks > long.MaxValue - _reactionTicks ? long.MaxValue : ticks + _reactionTicks;
            _until = Math.Max(_until, until);
        }

        var detection = new DriftDetection(new DateTimeOffset(ticks, TimeSpan.Zero), segment, _options.Detector, before, after, watch.Tested, react);
        Remember(detection);
        _report(detection);
    }

    /// <summary>Appends to the bounded history and publishes a new immutable snapshot (detections are rare: a copy each is cheap).</summary>
    private void Remember(in DriftDetection detection)
    {
        DriftDetection[] old = _recent;
        int keep = Math.Min(old.Length, _options.HistoryCapacity - 1);
        var fresh = new DriftDetection[keep + 1];
        old.AsSpan(old.Length - keep).CopyTo(fresh);
        fresh[keep] = detection;
        _recent = fresh;
        Volatile.Write(ref _history, new ReadOnlyCollection<DriftDetection>(fresh));
        Interlocked.Increment(ref _detections);
    }

    /// <summary>One detector and what it takes to say what changed when it fires.</summary>
    private sealed partial class Watch(IDriftDetector detector)
    {
        private long _run, _atMinimum;      // Page-Hinkley: values since its last restart, and up to its sum's minimum
        private double _runSum, _minimumSum;

        internal IDriftDetector Detector => detector;

        internal long Tested { get; private set; }

        /// <summary>Feeds one miss; on a detection returns the miss rates before and after the change.</summary>
        internal bool Add(double miss, out double before, out double after)
        {
            Tested++;
            long count = detector.Count;
            double total = (detector.Mean * count) + miss;   // the window's sum with this value, before any cut
            bool fired = detector.Add(miss);
            (_run, _runSum) = (_run + 1, _runSum + miss);
            if (detector is PageHinkley ph)
            {
                if (!fired)
                {
                    if (ph.Statistic == 0)
                    {
                        (_atMinimum, _minimumSum) = (_run, _runSum);   // a new minimum: the change point estimate moves here
                    }

                    (before, after) = (0, 0);
                    return false;
                }

                after = _run > _atMinimum ? (_runSum - _minimumSum) / (_run - _atMinimum) : _runSum / _run;
                before = _atMinimum > 0 ? _minimumSum / _atMinimum : after;
                (_run, _runSum, _atMinimum, _minimumSum) = (0, 0, 0, 0);
                return true;
            }

            (before, after) = (0, 0);
            if (!fired)
            {
                return false;
            }

            // ADWIN dropped its oldest part: its mean is what the window held before the change.
            long kept = detector.Count, dropped = count + 1 - kept;
            after = detector.Mean;
            before = dropped > 0 ? (total - (after * kept)) / dropped : after;
            return true;
        }
    }
}

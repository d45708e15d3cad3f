using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// One tracker's logger, meter and activity source (all named <c>LifelongPrefs</c>), and the few calls the tracker and
/// its learner make into them. With nothing listening every call is a flag test: no timestamp is taken, no activity
/// or tag is created, nothing is allocated (<c>TrackerTelemetryTests</c> checks the recommend path).
/// </summary>
/// <remarks>
/// The activity source is the tracker's own (sources with one name may coexist), so that a listener can tell two
/// trackers apart; it and a meter the tracker created itself are disposed with the tracker. A meter from an
/// <see cref="IMeterFactory"/> belongs to the factory.
/// </remarks>
internal sealed class TrackerTelemetry : IDisposable
{
    /// <summary>The name of the meter and of the activity source.</summary>
    internal const string Name = "LifelongPrefs";

    private readonly bool _ownsMeter;
    private readonly Counter<long> _observed;
    private readonly Counter<long> _feedback;
    private readonly Counter<long> _recommendations;
    private readonly Histogram<double> _updateDuration;
    private readonly Histogram<double> _recommendDuration;

    internal TrackerTelemetry(ILoggerFactory? loggers, IMeterFactory? meters)
    {
        Logger = loggers?.CreateLogger<PreferenceTracker>() ?? NullLogger<PreferenceTracker>.Instance;
        _ownsMeter = meters is null;
        Meter = meters?.Create(new MeterOptions(Name)) ?? new Meter(Name);
        Source = new ActivitySource(Name);
        _observed = Meter.CreateCounter<long>("lifelongprefs.events.observed", "{event}", "Events accepted by Observe (feedback clicks and purchases included).");
        _feedback = Meter.CreateCounter<long>("lifelongprefs.feedback", "{feedback}", "Feedback calls accepted, every outcome.");
        _recommendations = Meter.CreateCounter<long>("lifelongprefs.recommendations", "{request}", "Recommend and RecommendInto calls answered.");
        _updateDuration = Meter.CreateHistogram<double>("lifelongprefs.update.duration", "ms", "Time to learn one micro-batch and publish its version.");
        _recommendDuration = Meter.CreateHistogram<double>("lifelongprefs.recommend.duration", "ms", "Time to answer one Recommend or RecommendInto call.");
    }

    /// <summary>Gets the logger (a null logger without a factory).</summary>
    internal ILogger Logger { get; }

    /// <summary>Gets the meter named <c>LifelongPrefs</c>.</summary>
    internal Meter Meter { get; }

    /// <summary>Gets the tracker's activity source named <c>LifelongPrefs</c>.</summary>
    internal ActivitySource Source { get; }

    /// <summary>Adds the gauges, which read the tracker when a listener collects (so only once it is fully built).</summary>
    internal void AddGauges(PreferenceTracker tracker)
    {
        Meter.CreateObservableGauge("lifelongprefs.queue.depth", () => tracker.LearnerStatus.QueueDepth, "{event}", "Events waiting for the learner.");
        Meter.CreateObservableGauge("lifelongprefs.model.version", () => tracker.ModelVersion, "{version}", "The newest published model version.");
        Meter.CreateObservableGauge("lifelongprefs.learner.lag", () => tracker.LearnerStatus.OldestUnlearnedAge.TotalMilliseconds, "ms",
            "How long the oldest event not yet learned has waited.");
    }

    internal void Observed() => _observed.Add(1);

    internal void Feedback() => _feedback.Add(1);

    /// <summary>Starts timing a read: a timestamp when the duration histogram is listened to, else 0.</summary>
    internal long RecommendStarting() => _recommendDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Starts the activity around one recommendation (<see langword="null"/>, and nothing allocated, without a listener).</summary>
    internal Activity? StartRecommend(int k)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity("LifelongPrefs.Recommend");
        activity?.SetTag("lifelongprefs.k", k);
        return activity;
    }

    /// <summary>Counts an answered read and records its duration and version.</summary>
    internal void Recommended(long started, Activity? activity, long version, int count)
    {
        _recommendations.Add(1);
        if (started != 0)
        {
            _recommendDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        if (activity is not null)
        {
            activity.SetTag("lifelongprefs.model.version", version);
            activity.SetTag("lifelongprefs.count", count);
        }
    }

    /// <summary>Starts the activity around one micro-batch update, on the learner thread.</summary>
    internal Activity? StartUpdate(int events)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity("LifelongPrefs.Update");
        activity?.SetTag("lifelongprefs.batch.size", events);
        return activity;
    }

    /// <summary>Records one learned micro-batch: duration, skipped steps, the debug line.</summary>
    internal void BatchLearned(int events, long started, bool published, long version, long skipped, long totalSkipped, Activity? activity)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        _updateDuration.Record(elapsed.TotalMilliseconds);
        Logger.BatchLearned(events, elapsed.TotalMilliseconds, published, version);
        if (skipped > 0)
        {
            Logger.StepsSkipped(skipped, events, totalSkipped);
        }

        activity?.SetTag("lifelongprefs.model.version", version);
        activity?.SetTag("lifelongprefs.published", published);
    }

    /// <summary>Logs the error that stopped the learner.</summary>
    internal void LearnerFaulted(Exception exception, int events, Activity? activity)
    {
        Logger.LearnerFaulted(exception, events);
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
    }

    /// <summary>Logs a detection (no user ids: a segment is a pair of tiers).</summary>
    internal void DriftDetected(in DriftDetection d)
    {
        if (Logger.IsEnabled(LogLevel.Information))
        {
            Logger.DriftDetected(d.Detector, d.Segment.ToString(), d.StreamTime, d.MissRateBefore, d.MissRateAfter, d.Tested, d.Reacted);
        }
    }

    /// <summary>
    /// Logs a rejected input at Debug and returns <see langword="false"/>, for an exception filter: the exception
    /// flies on untouched. Disposal is not a rejected input.
    /// </summary>
    internal bool Rejected(string operation, Exception exception)
    {
        if (exception is ArgumentException or InvalidOperationException && exception is not ObjectDisposedException
            && Logger.IsEnabled(LogLevel.Debug))
        {
            Logger.InputRejected(operation, exception.GetType().Name, exception.Message);
        }

        return false;
    }

    public void Dispose()
    {
        Source.Dispose();
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}

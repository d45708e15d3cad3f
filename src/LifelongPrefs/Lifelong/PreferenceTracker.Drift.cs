namespace LifelongPrefs.Lifelong;

/// <summary>Drift reporting: the event the learner raises on a detection, and the recent detections.</summary>
public sealed partial class PreferenceTracker
{
    private long _driftHandlerFailures;

    /// <summary>
    /// Raised when the drift monitor (<see cref="TrackerOptions.Drift"/>) detects a change of the prequential miss rate,
    /// globally or in one segment.
    /// </summary>
    /// <remarks>
    /// Raised on the tracker's learner thread, between the tests of a micro-batch and its update, so learning waits
    /// while a handler runs: handlers must be quick (hand the detection to a queue or a log) and must not call back into
    /// the tracker's flush or disposal. A handler that throws is skipped — its exception is swallowed and counted, the
    /// other handlers still run, and the learner goes on. With an infinite <see cref="TrackerOptions.FlushInterval"/> the
    /// same events and seed raise the same detections in the same order.
    /// </remarks>
    public event EventHandler<DriftDetectedEventArgs>? DriftDetected;

    /// <summary>
    /// Gets the most recent detections, oldest first, at most <see cref="DriftOptions.HistoryCapacity"/>: an immutable
    /// snapshot (later detections replace the list, never change it). Any thread; empty when drift detection is off.
    /// </summary>
    public IReadOnlyList<DriftDetection> DriftHistory => _learner.Drift?.History ?? [];

    /// <summary>Gets how many times a <see cref="DriftDetected"/> handler threw (tests check that learning went on).</summary>
    internal long DriftHandlerFailures => Interlocked.Read(ref _driftHandlerFailures);

    /// <summary>Runs every handler on the learner thread, each guarded so that one that throws harms neither the others nor the learner.</summary>
    private void RaiseDriftDetected(DriftDetection detection)
    {
        _telemetry.DriftDetected(detection);
        EventHandler<DriftDetectedEventArgs>? handlers = DriftDetected;
        if (handlers is null)
        {
            return;
        }

        var args = new DriftDetectedEventArgs(detection);
        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<DriftDetectedEventArgs>)handler)(this, args);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _driftHandlerFailures);
            }
        }
    }
}

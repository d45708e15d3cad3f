namespace LifelongPrefs.Lifelong;

/// <summary>
/// The background learner's state at one moment (<see cref="PreferenceTracker.LearnerStatus"/>): what a health check
/// reads to tell whether the published model keeps up with the events.
/// </summary>
/// <param name="State">Whether the learner runs, stopped after an error, or was stopped by disposal.</param>
/// <param name="QueueDepth">Events waiting for the learner (the batch it is learning not included).</param>
/// <param name="OldestUnlearnedAge">
/// How long the oldest event not yet learned has been waiting, on the tracker's <see cref="TimeProvider"/> (the batch in
/// progress included); <see cref="TimeSpan.Zero"/> when the learner has caught up.
/// </param>
/// <param name="Fault">The error that stopped the learner (<see cref="LearnerState.Faulted"/> only).</param>
public readonly record struct LearnerStatus(LearnerState State, int QueueDepth, TimeSpan OldestUnlearnedAge, Exception? Fault);

/// <summary>The background learner's state (<see cref="LearnerStatus.State"/>).</summary>
public enum LearnerState
{
    /// <summary>Learning (or waiting for events).</summary>
    Running = 0,

    /// <summary>Stopped after its model threw; events are still recorded but no longer learned.</summary>
    Faulted = 1,

    /// <summary>Stopped because the tracker was disposed.</summary>
    Stopped = 2,
}

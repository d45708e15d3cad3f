namespace LifelongPrefs.Lifelong;

/// <summary>Counters of a <see cref="PreferenceTracker"/> at one moment (each read on its own; not one atomic snapshot).</summary>
/// <param name="EventsObserved">Events accepted by <c>Observe</c> (feedback clicks and purchases included).</param>
/// <param name="EventsLearned">Events the learner has trained on and published.</param>
/// <param name="QueueDepth">Events waiting for the learner.</param>
/// <param name="EventsDroppedFromLearning">Events dropped from the learning queue under <see cref="QueueFullPolicy.DropOldest"/>.</param>
/// <param name="ModelVersion">The newest published model version (0 before the first).</param>
/// <param name="Users">Distinct users known.</param>
/// <param name="Items">Distinct items known.</param>
/// <param name="FeedbackReceived">Feedback calls accepted, by every outcome.</param>
/// <param name="SkippedSteps">Optimizer steps the learner skipped because a gradient was NaN or infinite.</param>
/// <param name="DriftTests">Purchases the drift monitor ranked before learning them (0 unless <see cref="DriftOptions.Enabled"/>).</param>
/// <param name="DriftsDetected">Drifts detected, globally and per segment (<see cref="PreferenceTracker.DriftHistory"/> keeps the recent ones).</param>
public readonly record struct TrackerStatistics(
    long EventsObserved,
    long EventsLearned,
    int QueueDepth,
    long EventsDroppedFromLearning,
    long ModelVersion,
    int Users,
    int Items,
    long FeedbackReceived,
    long SkippedSteps,
    long DriftTests,
    long DriftsDetected);

using Microsoft.Extensions.Logging;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The tracker's log messages, source-generated (no boxing, no formatting unless the level is enabled). Event ids
/// 1100–1199 belong to the core library; the hosting package uses 1200–1299. Messages at Information and above never
/// carry a shop's user id: only the Debug message of a rejected input repeats the exception's text.
/// </summary>
internal static partial class TrackerLog
{
    /// <summary>The event ids, stable across versions (dashboards and alerts filter on them).</summary>
    internal static class Ids
    {
        internal const int BatchLearned = 1100;
        internal const int StepsSkipped = 1101;
        internal const int DriftDetected = 1102;
        internal const int InputRejected = 1103;
        internal const int LearnerFaulted = 1104;
    }

    [LoggerMessage(EventId = Ids.BatchLearned, EventName = "BatchLearned", Level = LogLevel.Debug,
        Message = "Learned a micro-batch of {EventCount} events in {ElapsedMilliseconds:F1} ms; published {Published}, model version {ModelVersion}")]
    internal static partial void BatchLearned(this ILogger logger, int eventCount, double elapsedMilliseconds, bool published, long modelVersion);

    [LoggerMessage(EventId = Ids.StepsSkipped, EventName = "StepsSkipped", Level = LogLevel.Warning,
        Message = "The learner skipped {SkippedSteps} optimizer step(s) of a micro-batch of {EventCount} events because a gradient was NaN or infinite ({TotalSkippedSteps} skipped in all); the parameters were left as they were")]
    internal static partial void StepsSkipped(this ILogger logger, long skippedSteps, int eventCount, long totalSkippedSteps);

    [LoggerMessage(EventId = Ids.DriftDetected, EventName = "DriftDetected", Level = LogLevel.Information,
        Message = "Drift detected by {Detector} in segment {Segment} at stream time {StreamTime:O}: miss rate {MissRateBefore:F3} -> {MissRateAfter:F3} after {Tested} tests; learner reacted: {Reacted}")]
    internal static partial void DriftDetected(this ILogger logger, DriftDetectorKind detector, string segment, DateTimeOffset streamTime,
        double missRateBefore, double missRateAfter, long tested, bool reacted);

    // Debug only: the exception's message may name the shop's ids.
    [LoggerMessage(EventId = Ids.InputRejected, EventName = "InputRejected", Level = LogLevel.Debug,
        Message = "Rejected {Operation} ({ExceptionType}): {Reason}")]
    internal static partial void InputRejected(this ILogger logger, string operation, string exceptionType, string reason);

    [LoggerMessage(EventId = Ids.LearnerFaulted, EventName = "LearnerFaulted", Level = LogLevel.Error,
        Message = "The background learner stopped after an error in a micro-batch of {EventCount} events; events are still recorded but no longer learned")]
    internal static partial void LearnerFaulted(this ILogger logger, Exception exception, int eventCount);
}

using System.Globalization;
using LifelongPrefs.Lifelong;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>
/// Reports the tracker's learner: <c>Unhealthy</c> when it stopped after an error or was disposed, <c>Degraded</c> when
/// it lags the events by more than the options allow, else <c>Healthy</c>. The data carry the state, the queue depth
/// and the lag in milliseconds. Cheap (one lock of the learner's queue): safe to poll often.
/// </summary>
internal sealed class LifelongPrefsHealthCheck(PreferenceTracker tracker, LifelongPrefsHealthCheckOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        LearnerStatus status = tracker.LearnerStatus;
        var data = new Dictionary<string, object>
        {
            ["state"] = status.State.ToString(),
            ["queueDepth"] = status.QueueDepth,
            ["lagMilliseconds"] = status.OldestUnlearnedAge.TotalMilliseconds,
            ["modelVersion"] = tracker.ModelVersion,
        };

        HealthCheckResult result = status.State switch
        {
            LearnerState.Faulted => new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy,
                "The learner stopped after an error; events are recorded but no longer learned.", status.Fault, data),
            LearnerState.Stopped => new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy,
                "The tracker is disposed.", null, data),
            _ when status.OldestUnlearnedAge > options.MaxLag || status.QueueDepth > options.MaxQueueDepth => HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture,
                    $"The learner lags: {status.QueueDepth} events queued, the oldest waiting {status.OldestUnlearnedAge.TotalSeconds:F1} s (limits {options.MaxQueueDepth} events, {options.MaxLag.TotalSeconds:F1} s)."),
                null, data),
            _ => HealthCheckResult.Healthy(
                string.Create(CultureInfo.InvariantCulture, $"{status.QueueDepth} events queued, lag {status.OldestUnlearnedAge.TotalMilliseconds:F0} ms."), data),
        };
        return Task.FromResult(result);
    }
}

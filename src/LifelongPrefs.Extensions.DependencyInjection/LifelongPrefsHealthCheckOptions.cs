namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>
/// When the LifelongPrefs health check reports <c>Degraded</c>: the learner is behind by more than
/// <see cref="MaxLag"/> or holds more than <see cref="MaxQueueDepth"/> events. A learner stopped by an error is
/// always <c>Unhealthy</c>; otherwise the check is <c>Healthy</c>.
/// </summary>
public sealed class LifelongPrefsHealthCheckOptions
{
    /// <summary>Gets or sets the longest time the oldest event not yet learned may wait while the check stays healthy.</summary>
    /// <value>Default 30 seconds; positive.</value>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the most events that may wait for the learner while the check stays healthy.</summary>
    /// <value>Default <see cref="int.MaxValue"/> (the depth alone never degrades); at least 1.</value>
    public int MaxQueueDepth { get; set; } = int.MaxValue;

    /// <summary>Throws for a threshold that makes no sense, naming it and its value.</summary>
    internal void Validate()
    {
        if (MaxLag <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLag), MaxLag, $"LifelongPrefsHealthCheckOptions.MaxLag is {MaxLag}; it must be positive.");
        }

        if (MaxQueueDepth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueueDepth), MaxQueueDepth,
                $"LifelongPrefsHealthCheckOptions.MaxQueueDepth is {MaxQueueDepth}; it must be at least 1.");
        }
    }
}

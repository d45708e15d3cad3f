namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>
/// How the hosted service runs the tracker: configure with
/// <c>services.Configure&lt;LifelongPrefsHostingOptions&gt;(o =&gt; o.CheckpointInterval = TimeSpan.FromMinutes(1))</c>.
/// </summary>
public sealed class LifelongPrefsHostingOptions
{
    /// <summary>
    /// Gets or sets how often the hosted service writes a checkpoint while the host runs, when the tracker has
    /// <see cref="Lifelong.TrackerOptions.Persistence"/> set (a graceful stop always writes one). Between checkpoints the
    /// journal keeps accepted events; a checkpoint shortens the replay after a restart and lets old journal segments go.
    /// </summary>
    /// <value>Default 5 minutes; <see cref="Timeout.InfiniteTimeSpan"/> for checkpoints on stop only. Must be positive.</value>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(5);
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The optional services a <see cref="PreferenceTracker"/> is built with (<see cref="PreferenceTracker(TrackerOptions?, TrackerServices?)"/>):
/// where it logs, where its meter comes from, its clock and its learner. Every one may be left <see langword="null"/>;
/// a dependency-injection container fills them from its own registrations.
/// </summary>
public sealed class TrackerServices
{
    /// <summary>Gets the factory of the tracker's logger (category <c>LifelongPrefs.Lifelong.PreferenceTracker</c>).</summary>
    /// <value>Default <see langword="null"/>: nothing is logged.</value>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Gets the factory of the tracker's <see cref="Meter"/> named <c>LifelongPrefs</c>; the factory then owns the meter.
    /// </summary>
    /// <value>Default <see langword="null"/>: the tracker creates its own meter of that name and disposes it with itself.</value>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Gets the clock that paces <see cref="TrackerOptions.FlushInterval"/> and measures the learner's lag.</summary>
    /// <value>Default <see langword="null"/>: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Gets the model to learn with, which the tracker then owns (a <see cref="BprMf"/> is wrapped in a
    /// <see cref="ContinualLearner"/> with <see cref="TrackerOptions.Continual"/>).
    /// </summary>
    /// <value>Default <see langword="null"/>: the default learner.</value>
    public IRecommender? Learner { get; init; }
}

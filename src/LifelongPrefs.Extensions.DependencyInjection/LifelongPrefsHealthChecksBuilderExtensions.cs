using LifelongPrefs.Extensions.DependencyInjection;
using LifelongPrefs.Lifelong;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the LifelongPrefs learner's health check to a host's health checks.</summary>
public static class LifelongPrefsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the registered <see cref="PreferenceTracker"/>'s learner
    /// (<c>services.AddHealthChecks().AddLifelongPrefs()</c>): <c>Unhealthy</c> when it stopped after an error,
    /// <c>Degraded</c> when its lag or queue exceeds the thresholds of <see cref="LifelongPrefsHealthCheckOptions"/>,
    /// else <c>Healthy</c>. Needs <c>AddLifelongPrefs</c> on the services.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Sets the thresholds; <see langword="null"/> for the defaults.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="tags">Tags to filter checks by (e.g. <c>"ready"</c>).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is out of range (the message names it and its value).</exception>
    public static IHealthChecksBuilder AddLifelongPrefs(this IHealthChecksBuilder builder, Action<LifelongPrefsHealthCheckOptions>? configure = null,
        string name = "lifelongprefs", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        var options = new LifelongPrefsHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder.Add(new HealthCheckRegistration(name,
            services => new LifelongPrefsHealthCheck(services.GetRequiredService<PreferenceTracker>(), options), failureStatus: null, tags));
    }
}

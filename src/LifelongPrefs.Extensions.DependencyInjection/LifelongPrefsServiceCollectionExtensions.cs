using System.Diagnostics.Metrics;
using LifelongPrefs.Extensions.DependencyInjection;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers LifelongPrefs in a Microsoft.Extensions service collection.</summary>
public static class LifelongPrefsServiceCollectionExtensions
{
    /// <summary>Registers LifelongPrefs with the default options (see <see cref="AddLifelongPrefs(IServiceCollection, Action{TrackerOptions}?)"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddLifelongPrefs(this IServiceCollection services) => services.AddLifelongPrefs((Action<TrackerOptions>?)null);

    /// <summary>
    /// Registers one <see cref="PreferenceTracker"/> for the application (a singleton the container disposes), the same
    /// instance as <see cref="IPreferenceTracker"/> (what request handlers should depend on), its options (<see cref="IOptions{TOptions}"/> of <see cref="TrackerOptions"/>, validated when the host starts), and
    /// the hosted service that flushes the learner when the host stops. Registering twice adds nothing but the second
    /// <paramref name="configure"/>, which runs after the first.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options; <see langword="null"/> for the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// The tracker takes from the container, when registered: <see cref="ILoggerFactory"/> (logs), <see cref="IMeterFactory"/>
    /// (the <c>LifelongPrefs</c> meter), <see cref="TimeProvider"/> (its clock) and an <see cref="IRecommender"/> (its
    /// learner, which it then owns). Invalid options make the host's start fail with an <see cref="OptionsValidationException"/>
    /// whose message names the option and its value, e.g. <c>TrackerOptions.MicroBatchSize is 0</c>.
    /// </remarks>
    public static IServiceCollection AddLifelongPrefs(this IServiceCollection services, Action<TrackerOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<TrackerOptions> options = AddCore(services);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Registers LifelongPrefs as <see cref="AddLifelongPrefs(IServiceCollection, Action{TrackerOptions}?)"/> does, with the
    /// options bound from a configuration section (keys are the property names of <see cref="TrackerOptions"/>, nested
    /// ones as <c>Drift:Enabled</c>; time spans as <c>00:00:05</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section, e.g. <c>builder.Configuration.GetSection("LifelongPrefs")</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddLifelongPrefs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services).Bind(configuration);
        return services;
    }

    /// <summary>The registrations both overloads share; every one a <c>TryAdd</c>, so that a second call adds nothing.</summary>
    private static OptionsBuilder<TrackerOptions> AddCore(IServiceCollection services)
    {
        OptionsBuilder<TrackerOptions> options = services.AddOptions<TrackerOptions>();
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TrackerOptions>, TrackerOptionsValidator>());
        services.TryAddSingleton(CreateTracker);
        services.TryAddSingleton<IPreferenceTracker>(sp => sp.GetRequiredService<PreferenceTracker>());
        services.AddOptions<LifelongPrefsHostingOptions>()
            .Validate(o => o.CheckpointInterval > TimeSpan.Zero || o.CheckpointInterval == Timeout.InfiniteTimeSpan,
                "LifelongPrefsHostingOptions.CheckpointInterval must be positive or Timeout.InfiniteTimeSpan")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LifelongPrefsHostedService>(
            sp => new LifelongPrefsHostedService(sp.GetRequiredService<PreferenceTracker>(), sp.GetService<ILoggerFactory>(),
                sp.GetRequiredService<IOptions<LifelongPrefsHostingOptions>>().Value, sp.GetService<TimeProvider>() ?? TimeProvider.System)));
        return options;
    }

    private static PreferenceTracker CreateTracker(IServiceProvider services) =>
        new(services.GetRequiredService<IOptions<TrackerOptions>>().Value, new TrackerServices
        {
            LoggerFactory = services.GetService<ILoggerFactory>(),
            MeterFactory = services.GetService<IMeterFactory>(),
            TimeProvider = services.GetService<TimeProvider>(),
            Learner = services.GetService<IRecommender>(),
        });
}

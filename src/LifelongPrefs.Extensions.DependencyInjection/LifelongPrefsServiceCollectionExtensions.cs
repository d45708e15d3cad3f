using LifelongPrefs.Lifelong;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>Registers LifelongPrefs in a Microsoft.Extensions service collection.</summary>
public static class LifelongPrefsServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="PreferenceTracker"/> for the whole application (a singleton the container disposes),
    /// made from <paramref name="options"/>. Registrations made before this call win (<c>TryAdd</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="options">Makes the tracker's settings; <see langword="null"/> for the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddLifelongPrefs(this IServiceCollection services, Func<TrackerOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(_ => new PreferenceTracker(options?.Invoke()));
        return services;
    }
}

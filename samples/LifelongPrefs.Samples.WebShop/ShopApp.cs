using LifelongPrefs.Extensions.DependencyInjection;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>Builds the web shop: the tracker through the DI package, the warm-up, the JSON contracts and the endpoints.</summary>
internal static class ShopApp
{
    /// <summary>Builds the app (not started) from parsed settings.</summary>
    internal static WebApplication Build(ShopSettings settings)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (settings.Quiet)
        {
            builder.Logging.ClearProviders();
        }

        // Start-up and warnings, not a line per request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // --urls wins, then ASPNETCORE_URLS (read into "urls" by the host), then the loopback default.
        builder.WebHost.UseUrls(settings.Urls ?? builder.Configuration["urls"] ?? ShopSettings.DefaultUrl);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ShopJson.Default));
        builder.Services.AddProblemDetails();

        builder.Services.AddLifelongPrefs(o => o.Seed = settings.Seed); // the one registration line

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<ShopCatalog>();
        builder.Services.AddSingleton<ShopCounters>();
        builder.Services.AddSingleton<ShopHealth>();
        builder.Services.AddSingleton<WarmUp>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WarmUp>());

        WebApplication app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        ShopEndpoints.Map(app);
        return app;
    }

    /// <summary>Gets the first address the started app listens on (the real port when it was asked for port 0).</summary>
    internal static Uri Address(WebApplication app) => new(app.Urls.First());
}

/// <summary>The shop's own counters (the tracker counts the rest).</summary>
internal sealed class ShopCounters
{
    private long _rejected;

    /// <summary>Gets the requests answered with 400 or 404.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Counts one rejected request and passes its answer through.</summary>
    public IResult Reject(IResult problem)
    {
        Interlocked.Increment(ref _rejected);
        return problem;
    }
}

/// <summary>
/// <c>GET /healthz</c>: "warming-up" while the warm-up replays, then "ok"; "degraded" (still 200) when the learner
/// lags by more than half its queue or the warm-up failed. A stand-in for the DI package's health check: swap this
/// class for it.
/// </summary>
internal sealed class ShopHealth(PreferenceTracker tracker, WarmUp warmUp)
{
    /// <summary>The current health.</summary>
    public HealthResponse Check()
    {
        TrackerStatistics s = tracker.Statistics;
        WarmUpReport w = warmUp.Report;
        long lag = s.EventsObserved - s.EventsLearned - s.EventsDroppedFromLearning;
        int capacity = tracker.Options.QueueCapacity;
        string status = warmUp.InProgress ? "warming-up" : w.State == "failed" || s.QueueDepth > capacity / 2 ? "degraded" : "ok";
        DateTimeOffset? time = tracker.StreamTime == DateTimeOffset.MinValue ? null : tracker.StreamTime;
        return new HealthResponse(status, s.ModelVersion, lag, s.QueueDepth, capacity, time, w);
    }
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>The health check on constructed conditions: a fake clock for the lag, a small queue limit, a faulted learner.</summary>
public class HostHealthCheckTests
{
    [Fact]
    public async Task Healthy_then_degraded_by_lag_or_depth_then_healthy_after_a_flush()
    {
        var clock = new FakeTimeProvider(HostKit.Start);
        using IHost host = HostKit.Build(s =>
        {
            s.AddSingleton<TimeProvider>(clock).AddLifelongPrefs(o => { HostKit.Small(o); o.MicroBatchSize = 100; });
            s.AddHealthChecks().AddLifelongPrefs(o => o.MaxLag = TimeSpan.FromSeconds(30))
                .AddLifelongPrefs(o => o.MaxQueueDepth = 3, name: "depth");
        });
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        HealthReport report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["lifelongprefs"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["depth"].Status);

        // Five events wait for a batch of 100: over the depth limit at once, over the lag limit 31 s later.
        tracker.Observe(HostKit.Events(5));
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["lifelongprefs"].Status);
        Assert.Equal(HealthStatus.Degraded, report.Entries["depth"].Status);
        Assert.Equal(5, report.Entries["depth"].Data["queueDepth"]);

        clock.Advance(TimeSpan.FromSeconds(31));
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Entries["lifelongprefs"].Status);
        Assert.Equal(31_000.0, report.Entries["lifelongprefs"].Data["lagMilliseconds"]);
        Assert.Equal(TimeSpan.FromSeconds(31), tracker.LearnerStatus.OldestUnlearnedAge);

        await tracker.FlushAsync();
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(new LearnerStatus(LearnerState.Running, 0, TimeSpan.Zero, null), tracker.LearnerStatus);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_faulted_learner_is_unhealthy_with_its_error()
    {
        var bpr = new BprMf(new BprMfOptions { Dimensions = 4, MaxUsers = 1 });
        using IHost host = HostKit.Build(s =>
        {
            s.AddSingleton<IRecommender>(bpr).AddLifelongPrefs(o => { HostKit.Small(o); o.Continual = ContinualOptions.Naive; });
            s.AddHealthChecks().AddLifelongPrefs();
        });
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(4));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => tracker.FlushAsync());

        HealthReportEntry entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["lifelongprefs"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Same(error.InnerException, entry.Exception);
        Assert.Equal("Faulted", entry.Data["state"]);
        await host.StopAsync();
    }

    [Fact]
    public void Bad_thresholds_are_rejected_naming_them()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddHealthChecks().AddLifelongPrefs(o => o.MaxLag = TimeSpan.Zero));
        Assert.Contains("LifelongPrefsHealthCheckOptions.MaxLag is 00:00:00", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddHealthChecks().AddLifelongPrefs(o => o.MaxQueueDepth = 0));
        Assert.Contains("LifelongPrefsHealthCheckOptions.MaxQueueDepth is 0", error.Message, StringComparison.Ordinal);
    }
}

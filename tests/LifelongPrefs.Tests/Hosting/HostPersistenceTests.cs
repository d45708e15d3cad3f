using LifelongPrefs.Extensions.DependencyInjection;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Hosting;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>With persistence on, the hosted service checkpoints on stop and the next host restores that state.</summary>
public class HostPersistenceTests
{
    [Fact]
    public async Task A_stopped_host_leaves_a_checkpoint_the_next_host_restores()
    {
        string directory = Path.Combine(Path.GetTempPath(), "llp-host-" + Guid.NewGuid().ToString("N"));
        try
        {
            void Options(TrackerOptions o)
            {
                HostKit.Small(o);
                o.Persistence = new PersistenceOptions { Directory = directory };
            }

            string[] before;
            long version;
            using (IHost host = HostKit.Build(s => s.AddLifelongPrefs(Options)))
            {
                await host.StartAsync();
                var tracker = host.Services.GetRequiredService<PreferenceTracker>();
                tracker.Observe(HostKit.Events(10)); // two full batches of 4 and two events waiting for the stop's flush
                await host.StopAsync();
                Assert.Equal(10, tracker.Statistics.EventsLearned);
                version = tracker.ModelVersion;
                before = [.. tracker.Recommend("u0", 3).Select(r => r.ItemId)];
            }

            using (IHost host = HostKit.Build(s => s.AddLifelongPrefs(Options)))
            {
                await host.StartAsync();
                var tracker = host.Services.GetRequiredService<PreferenceTracker>();
                RecoveryReport? recovery = tracker.Recovery;
                Assert.NotNull(recovery);
                Assert.True(recovery.CheckpointUsed);
                Assert.Equal(0, recovery.EventsReplayed); // the stop's checkpoint covered every event
                Assert.Equal(10, tracker.Statistics.EventsObserved);
                Assert.Equal(version, tracker.ModelVersion);
                Assert.Equal(before, tracker.Recommend("u0", 3).Select(r => r.ItemId));
                await host.StopAsync();
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_running_host_checkpoints_on_its_schedule()
    {
        string directory = Path.Combine(Path.GetTempPath(), "llp-host-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var logs = new FakeLoggerProvider();
            using (IHost host = HostKit.Build(s => s.AddLifelongPrefs(o =>
                {
                    HostKit.Small(o);
                    o.Persistence = new PersistenceOptions { Directory = directory };
                }).Configure<LifelongPrefsHostingOptions>(o => o.CheckpointInterval = TimeSpan.FromMilliseconds(50)), logs))
            {
                await host.StartAsync();
                var tracker = host.Services.GetRequiredService<PreferenceTracker>();
                tracker.Observe(HostKit.Events(8));
                await tracker.FlushAsync();
                DateTime deadline = DateTime.UtcNow.AddSeconds(30);
                while (!logs.Collector.GetSnapshot().Any(r => r.Id.Id == 1206 && r.Message.Contains("model version 2", StringComparison.Ordinal)))
                {
                    Assert.True(DateTime.UtcNow < deadline, "no scheduled checkpoint of version 2 within 30 s");
                    await Task.Delay(20);
                }

                await host.StopAsync();
            }

            // A tracker opened on the directory (no host) starts from a checkpoint.
            using PreferenceTracker reopened = PreferenceTracker.Open(new TrackerOptions
            {
                Dimensions = 8, MicroBatchSize = 4, FlushInterval = Timeout.InfiniteTimeSpan,
                Persistence = new PersistenceOptions { Directory = directory },
            });
            Assert.True(reopened.Recovery!.CheckpointUsed);
            Assert.Equal(8, reopened.Statistics.EventsObserved);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_checkpoint_interval_of_zero_fails_the_start_naming_it()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small)
            .Configure<LifelongPrefsHostingOptions>(o => o.CheckpointInterval = TimeSpan.Zero));
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("LifelongPrefsHostingOptions.CheckpointInterval", error.Message, StringComparison.Ordinal);
    }
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using Microsoft.Extensions.DependencyInjection;
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
}

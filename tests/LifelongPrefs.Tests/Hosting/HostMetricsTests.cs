using System.Diagnostics;
using System.Diagnostics.Metrics;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>
/// The LifelongPrefs meter and activity source, read with a MeterListener and an ActivityListener that listen to
/// this test's tracker only (the meter from the host's IMeterFactory; the tracker's own activity source).
/// </summary>
public class HostMetricsTests
{
    [Fact]
    public async Task Counters_histograms_and_gauges_match_what_the_tracker_did()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small));
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var sums = new Dictionary<string, long>();
        var counts = new Dictionary<string, int>();
        var last = new Dictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == "LifelongPrefs")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, value, _, _) =>
        {
            lock (sums)
            {
                sums[i.Name] = sums.GetValueOrDefault(i.Name) + value;
                last[i.Name] = value;
            }
        });
        listener.SetMeasurementEventCallback<int>((i, value, _, _) =>
        {
            lock (sums)
            {
                last[i.Name] = value;
            }
        });
        listener.SetMeasurementEventCallback<double>((i, value, _, _) =>
        {
            lock (sums)
            {
                counts[i.Name] = counts.GetValueOrDefault(i.Name) + 1;
                last[i.Name] = value;
            }
        });
        listener.Start();

        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        InteractionEvent[] events = HostKit.Events(16);
        foreach (InteractionEvent e in events[..12])
        {
            tracker.Observe(e);
        }

        tracker.Observe(events[12..]);
        tracker.Feedback("u1", "i4", FeedbackOutcome.Clicked); // an observed event too
        tracker.Feedback("u1", "i2", FeedbackOutcome.Dismissed); // queued for the learner, not observed
        tracker.Feedback("u1", "i3", FeedbackOutcome.Shown);
        var buffer = new Recommendation[3];
        for (int i = 0; i < 5; i++)
        {
            tracker.Recommend($"u{i % 3}", 3);
        }

        tracker.RecommendInto("u2", buffer);
        tracker.RecommendInto("nobody", buffer);
        await tracker.FlushAsync();
        listener.RecordObservableInstruments();
        await host.StopAsync();

        // 17 observed events and one dismissal: 18 queue entries, four batches of 4 and the flush's batch of 2.
        Assert.Equal(17, sums["lifelongprefs.events.observed"]);
        Assert.Equal(tracker.Statistics.EventsObserved, sums["lifelongprefs.events.observed"]);
        Assert.Equal(3, sums["lifelongprefs.feedback"]);
        Assert.Equal(7, sums["lifelongprefs.recommendations"]);
        Assert.Equal(5, tracker.ModelVersion);
        Assert.Equal(5, counts["lifelongprefs.update.duration"]);
        Assert.Equal(7, counts["lifelongprefs.recommend.duration"]);
        Assert.Equal(5, last["lifelongprefs.model.version"]);
        Assert.Equal(0, last["lifelongprefs.queue.depth"]);
        Assert.Equal(0, last["lifelongprefs.learner.lag"]);
    }

    [Fact]
    public async Task Recommend_and_each_update_run_in_an_activity_of_the_trackers_source()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small));
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, tracker.Telemetry.Source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await host.StartAsync();
        tracker.Observe(HostKit.Events(8));
        await tracker.FlushAsync();
        tracker.Recommend("u0", 5);
        tracker.RecommendInto("u1", new Recommendation[2]);
        await host.StopAsync();

        Activity[] reads, updates;
        lock (stopped)
        {
            reads = [.. stopped.Where(a => a.OperationName == "LifelongPrefs.Recommend")];
            updates = [.. stopped.Where(a => a.OperationName == "LifelongPrefs.Update")];
        }

        Assert.Equal([5, 2], reads.Select(a => (int)a.GetTagItem("lifelongprefs.k")!));
        Assert.All(reads, a => Assert.Equal(2L, a.GetTagItem("lifelongprefs.model.version")));
        Assert.Equal([4, 4], updates.Select(a => (int)a.GetTagItem("lifelongprefs.batch.size")!));
        Assert.Equal([1L, 2L], updates.Select(a => (long)a.GetTagItem("lifelongprefs.model.version")!));
    }

    [Fact]
    public async Task Without_a_listener_recommending_allocates_nothing_more()
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { Dimensions = 8, MicroBatchSize = 4, FlushInterval = Timeout.InfiniteTimeSpan });
        tracker.Observe(HostKit.Events(12));
        await tracker.FlushAsync();
        var buffer = new Recommendation[3];
        Infrastructure.Allocations.AssertNone("RecommendInto with telemetry and no listener", () => tracker.RecommendInto("u0", buffer));
    }
}

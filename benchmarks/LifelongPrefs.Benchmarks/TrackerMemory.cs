using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// What a tracker holds in memory, per user, per item and per kept history event: trackers of the default learner are
/// fed synthetic shops of a few sizes, the learner is flushed, the heap is collected, and the differences between sizes
/// give the marginal bytes. <c>-- --tracker-memory [--users N] [--items N] [--events N]</c>.
/// </summary>
/// <remarks>
/// Sizes are powers of two because the tracker's tables double their capacity as they grow: at a power of two each
/// table is exactly full, so a difference measures what the rows cost, not where a doubling happened to fall. The heap
/// is measured with <see cref="GC.GetTotalMemory(bool)"/> after a full blocking collection, so it counts what is live,
/// not what was allocated on the way. The learner keeps no growth slack beyond those doublings.
/// </remarks>
internal static class TrackerMemory
{
    internal const string Switch = "--tracker-memory";

    internal static int Run(string[] args)
    {
        int users = TrackerLoad.Arg(args, "--users", 1 << 15), items = TrackerLoad.Arg(args, "--items", 1 << 13), events = TrackerLoad.Arg(args, "--events", 4);
        Console.WriteLine($"tracker memory: base shop {users:N0} users × {events} purchases over {items:N0} items, d = 64, default learner");
        Console.WriteLine("size | managed heap (MB)");

        long baseline = Measure(users, items, events);
        long moreUsers = Measure(2 * users, items, events);
        long moreItems = Measure(users, 2 * items, events);
        long longerHistories = Measure(users, items, 2 * events);

        Console.WriteLine();
        Console.WriteLine($"per user (with {events} events each, {users:N0} → {2 * users:N0} users): {(moreUsers - baseline) / (double)users:N0} bytes");
        Console.WriteLine($"per item ({items:N0} → {2 * items:N0} items, same events): {(moreItems - baseline) / (double)items:N0} bytes");
        Console.WriteLine($"per kept event ({events} → {2 * events} per user): {(longerHistories - baseline) / ((double)users * events):N0} bytes");
        return 0;
    }

    /// <summary>Builds a tracker over the synthetic shop, flushes it and returns the live managed heap in bytes.</summary>
    private static long Measure(int users, int items, int events)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var rng = new Random(42);
        long ticks = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        var tracker = new PreferenceTracker(new TrackerOptions { Dimensions = 64, Seed = 42, FlushInterval = Timeout.InfiniteTimeSpan });
        for (int i = 0; i < items; i++)
        {
            tracker.RegisterItem(Id('p', i));
        }

        var batch = new List<InteractionEvent>(4096);
        for (int round = 0; round < events; round++)
        {
            for (int u = 0; u < users; u++)
            {
                ticks += TimeSpan.TicksPerSecond;
                batch.Add(new InteractionEvent(Id('c', u), Id('p', rng.Next(items)), new DateTimeOffset(ticks, TimeSpan.Zero), EventKind.Purchase));
                if (batch.Count == batch.Capacity)
                {
                    tracker.Observe(batch);
                    batch.Clear();
                }
            }
        }

        tracker.Observe(batch);
        tracker.FlushAsync().GetAwaiter().GetResult();

        // Ask once so the published version's lazily built scoring tables exist, as they do in a serving tracker.
        tracker.Recommend(Id('c', 0), 10);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(tracker);
        tracker.Dispose();
        long heap = after - before;
        Console.WriteLine($"{users:N0} users, {items:N0} items, {events} events each | {heap / 1e6:N1}");
        return heap;
    }

    private static string Id(char prefix, int n) => prefix + n.ToString(CultureInfo.InvariantCulture);
}

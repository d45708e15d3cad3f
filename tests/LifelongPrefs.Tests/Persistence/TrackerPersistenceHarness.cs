using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using LifelongPrefs.Tests.Lifelong;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The deterministic scenario the persistence tests replay: a generated shop's purchases interleaved with item
/// registrations, clicks and dismissals, fed as a list of calls, so that a persisted tracker and an uninterrupted one
/// receive exactly the same calls.
/// </summary>
internal static class TrackerPersistenceHarness
{
    internal const int Batch = 16;

    /// <summary>Count-only batching and the default learner at a small width (the options of every run here).</summary>
    internal static TrackerOptions Options(string? directory, JournalFlushPolicy flush = JournalFlushPolicy.EveryRecord, long segmentBytes = 64L << 20) => new()
    {
        MicroBatchSize = Batch,
        FlushInterval = Timeout.InfiniteTimeSpan,
        Dimensions = 8,
        Seed = 7,
        Persistence = directory is null ? null : new PersistenceOptions { Directory = directory, JournalFlush = flush, SegmentBytes = segmentBytes },
    };

    /// <summary>The calls: mostly purchases, with a registration every 37th, a click every 23rd and a dismissal every 41st call.</summary>
    internal static List<Action<PreferenceTracker>> Calls(int count, int seed = 3)
    {
        List<InteractionEvent> events = TrackerScenario.Events(users: 25, items: 60, categories: 6, days: 1 + (count / 25), seed);
        var calls = new List<Action<PreferenceTracker>>(count);
        string known = events[0].ItemId; // an item some earlier call made known: dismissals need one
        for (int i = 0; calls.Count < count; i++)
        {
            InteractionEvent e = events[i % events.Count];
            int n = calls.Count;
            if (n % 37 == 36)
            {
                string item = TrackerScenario.ItemId(n % 60);
                calls.Add(t => t.RegisterItem(item, TrackerScenario.CategoryOf(n % 60, 6), $"item {n % 60} described at call {n}"));
            }
            else if (n % 23 == 22)
            {
                calls.Add(t => t.Feedback(e.UserId, e.ItemId, FeedbackOutcome.Clicked));
            }
            else if (n % 41 == 40 && n > 0)
            {
                string item = known;
                calls.Add(t => t.Feedback(e.UserId, item, FeedbackOutcome.Dismissed));
            }
            else
            {
                calls.Add(t => t.Observe(e));
                known = e.ItemId;
            }
        }

        return calls;
    }

    internal static void Feed(PreferenceTracker tracker, List<Action<PreferenceTracker>> calls, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            calls[i](tracker);
        }
    }

    /// <summary>The whole state's bytes after the learner has caught up.</summary>
    internal static byte[] State(PreferenceTracker tracker)
    {
        tracker.FlushAsync().GetAwaiter().GetResult();
        using var stream = new MemoryStream();
        tracker.SaveState(stream);
        return stream.ToArray();
    }

    /// <summary>The recommendations of a few users, scores as bits.</summary>
    internal static string Answers(PreferenceTracker tracker) =>
        string.Join("|", Enumerable.Range(0, 6).Select(u => TrackerScenario.Render(tracker.Recommend(TrackerScenario.UserId(u), 5))));

    /// <summary>An uninterrupted, in-memory run over the first <paramref name="count"/> calls: the oracle.</summary>
    internal static (byte[] State, string Answers) Reference(List<Action<PreferenceTracker>> calls, int count)
    {
        using var tracker = new PreferenceTracker(Options(null));
        Feed(tracker, calls, 0, count);
        return (State(tracker), Answers(tracker));
    }

    internal static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "llp-persist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }
}

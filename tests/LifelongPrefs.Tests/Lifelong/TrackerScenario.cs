using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// A generated shop for tracker tests: items in planted categories, each user buying mostly from one favourite
/// category, one purchase per day per user, in global time order.
/// </summary>
internal static class TrackerScenario
{
    internal static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    internal static string UserId(int u) => $"u{u}";

    internal static string ItemId(int i) => $"i{i}";

    internal static string CategoryOf(int item, int categories) => $"c{item % categories}";

    /// <summary>Generates <paramref name="days"/> days of purchases for <paramref name="users"/> users.</summary>
    internal static List<InteractionEvent> Events(int users, int items, int categories, int days, int seed)
    {
        var rng = new Random(seed);
        var events = new List<InteractionEvent>(users * days);
        for (int d = 0; d < days; d++)
        {
            for (int u = 0; u < users; u++)
            {
                int favourite = u % categories;
                int item = rng.NextDouble() < 0.85
                    ? favourite + categories * rng.Next(items / categories)
                    : rng.Next(items);
                events.Add(new InteractionEvent(UserId(u), ItemId(item), Start.AddDays(d).AddMinutes(u), EventKind.Purchase,
                    Quantity: 1 + rng.Next(3)));
            }
        }

        return events;
    }

    /// <summary>A small, fast learner for facade tests (item-based co-occurrence; updates in microseconds).</summary>
    internal static IRecommender SmallLearner() => new ItemKnn();

    /// <summary>Options for deterministic tests: count-only batching.</summary>
    internal static TrackerOptions Deterministic(int batch = 64) => new()
    {
        MicroBatchSize = batch,
        FlushInterval = Timeout.InfiniteTimeSpan,
        Dimensions = 8,
    };

    internal static PreferenceTracker Create(TrackerOptions? options = null, IRecommender? learner = null) =>
        new(options ?? Deterministic(), learner ?? SmallLearner(), null);

    /// <summary>The ids and scores of a list, for comparing two answers exactly.</summary>
    internal static string Render(IReadOnlyList<Recommendation> list) =>
        string.Join(",", list.Select(r => $"{r.ItemId}:{BitConverter.SingleToInt32Bits(r.Score):x8}:{r.Reason}"));
}

using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// <see cref="TrackerOptions.ItemTablePrecision"/>: the int8 item table behind the default learner answers like the fp32
/// one fed the same events (the lists' items and their exact scores), allocates nothing once warm, and a bad value is
/// rejected by name.
/// </summary>
public class TrackerPrecisionTests
{
    private static async Task<PreferenceTracker> Fed(ItemTablePrecision precision)
    {
        var tracker = new PreferenceTracker(new TrackerOptions
        {
            MicroBatchSize = 100, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 16, ItemTablePrecision = precision,
        }, null, null);
        for (int i = 0; i < 600; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 6));
        }

        tracker.Observe(Events(users: 40, items: 600, categories: 6, days: 20, seed: 12));
        await tracker.FlushAsync();
        return tracker;
    }

    [Fact]
    public async Task Quantized_answers_like_exact_and_allocates_nothing_once_warm()
    {
        await using PreferenceTracker single = await Fed(ItemTablePrecision.Exact);
        await using PreferenceTracker int8 = await Fed(ItemTablePrecision.Quantized);
        Assert.Equal(single.ModelVersion, int8.ModelVersion);
        int same = 0, total = 0;
        for (int u = 0; u < 40; u++)
        {
            RecommendationList expected = single.Recommend(UserId(u), 10), actual = int8.Recommend(UserId(u), 10);
            Assert.False(expected.IsColdStart);
            Assert.Equal(expected.Count, actual.Count);
            foreach (Recommendation r in actual)
            {
                Recommendation[] match = [.. expected.Where(e => e.ItemId == r.ItemId)];
                same += match.Length;
                Assert.True(match.Length == 0 || BitConverter.SingleToInt32Bits(match[0].Score) == BitConverter.SingleToInt32Bits(r.Score),
                    $"user {u} item {r.ItemId}: {r.Score} vs {(match.Length > 0 ? match[0].Score : float.NaN)}");
            }

            total += expected.Count;
        }

        Assert.True(same >= 0.99 * total, $"{same} of {total} recommendations kept");
        var buffer = new Recommendation[10];
        var filtered = new RecommendOptions { Category = "c1" };
        string user = UserId(3); // built once: the id's own string is not the call's allocation
        foreach (PreferenceTracker tracker in new[] { single, int8 })
        {
            foreach (RecommendOptions? options in new[] { null, filtered })
            {
                Infrastructure.Allocations.AssertNone($"RecommendInto({tracker.Options.ItemTablePrecision}, {options?.Category})",
                    () => tracker.RecommendInto(user, buffer, options));
            }
        }
    }

    [Fact]
    public void An_undefined_precision_is_rejected_by_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceTracker(new TrackerOptions { ItemTablePrecision = (ItemTablePrecision)7 }));
        Assert.Equal(nameof(TrackerOptions.ItemTablePrecision), error.ParamName);
    }
}

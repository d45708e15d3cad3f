using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>The learner builds each version's scoring tables before it publishes it, for the precision readers will use.</summary>
public class TrackerPreparedTableTests
{
    [Theory]
    [InlineData(ItemTablePrecision.Exact)]
    [InlineData(ItemTablePrecision.Quantized)]
    public async Task Every_published_version_has_its_tables_built_before_any_read(ItemTablePrecision precision)
    {
        bool quantized = precision == ItemTablePrecision.Quantized;
        await using var tracker = new PreferenceTracker(
            new TrackerOptions { MicroBatchSize = 32, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8, ItemTablePrecision = precision }, null, null);
        var start = new DateTimeOffset(2011, 1, 3, 9, 0, 0, TimeSpan.Zero);
        var random = new Random(3);
        var seen = new HashSet<long>();
        for (int batch = 0; batch < 6; batch++)
        {
            for (int k = 0; k < 32; k++)
            {
                tracker.Observe(new InteractionEvent($"u{random.Next(20)}", $"i{random.Next(60)}", start.AddMinutes((batch * 32) + k), EventKind.Purchase));
            }

            await tracker.FlushAsync();

            // No Recommend has run: a built table can only come from the learner.
            PublishedVersion version = tracker.CurrentVersion;
            var scorer = Assert.IsAssignableFrom<IPreparedScorer>(version.Scorer);
            Assert.True(scorer.IsPrepared(quantized), $"version {version.Number} published without its {precision} table");
            Assert.False(scorer.IsPrepared(!quantized), $"version {version.Number} also built the table of the other precision");
            seen.Add(version.Number);
        }

        Assert.Equal(6, seen.Count);
    }
}

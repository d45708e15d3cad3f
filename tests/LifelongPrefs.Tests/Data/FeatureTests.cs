using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>Scaler, encoders, RFM and popularity against hand-computed values.</summary>
public class FeatureTests
{
    [Fact]
    public void Scaler_matches_hand_computed_means_and_population_deviations()
    {
        // Columns: (1,2,3,4) mean 2.5, std sqrt(1.25); (10,20,60,10)... use a constant third column.
        float[] data = [1, 10, 7, 2, 20, 7, 3, 60, 7, 4, 10, 7];
        var scaler = new StandardScaler();
        scaler.Fit(data, 3);
        Assert.Equal(3, scaler.Columns);
        Assert.Equal(2.5f, scaler.Mean[0], 6);
        Assert.Equal(25f, scaler.Mean[1], 5);
        Assert.Equal(7f, scaler.Mean[2]);
        Assert.Equal((float)Math.Sqrt(1.25), scaler.Scale[0], 6);
        Assert.Equal((float)Math.Sqrt(425.0), scaler.Scale[1], 4); // deviations -15,-5,35,-15: (225+25+1225+225)/4
        Assert.Equal(1f, scaler.Scale[2]); // zero variance: scale 1, so the column maps to 0, not NaN

        var z = new float[data.Length];
        scaler.Transform(data, z);
        Assert.Equal(-1.5f / (float)Math.Sqrt(1.25), z[0], 5);
        Assert.Equal(35f / (float)Math.Sqrt(425.0), z[7], 5);
        Assert.Equal(0f, z[2]);

        // In place, and back.
        scaler.InverseTransform(z, z);
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(data[i], z[i], 4);
        }
    }

    [Fact]
    public void Scaler_validates_before_changing_state()
    {
        var scaler = new StandardScaler();
        Assert.Throws<InvalidOperationException>(() => scaler.Transform(new float[2], new float[2]));
        scaler.Fit([1f, 3f], 1);
        Assert.Throws<ArgumentException>(() => scaler.Fit([1f, 2f, 3f], 2));
        Assert.Throws<ArgumentException>(() => scaler.Fit([1f, float.NaN], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => scaler.Fit([1f], 0));
        Assert.Equal(2f, scaler.Mean[0]); // rejected fits left the old statistics in place
        Assert.Throws<ArgumentException>(() => scaler.Transform(new float[2], new float[3]));
    }

    [Fact]
    public void One_hot_slots_are_stable_and_unknowns_are_zero()
    {
        var encoder = new OneHotEncoder();
        encoder.Fit(["UK", "France", "UK", "EIRE"]);
        Assert.Equal(3, encoder.Width);
        var row = new float[4];
        row[3] = 9f;
        encoder.Encode("France", row);
        Assert.Equal([0f, 1f, 0f, 9f], row); // only the first Width entries are written
        encoder.Encode("Spain", row);
        Assert.Equal([0f, 0f, 0f, 9f], row);
        encoder.Fit(["Spain", "UK"]);
        Assert.Equal(0, encoder.IndexOf("UK"));
        Assert.Equal(3, encoder.IndexOf("Spain"));
        Assert.Throws<ArgumentException>(() => encoder.Encode("UK", new float[3]));
    }

    [Theory]
    [InlineData("", 0x811c9dc5u)]
    [InlineData("a", 0xe40c292cu)]
    [InlineData("foobar", 0xbf9cf968u)]
    [InlineData("é", 0x1e9de8c1u)]
    [InlineData("United Kingdom", 0x710317c3u)]
    public void Fnv1a_matches_the_published_and_python_computed_values(string value, uint expected)
    {
        // "", "a" and "foobar" are the FNV reference test vectors; the others were computed with a python FNV-1a over UTF-8.
        Assert.Equal(expected, HashedEncoder.Fnv1a32(value));
    }

    [Fact]
    public void Hashed_buckets_are_fixed_across_runs_and_collisions_add()
    {
        var encoder = new HashedEncoder(1000);
        Assert.Equal(220, encoder.Bucket("a"));
        Assert.Equal(720, encoder.Bucket("foobar"));
        Assert.Equal(99, encoder.Bucket("United Kingdom"));

        var small = new HashedEncoder(16);
        var row = new float[16];
        small.Encode(["a", "a", "foobar"], row);
        Assert.Equal(2f, row[12]);
        Assert.Equal(1f, row[8]);
        Assert.Equal(3f, row.Sum());
        Assert.Throws<ArgumentOutOfRangeException>(() => new HashedEncoder(0));
    }

    private static readonly DateTimeOffset Day0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static InteractionLog SmallLog()
    {
        var log = new InteractionLog();
        log.Add(new InteractionEvent("u1", "x", Day0, EventKind.Purchase, 2, 5f, "b1"));
        log.Add(new InteractionEvent("u1", "y", Day0, EventKind.Purchase, 1, 1f, "b1"));
        log.Add(new InteractionEvent("u2", "x", Day0.AddDays(1), EventKind.Purchase, 1, 5f, "b2"));
        log.Add(new InteractionEvent("u1", "x", Day0.AddDays(3), EventKind.Purchase, 1, 5f, "b3"));
        log.Add(new InteractionEvent("u1", "x", Day0.AddDays(4), EventKind.Return, -1, 5f, "Cb3"));
        log.Add(new InteractionEvent("u3", "y", Day0.AddDays(5), EventKind.View));
        log.Add(new InteractionEvent("u2", "y", Day0.AddDays(20), EventKind.Purchase, 1, 1f, "b9")); // after the cutoff
        return log;
    }

    [Fact]
    public void Rfm_at_a_cutoff_by_hand()
    {
        RfmFeatures rfm = RfmFeatures.Compute(SmallLog(), Day0.AddDays(10));

        // u1: last purchase day 3 -> 7 days; baskets b1, b3 -> 2; spend 2*5 + 1 + 5 - 5 (return) = 11.
        Assert.Equal([7f, 9f, 10f], rfm.RecencyDays);
        Assert.Equal([2f, 1f, 0f], rfm.Frequency);
        Assert.Equal([11f, 5f, 0f], rfm.Monetary);

        // u3 never bought: recency is the whole observable span (day 0 to the cutoff).
        Assert.Equal([7f, 2f, 11f, 9f, 1f, 5f, 10f, 0f, 0f], rfm.ToMatrix());
    }

    [Fact]
    public void Item_popularity_at_a_cutoff_by_hand()
    {
        ItemPopularity pop = ItemPopularity.Compute(SmallLog(), Day0.AddDays(10), TimeSpan.FromDays(8));

        // x: purchases on days 0 (u1), 1 (u2), 3 (u1); recent window [day 2, day 10) holds day 3 only. y: day 0 purchase.
        Assert.Equal([3f, 1f], pop.Count);
        Assert.Equal([2f, 1f], pop.UserCount);
        Assert.Equal([1f, 0f], pop.RecentCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => ItemPopularity.Compute(SmallLog(), Day0, TimeSpan.Zero));
    }
}

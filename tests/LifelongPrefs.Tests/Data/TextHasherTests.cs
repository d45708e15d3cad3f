using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>
/// The hashed text features against their definition: a deterministic, sorted, unit-norm sparse vector that ignores
/// case and punctuation, bounded in size, with as few bucket collisions as a uniform hash gives.
/// </summary>
public class TextHasherTests
{
    private const int Buckets = 1 << 14;

    private static (int[] Indices, float[] Values) Hash(string text, uint seed = 7, int buckets = Buckets)
    {
        var indices = new int[TextHasher.MaxFeatures];
        var values = new float[TextHasher.MaxFeatures];
        int n = TextHasher.Hash(text, buckets, seed, indices, values);
        return (indices[..n], values[..n]);
    }

    [Fact]
    public void The_same_text_and_seed_give_the_same_vector_and_another_seed_another()
    {
        (int[] a, float[] va) = Hash("WHITE HANGING HEART T-LIGHT HOLDER");
        (int[] b, float[] vb) = Hash("WHITE HANGING HEART T-LIGHT HOLDER");
        (int[] c, _) = Hash("WHITE HANGING HEART T-LIGHT HOLDER", seed: 8);
        Assert.Equal(a, b);
        Assert.Equal(va, vb);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("WHITE HANGING HEART T-LIGHT HOLDER")]
    [InlineData("a")]
    [InlineData("set of 3 cake tins pantry design, 12 pieces")]
    public void A_vector_is_sorted_by_bucket_each_bucket_once_with_unit_norm(string text)
    {
        (int[] indices, float[] values) = Hash(text);
        Assert.NotEmpty(indices);
        for (int k = 1; k < indices.Length; k++)
        {
            Assert.True(indices[k - 1] < indices[k]);
        }

        Assert.All(indices, i => Assert.InRange(i, 0, Buckets - 1));
        Assert.All(values, v => Assert.NotEqual(0f, v));
        Assert.Equal(1.0, Math.Sqrt(values.Sum(v => (double)v * v)), 5);
    }

    [Fact]
    public void Case_and_punctuation_do_not_change_the_vector()
    {
        Assert.Equal(Hash("White Hanging Heart T-Light Holder"), Hash("white hanging heart, t light holder!"), new VectorComparer());
    }

    [Fact]
    public void A_word_gives_itself_and_its_bracketed_three_grams_with_the_documented_weights()
    {
        // "tin" → the word and ^ti, tin, in$: weights 1, 1/2, 1/2, 1/2 before the normalisation (norm √1.75).
        var expected = new Dictionary<int, float>();
        void Add(string feature, uint salt, float weight)
        {
            uint h = TextHasher.Mix(feature, 7 ^ salt);
            int bucket = (int)(h & (Buckets - 1));
            expected[bucket] = expected.GetValueOrDefault(bucket) + ((h & 0x8000_0000u) != 0 ? -weight : weight);
        }

        Add("tin", 0x9E3779B9u, 1f);
        foreach (string gram in new[] { "^ti", "tin", "in$" })
        {
            Add(gram, 0x85EBCA6Bu, 0.5f);
        }

        double norm = Math.Sqrt(expected.Values.Sum(v => (double)v * v));
        (int[] indices, float[] values) = Hash("TIN");
        Assert.Equal(expected.Keys.Order(), indices);
        for (int k = 0; k < indices.Length; k++)
        {
            Assert.Equal(expected[indices[k]] / norm, values[k], 6);
        }
    }

    [Fact]
    public void Distinct_words_collide_about_as_often_as_a_uniform_hash_predicts()
    {
        // 2,000 distinct words into 2^14 buckets: a uniform hash puts the expected number of occupied buckets at
        // B(1 − (1 − 1/B)^n); far more collisions than that would mean the hash is not spreading its input.
        const int n = 2_000;
        var buckets = new HashSet<int>();
        for (int w = 0; w < n; w++)
        {
            buckets.Add((int)(TextHasher.Mix($"word{w}", 3) & (Buckets - 1)));
        }

        double expectedCollisions = n - Buckets * (1 - Math.Pow(1 - 1.0 / Buckets, n));
        int collisions = n - buckets.Count;
        Assert.InRange(collisions, 0, 2 * expectedCollisions + 10);
    }

    [Fact]
    public void Text_without_words_gives_no_features_and_a_huge_text_stays_bounded()
    {
        Assert.Empty(Hash(" - !! ,.").Indices);
        Assert.Empty(Hash(string.Empty).Indices);

        // Only the first MaxCharacters characters are read, and the features never exceed the destination.
        string head = string.Join(' ', Enumerable.Range(0, 100).Select(i => $"w{i}"));
        string huge = head.PadRight(TextHasher.MaxCharacters) + new string('x', 1_000_000);
        (int[] indices, _) = Hash(huge);
        Assert.InRange(indices.Length, 1, TextHasher.MaxFeatures);
        Assert.Equal(Hash(head.PadRight(TextHasher.MaxCharacters)), Hash(huge), new VectorComparer());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    public void A_bucket_count_that_is_not_a_power_of_two_is_rejected(int buckets)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Hash("x", buckets: buckets));
        Assert.Equal("buckets", e.ParamName);
    }

    private sealed class VectorComparer : IEqualityComparer<(int[] Indices, float[] Values)>
    {
        public bool Equals((int[] Indices, float[] Values) x, (int[] Indices, float[] Values) y) =>
            x.Indices.SequenceEqual(y.Indices) && x.Values.SequenceEqual(y.Values);

        public int GetHashCode((int[] Indices, float[] Values) obj) => obj.Indices.Length;
    }
}

using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>The reference for top-K: a full stable descending sort of the non-excluded positions.</summary>
internal static class TopKReference
{
    internal static int[] Indices(float[] scores, int k, IEnumerable<int>? excluded = null)
    {
        var skip = new HashSet<int>(excluded ?? []);
        return Enumerable.Range(0, scores.Length)
            .Where(i => !skip.Contains(i))
            .OrderBy(i => float.IsNaN(scores[i]) ? 1 : 0)                    // NaN after every number
            .ThenByDescending(i => float.IsNaN(scores[i]) ? 0f : scores[i])  // -0 == +0 here, so they tie
            .ThenBy(i => i)                                                  // stable: lower index first
            .Take(k)
            .ToArray();
    }

    /// <summary>Runs the kernel and asserts it equals the reference, including the untouched tail.</summary>
    internal static void Check(float[] scores, int k, int[]? excluded, string context)
    {
        int[] indices = new int[k];
        float[] values = new float[k];
        indices.AsSpan().Fill(-7);
        values.AsSpan().Fill(-7f);

        int written = excluded is null
            ? Kernels.TopK(scores, indices, values)
            : Kernels.TopK(scores, excluded, indices, values);

        int[] expected = Indices(scores, k, excluded);
        Assert.True(expected.Length == written, $"{context}: wrote {written}, expected {expected.Length}");
        Assert.True(expected.AsSpan().SequenceEqual(indices.AsSpan(0, written)),
            $"{context}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", indices[..written])}]");
        for (int j = 0; j < written; j++)
        {
            Assert.Equal(scores[expected[j]], values[j]);
        }

        Assert.All(indices[written..], v => Assert.Equal(-7, v));
        Assert.All(values[written..], v => Assert.Equal(-7f, v));
    }
}

public class TopKTests
{
    private static readonly int[] s_ks = [0, 1, 2, 3, 8, 10, 17, 64];

    /// <summary>Scores quantised to a few levels (many ties), with some NaN, ±inf and ±0.</summary>
    private static float[] TieHeavyScores(int length, int seed)
    {
        var random = new Random(seed);
        float[] scores = new float[length];
        for (int i = 0; i < length; i++)
        {
            scores[i] = random.Next(12) switch
            {
                0 => float.NaN,
                1 => float.NegativeInfinity,
                2 => float.PositiveInfinity,
                3 => -0f,
                4 => 0f,
                int level => level,
            };
        }

        return scores;
    }

    private static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 64; n++)
        {
            yield return n;
        }

        foreach (int n in TestData.AwkwardSizes)
        {
            yield return n;
        }

        yield return 1000;
        yield return 10_007;
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Matches_stable_sort_on_distinct_scores(int width)
    {
        foreach (int n in Lengths())
        {
            float[] scores = TestData.Uniform(n, seed: n);
            foreach (int k in s_ks)
            {
                SimdPaths.Run(width, () => TopKReference.Check(scores, k, null, $"w{width} n{n} k{k}"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Matches_stable_sort_with_ties_NaN_and_infinities(int width)
    {
        foreach (int n in Lengths())
        {
            float[] scores = TieHeavyScores(n, seed: n);
            foreach (int k in s_ks.Append(n).Append(n + 3))
            {
                SimdPaths.Run(width, () => TopKReference.Check(scores, k, null, $"w{width} n{n} k{k}"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Matches_stable_sort_with_exclusions(int width)
    {
        foreach (int n in Lengths())
        {
            float[] scores = n % 2 == 0 ? TieHeavyScores(n, seed: n) : TestData.Uniform(n, seed: n);
            var random = new Random(n);
            int[] excluded = Enumerable.Range(0, n).Where(_ => random.Next(3) == 0).ToArray();
            foreach (int k in s_ks.Append(n))
            {
                SimdPaths.Run(width, () => TopKReference.Check(scores, k, excluded, $"w{width} n{n} k{k}"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Monotone_and_constant_inputs(int width)
    {
        // Ascending input replaces the heap root at every step (the worst case); descending input
        // is all skips after the fill; a constant input is all ties, resolved by index.
        const int N = 5000;
        float[] ascending = new float[N];
        float[] descending = new float[N];
        float[] constant = new float[N];
        for (int i = 0; i < N; i++)
        {
            ascending[i] = i;
            descending[i] = -i;
            constant[i] = 1.5f;
        }

        SimdPaths.Run(width, () =>
        {
            foreach (int k in new[] { 1, 10, 100 })
            {
                TopKReference.Check(ascending, k, null, $"ascending k{k}");
                TopKReference.Check(descending, k, null, $"descending k{k}");
                TopKReference.Check(constant, k, null, $"constant k{k}");
                TopKReference.Check(constant, k, [0, 1, 5, 4999], $"constant excluded k{k}");
            }
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void NaN_ranks_below_minus_infinity(int width)
    {
        float[] scores = new float[40];
        scores.AsSpan().Fill(float.NaN);
        scores[33] = float.NegativeInfinity;
        scores[2] = -1e30f;
        int[] indices = new int[4];
        float[] values = new float[4];
        int written = 0;
        SimdPaths.Run(width, () => written = Kernels.TopK(scores, indices, values));

        Assert.Equal(4, written);
        Assert.Equal([2, 33, 0, 1], indices);
        Assert.Equal(-1e30f, values[0]);
        Assert.Equal(float.NegativeInfinity, values[1]);
        Assert.True(float.IsNaN(values[2]) && float.IsNaN(values[3]));
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Large_input_top_ten(int width)
    {
        float[] scores = TestData.Uniform(100_000, seed: 99);
        scores[77_777] = 5f;
        scores[3] = 5f;
        SimdPaths.Run(width, () =>
        {
            TopKReference.Check(scores, 10, null, $"w{width}");
            TopKReference.Check(scores, 10, [3, 50_000, 99_999], $"w{width} excluded");
        });
    }

    [Fact]
    public void Everything_excluded_or_nothing_to_select()
    {
        int[] indices = [-7, -7];
        float[] values = [-7f, -7f];
        Assert.Equal(0, Kernels.TopK([1f, 2f, 3f], [0, 1, 2], indices, values));
        Assert.Equal(0, Kernels.TopK([], indices, values));
        Assert.Equal(0, Kernels.TopK([1f, 2f], [], []));
        Assert.Equal([-7, -7], indices);
        Assert.Equal([-7f, -7f], values);

        Assert.Equal(1, Kernels.TopK([1f, 2f, 3f], [0, 2], indices, values));
        Assert.Equal(1, indices[0]);
        Assert.Equal(2f, values[0]);
    }

    [Fact]
    public void Signed_zeros_tie_by_index()
    {
        int[] indices = new int[3];
        float[] values = new float[3];
        Kernels.TopK([-0f, 0f, -0f, -1f], indices, values);
        Assert.Equal([0, 1, 2], indices);
    }

    [Fact]
    public void Values_length_must_match_indices()
    {
        var ex = Assert.Throws<ArgumentException>(() => Kernels.TopK([1f, 2f, 3f], new int[2], new float[3]));
        Assert.Equal("values", ex.ParamName);
    }

    [Fact]
    public void Values_overlapping_scores_throws()
    {
        float[] buffer = [5f, 4f, 3f, 2f, 1f];
        var ex = Assert.Throws<ArgumentException>(() => Kernels.TopK(buffer.AsSpan(0, 4), new int[2], buffer.AsSpan(3, 2)));
        Assert.Equal("values", ex.ParamName);
        Assert.Equal([5f, 4f, 3f, 2f, 1f], buffer);
    }

    [Theory]
    [InlineData(new[] { 3, 1 })]
    [InlineData(new[] { 1, 1 })]
    [InlineData(new[] { 0, 4, 2, 5 })]
    public void Unsorted_or_repeated_exclusions_throw(int[] excluded)
    {
        int[] indices = [-7, -7];
        var ex = Assert.Throws<ArgumentException>(() => Kernels.TopK(new float[8], excluded, indices, new float[2]));
        Assert.Equal("excludedSorted", ex.ParamName);
        Assert.Contains("strictly ascending", ex.Message, StringComparison.Ordinal);
        Assert.Equal([-7, -7], indices);
    }

    [Theory]
    [InlineData(new[] { -1 })]
    [InlineData(new[] { 2, 8 })]
    [InlineData(new[] { int.MaxValue })]
    public void Out_of_range_exclusions_throw(int[] excluded)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.TopK(new float[8], excluded, new int[2], new float[2]));
        Assert.Equal("excludedSorted", ex.ParamName);
        Assert.Contains("[0, 8)", ex.Message, StringComparison.Ordinal);
    }
}

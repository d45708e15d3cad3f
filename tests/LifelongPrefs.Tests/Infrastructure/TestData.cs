using LifelongPrefs.Tensors;

namespace LifelongPrefs.Tests.Infrastructure;

/// <summary>Seeded random inputs for kernel tests.</summary>
internal static class TestData
{
    /// <summary>Uniform values in [-scale, scale) from a fixed seed.</summary>
    internal static float[] Uniform(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return values;
    }

    /// <summary>Lengths every element-wise kernel is tested at: 0..256 plus a few large, odd ones.</summary>
    internal static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 256; n++)
        {
            yield return n;
        }

        yield return 1000;
        yield return 4099;
        yield return 65_537;
    }

    /// <summary>Awkward matrix dimensions around the vector widths and the blocking sizes.</summary>
    internal static readonly int[] AwkwardSizes = [1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 255, 257];
}

/// <summary>The SIMD paths our own kernels implement; tests run each one explicitly.</summary>
public static class SimdPaths
{
    /// <summary>Scalar, Vector256 and Vector512 (the last emulated in software where AVX-512 is absent).</summary>
    public static TheoryData<int> All => new() { 0, 256, 512 };

    /// <summary>Runs <paramref name="action"/> with the kernels forced onto <paramref name="width"/>.</summary>
    internal static void Run(int width, Action action)
    {
        using (Simd.Force((SimdWidth)width))
        {
            action();
        }
    }
}

/// <summary>Tolerance assertions that say which element failed and by how much.</summary>
internal static class Approx
{
    /// <summary>
    /// Asserts |expected - actual| &lt;= atol + rtol * |expected| for every element, and that
    /// NaN/infinity appear in the same places.
    /// </summary>
    internal static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string context = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Equal(expected[i], actual[i], rtol, atol, $"{context}[{i}]");
        }
    }

    /// <summary>Scalar form of <see cref="Equal(ReadOnlySpan{float}, ReadOnlySpan{float}, double, double, string)"/>.</summary>
    internal static void Equal(double expected, double actual, double rtol, double atol, string context = "")
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals(actual), $"{context}: expected {expected}, got {actual}");
            return;
        }

        double error = Math.Abs(expected - actual);
        double bound = atol + rtol * Math.Abs(expected);
        Assert.True(error <= bound, $"{context}: expected {expected:R}, got {actual:R}, |error| {error:G3} > bound {bound:G3}");
    }
}

using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>The row quantizer on every SIMD path against a plain loop written here (round half to even, clamp, offset 128).</summary>
public class Int8QuantizeTests
{
    private static (float Max, byte[] Levels) Reference(float[] row, int length)
    {
        var levels = new byte[length];
        levels.AsSpan().Fill(7); // left alone unless the row has a finite, nonzero maximum
        float max = 0f;
        foreach (float v in row)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        if (max > 0f && float.IsFinite(max))
        {
            for (int j = 0; j < row.Length; j++)
            {
                double scaled = row[j] * (127f / max); // the float product, then rounded half to even
                levels[j] = (byte)(Math.Clamp((int)Math.Round(scaled, MidpointRounding.ToEven), -127, 127) + 128);
            }
        }

        return (max, levels);
    }

    private static void AssertSame(float[] row)
    {
        (float max, byte[] expected) = Reference(row, row.Length + 3);
        var actual = new byte[row.Length + 3];
        actual.AsSpan().Fill(7);
        float got = Kernels.QuantizeInt8Row(row, actual);
        Assert.Equal(max, got);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Levels_equal_the_plain_loop_for_every_length_and_scale(int width) => SimdPaths.Run(width, () =>
    {
        var random = new Random(5);
        foreach (int n in new[] { 0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 130 })
        {
            foreach (float scale in new[] { 1e-30f, 1e-3f, 1f, 37f, 1e30f })
            {
                var row = new float[n];
                for (int j = 0; j < n; j++)
                {
                    row[j] = (float)((random.NextDouble() * 2) - 1) * scale;
                }

                AssertSame(row);
            }
        }
    });

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Halves_round_to_even_and_the_extreme_maps_to_plus_or_minus_127(int width) => SimdPaths.Run(width, () =>
    {
        // With max 127 the levels are the values themselves: the halves ±0.5, 1.5, 2.5 … must go to the even neighbour.
        var row = new float[70];
        for (int j = 0; j < row.Length; j++)
        {
            row[j] = (j % 2 == 0 ? 1 : -1) * (0.5f + (j % 9));
        }

        row[33] = -127f;
        AssertSame(row);
        var levels = new byte[70];
        Kernels.QuantizeInt8Row(row, levels);
        Assert.Equal(128 + 0, levels[0]);    // 0.5 → 0
        Assert.Equal(128 - 2, levels[1]);    // −1.5 → −2
        Assert.Equal(128 + 2, levels[2]);    // 2.5 → 2
        Assert.Equal(128 - 127, levels[33]); // the maximum
    });

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void A_zero_nan_or_infinite_row_leaves_the_levels_alone(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in new[] { 5, 16, 40, 64, 77 })
        {
            foreach (int at in new[] { 0, n / 2, n - 1 })
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var row = Enumerable.Range(0, n).Select(j => (j % 5) - 2f).ToArray();
                    row[at] = bad;
                    var levels = new byte[n];
                    levels.AsSpan().Fill(9);
                    float max = Kernels.QuantizeInt8Row(row, levels);
                    Assert.Equal(float.IsNaN(bad) ? float.NaN : float.PositiveInfinity, max);
                    Assert.All(levels, b => Assert.Equal(9, b));
                }
            }

            var zeros = new byte[n];
            Assert.Equal(0f, Kernels.QuantizeInt8Row(new float[n], zeros));
            Assert.All(zeros, b => Assert.Equal(0, b));
        }
    });

    [Fact]
    public void Short_levels_are_rejected() =>
        Assert.Throws<ArgumentException>(() => Kernels.QuantizeInt8Row(new float[9], new byte[8]));
}

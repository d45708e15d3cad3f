using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>Plain double-precision references for the softmax family, one row at a time.</summary>
internal static class SoftmaxReference
{
    internal static double Max(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float v in row)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    internal static double LogSumExp(ReadOnlySpan<float> row)
    {
        double max = Max(row);
        if (double.IsNegativeInfinity(max))
        {
            return double.NegativeInfinity;
        }

        double sum = 0;
        foreach (float v in row)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }

    internal static double[] Softmax(ReadOnlySpan<float> row)
    {
        double lse = LogSumExp(row);
        var p = new double[row.Length];
        for (int j = 0; j < row.Length; j++)
        {
            p[j] = Math.Exp(row[j] - lse);
        }

        return p;
    }

    internal static double[] LogSoftmax(ReadOnlySpan<float> row)
    {
        double max = Max(row);
        double logSum = LogSumExp(row) - max;
        var l = new double[row.Length];
        for (int j = 0; j < row.Length; j++)
        {
            l[j] = (row[j] - max) - logSum;
        }

        return l;
    }

    internal static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);
}

public class SoftmaxTests
{
    // Tolerance rule (all comparisons against the double reference, |error| <= atol + rtol·|expected|):
    // - softmax: rtol 1e-5. The shifted exponent x - max is rounded once in float, which moves
    //   exp by a relative |x - max|·2^-24 (< 2e-6 for the |x| <= 10 used here); the vector exp is
    //   within a few ulp and the float row sum adds ~1e-6. atol 1e-37 covers results below 2^-126
    //   (~1.2e-38), which the vector exp flushes to zero.
    // - log-softmax and log-sum-exp: atol 1e-5 + rtol 1e-6, the same errors seen additively
    //   through the log.
    private const double SoftmaxRtol = 1e-5;
    private const double SoftmaxAtol = 1e-37;
    private const double LogRtol = 1e-6;
    private const double LogAtol = 1e-5;

    /// <summary>Columns 0..64, the awkward sizes, and one large row.</summary>
    internal static IEnumerable<int> Columns()
    {
        for (int c = 0; c <= 64; c++)
        {
            yield return c;
        }

        foreach (int c in TestData.AwkwardSizes)
        {
            yield return c;
        }

        yield return 10_000;
    }

    private static int RowsFor(int columns) => columns > 1000 ? 2 : 3;

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void SoftmaxRows_matches_reference(int width)
    {
        foreach (int columns in Columns())
        {
            int rows = RowsFor(columns);
            float[] x = TestData.Uniform(rows * columns, seed: columns, scale: 10f);
            float[] actual = new float[rows * columns];
            SimdPaths.Run(width, () => Kernels.SoftmaxRows(x, rows, columns, actual));

            for (int r = 0; r < rows; r++)
            {
                float[] expected = SoftmaxReference.ToFloat(SoftmaxReference.Softmax(x.AsSpan(r * columns, columns)));
                Approx.Equal(expected, actual.AsSpan(r * columns, columns), SoftmaxRtol, SoftmaxAtol, $"w{width} c{columns} r{r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void LogSoftmaxRows_matches_reference(int width)
    {
        foreach (int columns in Columns())
        {
            int rows = RowsFor(columns);
            float[] x = TestData.Uniform(rows * columns, seed: 1000 + columns, scale: 10f);
            float[] actual = new float[rows * columns];
            SimdPaths.Run(width, () => Kernels.LogSoftmaxRows(x, rows, columns, actual));

            for (int r = 0; r < rows; r++)
            {
                float[] expected = SoftmaxReference.ToFloat(SoftmaxReference.LogSoftmax(x.AsSpan(r * columns, columns)));
                Approx.Equal(expected, actual.AsSpan(r * columns, columns), LogRtol, LogAtol, $"w{width} c{columns} r{r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void LogSumExpRows_matches_reference(int width)
    {
        foreach (int columns in Columns())
        {
            int rows = RowsFor(columns);
            float[] x = TestData.Uniform(rows * columns, seed: 2000 + columns, scale: 10f);
            float[] actual = new float[rows];
            SimdPaths.Run(width, () => Kernels.LogSumExpRows(x, rows, columns, actual));

            for (int r = 0; r < rows; r++)
            {
                double expected = SoftmaxReference.LogSumExp(x.AsSpan(r * columns, columns));
                Approx.Equal((float)expected, actual[r], LogRtol, LogAtol, $"w{width} c{columns} r{r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Softmax_of_huge_spread_is_stable(int width)
    {
        float[] x = [1000f, 0f, -5f];
        float[] p = new float[3];
        SimdPaths.Run(width, () => Kernels.SoftmaxRows(x, 1, 3, p));

        // e^-1000 and e^-1005 underflow to exactly 0 in float; the point is no NaN.
        Assert.Equal([1f, 0f, 0f], p);

        // The same on a row long enough for the vector paths, with the max in the tail.
        float[] wide = new float[37];
        wide.AsSpan().Fill(-5f);
        wide[^1] = 1000f;
        wide[3] = 0f;
        float[] q = new float[37];
        SimdPaths.Run(width, () => Kernels.SoftmaxRows(wide, 1, 37, q));
        Assert.Equal(1f, q[^1]);
        Assert.All(q[..^1], v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Hand_computed_values(int width)
    {
        SimdPaths.Run(width, () =>
        {
            // softmax([0, ln 2]) = [1/3, 2/3]; log-softmax = [-ln 3, ln 2 - ln 3].
            float[] x = [0f, MathF.Log(2f)];
            float[] p = new float[2];
            Kernels.SoftmaxRows(x, 1, 2, p);
            Approx.Equal(1.0 / 3, p[0], 1e-6, 0);
            Approx.Equal(2.0 / 3, p[1], 1e-6, 0);

            // A constant row of 20 is uniform whatever the constant.
            float[] flat = new float[20];
            flat.AsSpan().Fill(1e4f);
            float[] uniform = new float[20];
            Kernels.SoftmaxRows(flat, 1, 20, uniform);
            Assert.All(uniform, v => Approx.Equal(0.05, v, 1e-6, 0));

            // log-sum-exp of [1000, 1000] = 1000 + ln 2; of 17 zeros = ln 17.
            float[] lse = new float[2];
            float[] pair = new float[34];
            pair[0] = 1000f;
            pair[1] = 1000f;
            Kernels.LogSumExpRows(pair.AsSpan(0, 2), 1, 2, lse);
            Approx.Equal(1000 + Math.Log(2), lse[0], 1e-7, 0);
            Kernels.LogSumExpRows(new float[17], 1, 17, lse);
            Approx.Equal(Math.Log(17), lse[0], 1e-6, 0);

            // Large logits keep their small difference in log space: [1e4, 1e4 - 1].
            float[] big = [1e4f, 1e4f - 1f];
            float[] ls = new float[2];
            Kernels.LogSoftmaxRows(big, 1, 2, ls);
            double log1pe = Math.Log(1 + Math.Exp(-1));
            Approx.Equal(-log1pe, ls[0], 1e-6, 0);
            Approx.Equal(-1 - log1pe, ls[1], 1e-6, 0);
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Special_values_follow_documented_rules(int width)
    {
        foreach (int columns in new[] { 3, 8, 17, 40 })
        {
            SimdPaths.Run(width, () =>
            {
                // Row 0: all -inf -> softmax NaN, log-softmax NaN, LSE -inf.
                // Row 1: one NaN  -> NaN everywhere.
                // Row 2: one +inf -> NaN everywhere.
                // Row 3: finite with -inf entries -> exact zeros / -inf.
                float[] x = new float[4 * columns];
                x.AsSpan(0, columns).Fill(float.NegativeInfinity);
                x[columns + (columns / 2)] = float.NaN;
                x[(2 * columns) + columns - 1] = float.PositiveInfinity;
                x.AsSpan(3 * columns, columns).Fill(float.NegativeInfinity);
                x[(3 * columns) + 1] = 2f;

                float[] p = new float[x.Length];
                float[] l = new float[x.Length];
                float[] lse = new float[4];
                Kernels.SoftmaxRows(x, 4, columns, p);
                Kernels.LogSoftmaxRows(x, 4, columns, l);
                Kernels.LogSumExpRows(x, 4, columns, lse);

                Assert.All(p.AsSpan(0, 3 * columns).ToArray(), v => Assert.True(float.IsNaN(v)));
                Assert.All(l.AsSpan(0, 3 * columns).ToArray(), v => Assert.True(float.IsNaN(v)));
                Assert.Equal(float.NegativeInfinity, lse[0]);
                Assert.True(float.IsNaN(lse[1]));
                Assert.True(float.IsNaN(lse[2]));
                Assert.Equal(2f, lse[3]);

                for (int j = 0; j < columns; j++)
                {
                    Assert.Equal(j == 1 ? 1f : 0f, p[(3 * columns) + j]);
                    Assert.Equal(j == 1 ? 0f : float.NegativeInfinity, l[(3 * columns) + j]);
                }
            });
        }
    }

    [Fact]
    public void NaN_next_to_minus_infinity_is_not_mistaken_for_an_empty_row()
    {
        foreach (int width in new[] { 0, 256, 512 })
        {
            foreach (int columns in new[] { 2, 9, 33 })
            {
                float[] x = new float[columns];
                x.AsSpan().Fill(float.NegativeInfinity);
                x[columns - 1] = float.NaN;
                float[] lse = new float[1];
                SimdPaths.Run(width, () => Kernels.LogSumExpRows(x, 1, columns, lse));
                Assert.True(float.IsNaN(lse[0]), $"w{width} c{columns}: {lse[0]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Empty_shapes(int width)
    {
        SimdPaths.Run(width, () =>
        {
            float[] sentinel = [42f, 42f, 42f];
            Kernels.SoftmaxRows([], 3, 0, sentinel);
            Kernels.LogSoftmaxRows([], 0, 5, sentinel);
            Kernels.SoftmaxRows([], 0, 0, []);
            Assert.Equal([42f, 42f, 42f], sentinel);

            // The log of an empty sum.
            Kernels.LogSumExpRows([], 3, 0, sentinel);
            Assert.Equal([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity], sentinel);
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void In_place_equals_out_of_place(int width)
    {
        foreach (int columns in new[] { 1, 7, 8, 15, 16, 17, 31, 33, 65, 257 })
        {
            const int Rows = 3;
            float[] x = TestData.Uniform(Rows * columns, seed: 7 + columns, scale: 5f);
            SimdPaths.Run(width, () =>
            {
                float[] expected = new float[x.Length];
                float[] inPlace = (float[])x.Clone();
                Kernels.SoftmaxRows(x, Rows, columns, expected);
                Kernels.SoftmaxRows(inPlace, Rows, columns, inPlace);
                Assert.Equal(expected, inPlace);

                inPlace = (float[])x.Clone();
                Kernels.LogSoftmaxRows(x, Rows, columns, expected);
                Kernels.LogSoftmaxRows(inPlace, Rows, columns, inPlace);
                Assert.Equal(expected, inPlace);

                // LSE may also start at x: element r lies in a row already read.
                inPlace = (float[])x.Clone();
                float[] lse = new float[Rows];
                Kernels.LogSumExpRows(x, Rows, columns, lse);
                Kernels.LogSumExpRows(inPlace, Rows, columns, inPlace);
                Assert.Equal(lse, inPlace.AsSpan(0, Rows).ToArray());
            });
        }
    }

    [Fact]
    public void Repeated_calls_are_bit_identical()
    {
        float[] x = TestData.Uniform(5 * 301, seed: 3, scale: 20f);
        float[] first = new float[x.Length];
        float[] second = new float[x.Length];
        Kernels.SoftmaxRows(x, 5, 301, first);
        Kernels.SoftmaxRows(x, 5, 301, second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Destination_longer_than_needed_keeps_its_tail()
    {
        float[] x = TestData.Uniform(6, seed: 1);
        float[] destination = [9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f];
        Kernels.SoftmaxRows(x, 2, 3, destination);
        Assert.Equal([9f, 9f], destination[6..]);
        float[] lse = [9f, 9f, 9f];
        Kernels.LogSumExpRows(x, 2, 3, lse);
        Assert.Equal(9f, lse[2]);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        float[] x = new float[12];
        float[] d = new float[12];

        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.SoftmaxRows(x.AsSpan(0, 11), 3, 4, d)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.SoftmaxRows(x, 3, 4, d.AsSpan(0, 11))).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.LogSoftmaxRows(x, -1, 4, d)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.LogSumExpRows(x, 3, -4, d)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.LogSumExpRows(x, 3, 4, d.AsSpan(0, 2))).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.LogSumExpRows(x, 65536, 65536, d)).ParamName);
    }

    [Fact]
    public void Partial_overlap_throws()
    {
        float[] buffer = TestData.Uniform(13, seed: 5);
        float[] before = (float[])buffer.Clone();

        Assert.Equal("destination", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxRows(buffer.AsSpan(0, 12), 3, 4, buffer.AsSpan(1, 12))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(
            () => Kernels.LogSoftmaxRows(buffer.AsSpan(1, 12), 3, 4, buffer.AsSpan(0, 12))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(
            () => Kernels.LogSumExpRows(buffer.AsSpan(0, 12), 3, 4, buffer.AsSpan(5, 3))).ParamName);
        Assert.Equal(before, buffer);
    }
}

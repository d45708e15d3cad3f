using FsCheck.Xunit;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

public class ReductionTests
{
    public static TheoryData<int> Widths => SimdPaths.All;

    /// <summary>
    /// Matrix shapes: a long or wide strip for every <see cref="TestData.Lengths"/> value (so each vector
    /// tail is hit along both axes), and the grid of awkward sizes.
    /// </summary>
    private static IEnumerable<(int Rows, int Columns)> Shapes()
    {
        foreach (int n in TestData.Lengths())
        {
            yield return (3, n);
            yield return (n, 3);
        }

        foreach (int r in TestData.AwkwardSizes)
        {
            foreach (int c in TestData.AwkwardSizes)
            {
                yield return (r, c);
            }
        }
    }

    // ---- double-precision references -------------------------------------------------------

    private static (double Sum, double SumAbs) RefRow(float[] x, int columns, int r)
    {
        double sum = 0, abs = 0;
        for (int c = 0; c < columns; c++)
        {
            sum += x[r * columns + c];
            abs += Math.Abs(x[r * columns + c]);
        }

        return (sum, abs);
    }

    private static (double Sum, double SumAbs) RefColumn(float[] x, int rows, int columns, int c)
    {
        double sum = 0, abs = 0;
        for (int r = 0; r < rows; r++)
        {
            sum += x[r * columns + c];
            abs += Math.Abs(x[r * columns + c]);
        }

        return (sum, abs);
    }

    /// <summary>Two-pass population variance in double of x[start], x[start + stride], … (count values).</summary>
    private static double RefVariance(float[] x, int start, int stride, int count)
    {
        double sum = 0;
        for (int k = 0; k < count; k++)
        {
            sum += x[start + k * stride];
        }

        double mean = sum / count, squares = 0;
        for (int k = 0; k < count; k++)
        {
            double d = x[start + k * stride] - mean;
            squares += d * d;
        }

        return squares / count;
    }

    /// <summary>
    /// Float rounding errors in a sum of <paramref name="count"/> terms behave like a random walk, so
    /// |error| &lt;= 1e-6 · √count · Σ|x| (1e-6 ≈ 17 ulps of headroom per step) whatever the order.
    /// </summary>
    private static void AssertSum(double expected, double sumAbs, int count, float actual, string kernel, int rows, int columns, int index)
    {
        double bound = 1e-6 * Math.Sqrt(Math.Max(count, 1)) * sumAbs;
        // Formatting only on failure keeps the ~10⁵ checks per width cheap.
        if (!(Math.Abs(expected - actual) <= bound))
        {
            Assert.Fail($"{kernel} {rows}x{columns} [{index}]: expected {expected:R}, got {actual:R}, bound {bound:G3}");
        }
    }

    // ---- sums and means ------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Widths))]
    public void SumRows_And_MeanRows_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach ((int rows, int columns) in Shapes())
        {
            float[] x = TestData.Uniform(rows * columns, seed: rows * 7919 + columns, scale: 10f);
            var sums = new float[rows];
            var means = new float[rows];

            Kernels.SumRows(x, rows, columns, sums);
            if (columns > 0 || rows == 0)
            {
                Kernels.MeanRows(x, rows, columns, means);
            }

            for (int r = 0; r < rows; r++)
            {
                (double sum, double abs) = RefRow(x, columns, r);
                AssertSum(sum, abs, columns, sums[r], "SumRows", rows, columns, r);
                if (columns > 0)
                {
                    AssertSum(sum / columns, abs / columns, columns, means[r], "MeanRows", rows, columns, r);
                }
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void SumColumns_And_MeanColumns_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach ((int rows, int columns) in Shapes())
        {
            float[] x = TestData.Uniform(rows * columns, seed: rows * 7919 + columns, scale: 10f);
            var sums = new float[columns];
            var means = new float[columns];

            Kernels.SumColumns(x, rows, columns, sums);
            if (rows > 0 || columns == 0)
            {
                Kernels.MeanColumns(x, rows, columns, means);
            }

            for (int c = 0; c < columns; c++)
            {
                (double sum, double abs) = RefColumn(x, rows, columns, c);
                AssertSum(sum, abs, rows, sums[c], "SumColumns", rows, columns, c);
                if (rows > 0)
                {
                    AssertSum(sum / rows, abs / rows, rows, means[c], "MeanColumns", rows, columns, c);
                }
            }
        }
    });

    [Fact]
    public void SumColumns_IsBitIdenticalOnEveryWidth()
    {
        // Each lane accumulates its column's rows in order, exactly like the scalar loop.
        foreach ((int rows, int columns) in new[] { (5, 1), (33, 7), (17, 8), (9, 17), (65, 63), (3, 257), (200, 100) })
        {
            float[] x = TestData.Uniform(rows * columns, seed: rows + columns, scale: 1000f);
            float[][] results = [new float[columns], new float[columns], new float[columns]];
            SimdPaths.Run(0, () => Kernels.SumColumns(x, rows, columns, results[0]));
            SimdPaths.Run(256, () => Kernels.SumColumns(x, rows, columns, results[1]));
            SimdPaths.Run(512, () => Kernels.SumColumns(x, rows, columns, results[2]));
            Assert.Equal(results[0], results[1]);
            Assert.Equal(results[0], results[2]);
        }
    }

    // ---- mean and variance -------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Widths))]
    public void MeanVarianceRows_MatchesTwoPassReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach ((int rows, int columns) in Shapes())
        {
            if (columns == 0)
            {
                continue;
            }

            float[] x = TestData.Uniform(rows * columns, seed: rows * 7919 + columns, scale: 3f);
            var mean = new float[rows];
            var variance = new float[rows];
            Kernels.MeanVarianceRows(x, rows, columns, mean, variance);

            for (int r = 0; r < rows; r++)
            {
                (double sum, double abs) = RefRow(x, columns, r);
                AssertSum(sum / columns, abs / columns, columns, mean[r], "mean", rows, columns, r);
                AssertVariance(RefVariance(x, r * columns, 1, columns), variance[r], columns, "variance", rows, columns, r);
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void MeanVarianceColumns_MatchesTwoPassReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach ((int rows, int columns) in Shapes())
        {
            if (rows == 0)
            {
                continue;
            }

            float[] x = TestData.Uniform(rows * columns, seed: rows * 7919 + columns, scale: 3f);
            var mean = new float[columns];
            var variance = new float[columns];
            var meanOnly = new float[columns];
            Kernels.MeanVarianceColumns(x, rows, columns, mean, variance);
            Kernels.MeanColumns(x, rows, columns, meanOnly);
            Assert.Equal(meanOnly, mean);

            for (int c = 0; c < columns; c++)
            {
                (double sum, double abs) = RefColumn(x, rows, columns, c);
                AssertSum(sum / rows, abs / rows, rows, mean[c], "mean", rows, columns, c);
                AssertVariance(RefVariance(x, c, columns, rows), variance[c], rows, "variance", rows, columns, c);
            }
        }
    });

    /// <summary>
    /// Deviations from the mean are formed with one relative rounding each and the corrected two-pass
    /// formula removes the mean's own error, so the variance carries the sum rule's relative error:
    /// |error| &lt;= 1e-6 · √count · variance (plus 1e-12 for variances that are 0).
    /// </summary>
    private static void AssertVariance(double expected, float actual, int count, string kernel, int rows, int columns, int index)
    {
        double rtol = 1e-6 * Math.Sqrt(count);
        if (!(actual >= 0 && Math.Abs(expected - actual) <= 1e-12 + rtol * expected))
        {
            Assert.True(actual >= 0, $"{kernel} {rows}x{columns} [{index}]: negative variance {actual}");
            Approx.Equal(expected, actual, rtol, atol: 1e-12, $"{kernel} {rows}x{columns} [{index}]");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Variance_WithLargeOffset_DoesNotCancel(int width) => SimdPaths.Run(width, () =>
    {
        // Values 1e4 ± 1: E[x²] − E[x]² in float would lose every digit (ulp(1e8) = 8 > variance 1/3).
        foreach ((int rows, int columns) in new[] { (4, 1000), (1000, 4), (33, 65), (65, 33) })
        {
            float[] x = TestData.Uniform(rows * columns, seed: rows + columns).Select(v => 1e4f + v).ToArray();

            var rowMean = new float[rows];
            var rowVariance = new float[rows];
            Kernels.MeanVarianceRows(x, rows, columns, rowMean, rowVariance);
            for (int r = 0; r < rows; r++)
            {
                AssertVariance(RefVariance(x, r * columns, 1, columns), rowVariance[r], columns, "rows", rows, columns, r);
            }

            var columnMean = new float[columns];
            var columnVariance = new float[columns];
            Kernels.MeanVarianceColumns(x, rows, columns, columnMean, columnVariance);
            for (int c = 0; c < columns; c++)
            {
                double expected = RefVariance(x, c, columns, rows);
                AssertVariance(expected, columnVariance[c], rows, "columns", rows, columns, c);
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Variance_OfConstantData_IsZero(int width) => SimdPaths.Run(width, () =>
    {
        foreach ((int rows, int columns) in new[] { (3, 1), (3, 7), (5, 17), (17, 5), (16, 64), (64, 16) })
        {
            float[] x = Enumerable.Repeat(0.1f, rows * columns).ToArray();
            var mean = new float[Math.Max(rows, columns)];
            var variance = new float[Math.Max(rows, columns)];

            Kernels.MeanVarianceRows(x, rows, columns, mean, variance);
            // Even if the rounded mean is an ulp off, the (Σd)²/n correction cancels that exactly.
            Assert.All(variance.Take(rows), v => Assert.Equal(0f, v));

            Kernels.MeanVarianceColumns(x, rows, columns, mean, variance);
            Assert.All(variance.Take(columns), v => Assert.Equal(0f, v));
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void NaN_Propagates(int width) => SimdPaths.Run(width, () =>
    {
        const int rows = 4, columns = 20;
        float[] x = TestData.Uniform(rows * columns, seed: 5);
        x[2 * columns + 11] = float.NaN;
        var rowOut = new float[rows];
        var rowVar = new float[rows];
        var colOut = new float[columns];
        var colVar = new float[columns];

        Kernels.SumRows(x, rows, columns, rowOut);
        Assert.Equal([false, false, true, false], rowOut.Select(float.IsNaN));
        Kernels.MeanVarianceRows(x, rows, columns, rowOut, rowVar);
        Assert.Equal([false, false, true, false], rowVar.Select(float.IsNaN));

        Kernels.SumColumns(x, rows, columns, colOut);
        Assert.Equal(Enumerable.Range(0, columns).Select(c => c == 11), colOut.Select(float.IsNaN));
        Kernels.MeanVarianceColumns(x, rows, columns, colOut, colVar);
        Assert.Equal(Enumerable.Range(0, columns).Select(c => c == 11), colVar.Select(float.IsNaN));
    });

    // ---- empty dimensions and validation -------------------------------------------------------

    [Fact]
    public void EmptyDimensions_SumsAreZero_MeansOfNothingThrow()
    {
        var nan = Enumerable.Repeat(float.NaN, 4).ToArray();

        float[] sums = (float[])nan.Clone();
        Kernels.SumRows([], 3, 0, sums);
        Assert.Equal([0f, 0f, 0f, float.NaN], sums);

        sums = (float[])nan.Clone();
        Kernels.SumColumns([], 0, 4, sums);
        Assert.Equal([0f, 0f, 0f, 0f], sums);

        foreach (int width in new[] { 0, 256, 512 })
        {
            sums = Enumerable.Repeat(float.NaN, 40).ToArray();
            SimdPaths.Run(width, () => Kernels.SumColumns([], 0, 40, sums));
            Assert.All(sums, v => Assert.Equal(0f, v));
        }

        // Nothing to produce: fine.
        Kernels.MeanRows([], 0, 5, []);
        Kernels.MeanColumns([], 5, 0, []);
        Kernels.MeanVarianceRows([], 0, 0, [], []);
        Kernels.MeanVarianceColumns([], 0, 0, [], []);

        // A mean of zero elements: rejected, naming the empty dimension.
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.MeanRows([], 2, 0, new float[2])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.MeanColumns([], 0, 2, new float[2])).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.MeanVarianceRows([], 2, 0, new float[2], new float[2])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.MeanVarianceColumns([], 0, 2, new float[2], new float[2])).ParamName);
    }

    [Fact]
    public void InvalidArguments_Throw_NamingTheArgument()
    {
        var x = new float[12]; // 3 x 4

        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.SumRows(x, -3, 4, new float[3])).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.SumColumns(x, 3, -4, new float[4])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.SumRows(x, 3, 5, new float[3])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.MeanColumns(x, 2, 4, new float[4])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceRows(x, 65536, 65536, new float[3], new float[3])).ParamName);

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.SumRows(x, 3, 4, new float[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.SumColumns(x, 3, 4, new float[3])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.MeanRows(x, 3, 4, new float[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.MeanColumns(x, 3, 4, new float[3])).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceRows(x, 3, 4, new float[2], new float[3])).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceColumns(x, 3, 4, new float[4], new float[3])).ParamName);

        // Reductions never run in place: any overlap with the input, or between the two outputs, throws.
        var buffer = new float[20];
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.SumRows(buffer.AsSpan(0, 12), 3, 4, buffer.AsSpan(0, 3))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.SumColumns(buffer.AsSpan(0, 12), 3, 4, buffer.AsSpan(10, 4))).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceRows(buffer.AsSpan(0, 12), 3, 4, buffer.AsSpan(11, 3), new float[3])).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceColumns(buffer.AsSpan(0, 12), 3, 4, new float[4], buffer.AsSpan(8, 4))).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => Kernels.MeanVarianceColumns(x, 3, 4, buffer.AsSpan(0, 4), buffer.AsSpan(2, 4))).ParamName);
    }

    // ---- properties --------------------------------------------------------------------------

    [Property(MaxTest = 100)]
    public bool SumOfColumnSums_EqualsSumOfRowSums(byte rowsSeed, byte columnsSeed, int seed)
    {
        int rows = rowsSeed % 40, columns = columnsSeed % 40;
        float[] x = TestData.Uniform(rows * columns, seed, scale: 100f);
        double sumAbs = x.Sum(v => Math.Abs((double)v));
        foreach (int width in new[] { 0, 256, 512 })
        {
            var rowSums = new float[rows];
            var columnSums = new float[columns];
            SimdPaths.Run(width, () =>
            {
                Kernels.SumRows(x, rows, columns, rowSums);
                Kernels.SumColumns(x, rows, columns, columnSums);
            });

            // Both totals are within the sum rule of the exact total, hence within twice it of each other.
            double bound = 2e-6 * Math.Sqrt(Math.Max(rows * columns, 1)) * sumAbs;
            if (Math.Abs(rowSums.Sum(v => (double)v) - columnSums.Sum(v => (double)v)) > bound)
            {
                return false;
            }
        }

        return true;
    }
}

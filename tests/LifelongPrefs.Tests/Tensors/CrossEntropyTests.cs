using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>Plain double-precision reference for the (weighted) softmax cross-entropy.</summary>
internal static class CrossEntropyReference
{
    /// <summary>Σ w_r loss_r / Σ w_r over rows with target != -1; weights null means all 1.</summary>
    internal static double Loss(ReadOnlySpan<double> logits, int rows, int columns, int[] targets, float[]? weights)
    {
        double total = TotalWeight(targets, weights);
        if (total == 0)
        {
            return 0;
        }

        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = weights?[r] ?? 1.0;
            if (targets[r] < 0 || w == 0)
            {
                continue;
            }

            ReadOnlySpan<double> row = logits.Slice(r * columns, columns);
            loss += w * (LogSumExp(row) - row[targets[r]]);
        }

        return loss / total;
    }

    /// <summary>The analytic gradient of <see cref="Loss"/>.</summary>
    internal static double[] Gradient(ReadOnlySpan<float> logits, int rows, int columns, int[] targets, float[]? weights)
    {
        var gradient = new double[rows * columns];
        double total = TotalWeight(targets, weights);
        if (total == 0)
        {
            return gradient;
        }

        double[] row = new double[columns];
        for (int r = 0; r < rows; r++)
        {
            double w = weights?[r] ?? 1.0;
            if (targets[r] < 0 || w == 0)
            {
                continue;
            }

            for (int j = 0; j < columns; j++)
            {
                row[j] = logits[(r * columns) + j];
            }

            double lse = LogSumExp(row);
            for (int j = 0; j < columns; j++)
            {
                double p = Math.Exp(row[j] - lse);
                gradient[(r * columns) + j] = w * (p - (j == targets[r] ? 1 : 0)) / total;
            }
        }

        return gradient;
    }

    internal static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    private static double TotalWeight(int[] targets, float[]? weights)
    {
        double total = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            if (targets[r] >= 0)
            {
                total += weights?[r] ?? 1.0;
            }
        }

        return total;
    }

    private static double LogSumExp(ReadOnlySpan<double> row)
    {
        double max = double.NegativeInfinity;
        foreach (double v in row)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in row)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}

public class CrossEntropyTests
{
    // Tolerance rule, against the double reference:
    // - loss: rtol 1e-5, atol 1e-6 (the float row sum and the float shift x - max, accumulated in double).
    // - gradient: each element is share·(p - onehot) with share = w_r / Σw; p carries the softmax
    //   error (relative 1e-5, see SoftmaxTests), so we allow atol 1e-6·share + rtol 1e-5.
    private const double LossRtol = 1e-5;
    private const double LossAtol = 1e-6;

    private static int[] Targets(int rows, int columns, int seed, bool withIgnored)
    {
        var random = new Random(seed);
        int[] targets = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            targets[r] = columns == 0 || (withIgnored && r % 4 == 1) ? -1 : random.Next(columns);
        }

        return targets;
    }

    private static float[] Weights(int rows, int seed)
    {
        var random = new Random(seed);
        float[] weights = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            weights[r] = r % 5 == 3 ? 0f : (float)(random.NextDouble() * 3);
        }

        return weights;
    }

    private static void AssertMatchesReference(float[] logits, int rows, int columns, int[] targets, float[]? weights,
        float loss, float[] gradient, string context)
    {
        double expectedLoss = CrossEntropyReference.Loss(CrossEntropyReference.ToDouble(logits), rows, columns, targets, weights);
        Approx.Equal(expectedLoss, loss, LossRtol, LossAtol, context + " loss");

        double[] expected = CrossEntropyReference.Gradient(logits, rows, columns, targets, weights);
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            total += targets[r] >= 0 ? weights?[r] ?? 1 : 0;
        }

        for (int r = 0; r < rows; r++)
        {
            double share = total == 0 || targets[r] < 0 ? 0 : (weights?[r] ?? 1) / total;
            for (int j = 0; j < columns; j++)
            {
                int i = (r * columns) + j;
                Approx.Equal(expected[i], gradient[i], 1e-5, (1e-6 * share) + 1e-30, $"{context} grad[{r},{j}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Matches_reference_over_awkward_shapes(int width)
    {
        foreach (int columns in SoftmaxTests.Columns())
        {
            int rows = columns > 1000 ? 3 : 5;
            float[] logits = TestData.Uniform(rows * columns, seed: columns, scale: 8f);
            int[] targets = Targets(rows, columns, seed: columns, withIgnored: true);
            float[] gradient = new float[logits.Length];
            float loss = 0;
            SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, rows, columns, targets, gradient));
            AssertMatchesReference(logits, rows, columns, targets, null, loss, gradient, $"w{width} c{columns}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Weighted_matches_reference_over_awkward_shapes(int width)
    {
        foreach (int columns in SoftmaxTests.Columns())
        {
            int rows = columns > 1000 ? 3 : 6;
            float[] logits = TestData.Uniform(rows * columns, seed: 50 + columns, scale: 8f);
            int[] targets = Targets(rows, columns, seed: 50 + columns, withIgnored: true);
            float[] weights = Weights(rows, seed: columns);
            float[] gradient = new float[logits.Length];
            float loss = 0;
            SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, rows, columns, targets, weights, gradient));
            AssertMatchesReference(logits, rows, columns, targets, weights, loss, gradient, $"w{width} c{columns}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Gradient_matches_central_differences_of_the_loss(int width)
    {
        // Central differences of the double reference loss (eps 1e-6), at the float logits the
        // kernel saw. The kernel's gradient is float, so its error is ~1e-7 absolute here; the
        // STYLE gradcheck bound |analytic - numeric| <= 1e-5 + 1e-3·|numeric| is far above both that
        // and the O(eps^2) truncation error, yet well below the gradient entries (~1e-2).
        foreach ((int rows, int columns) in new[] { (3, 5), (4, 17), (2, 33) })
        {
            float[] logits = TestData.Uniform(rows * columns, seed: rows * columns, scale: 3f);
            int[] targets = Targets(rows, columns, seed: columns, withIgnored: true);
            float[] weights = Weights(rows, seed: rows);
            weights[0] = 0.5f;

            foreach (float[]? w in new[] { null, weights })
            {
                float[] gradient = new float[logits.Length];
                SimdPaths.Run(width, () =>
                {
                    if (w is null)
                    {
                        Kernels.SoftmaxCrossEntropy(logits, rows, columns, targets, gradient);
                    }
                    else
                    {
                        Kernels.SoftmaxCrossEntropy(logits, rows, columns, targets, w, gradient);
                    }
                });

                double[] point = CrossEntropyReference.ToDouble(logits);
                const double Eps = 1e-6;
                for (int i = 0; i < point.Length; i++)
                {
                    double saved = point[i];
                    point[i] = saved + Eps;
                    double plus = CrossEntropyReference.Loss(point, rows, columns, targets, w);
                    point[i] = saved - Eps;
                    double minus = CrossEntropyReference.Loss(point, rows, columns, targets, w);
                    point[i] = saved;

                    double numeric = (plus - minus) / (2 * Eps);
                    Approx.Equal(numeric, gradient[i], 1e-3, 1e-5, $"w{width} {rows}x{columns} weighted={w is not null} [{i}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Uniform_logits_give_log_of_class_count(int width)
    {
        foreach (int columns in new[] { 1, 2, 10, 17, 1000 })
        {
            const int Rows = 4;
            float[] logits = new float[Rows * columns];
            logits.AsSpan().Fill(3.25f);
            int[] targets = [0, columns - 1, columns / 2, 0];
            float[] gradient = new float[logits.Length];
            float loss = 0;
            SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, Rows, columns, targets, gradient));

            Approx.Equal(Math.Log(columns), loss, 1e-6, 1e-7, $"c{columns}");
            for (int r = 0; r < Rows; r++)
            {
                for (int j = 0; j < columns; j++)
                {
                    double expected = ((1.0 / columns) - (j == targets[r] ? 1 : 0)) / Rows;
                    Approx.Equal(expected, gradient[(r * columns) + j], 1e-5, 1e-9, $"c{columns} [{r},{j}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Huge_logits_do_not_overflow(int width)
    {
        float[] logits = [1000f, 0f, -5f, 1000f, 0f, -5f];
        float[] gradient = new float[6];
        float loss = 0;
        SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, 2, 3, [1, 0], gradient));

        // Row 0: lse = 1000, loss 1000 - 0; row 1: loss 0. Mean 500.
        Assert.Equal(500f, loss);
        Assert.Equal([0.5f, -0.5f, 0f, 0f, 0f, 0f], gradient);
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Ignored_rows_are_skipped_and_zeroed(int width)
    {
        const int Columns = 19;
        float[] logits = TestData.Uniform(3 * Columns, seed: 11, scale: 4f);
        logits[(1 * Columns) + 4] = float.NaN; // an ignored row is not read
        float[] gradient = new float[logits.Length];
        gradient.AsSpan().Fill(7f);
        int[] targets = [2, -1, 18];
        float loss = 0;
        SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, 3, Columns, targets, gradient));

        Assert.All(gradient.AsSpan(Columns, Columns).ToArray(), v => Assert.Equal(0f, v));
        float[] clean = (float[])logits.Clone();
        clean.AsSpan(Columns, Columns).Clear();
        AssertMatchesReference(clean, 3, Columns, targets, null, loss, gradient, $"w{width}");

        // Every row ignored: loss 0 and an all-zero gradient, whatever was there before.
        gradient.AsSpan().Fill(7f);
        SimdPaths.Run(width, () => loss = Kernels.SoftmaxCrossEntropy(logits, 3, Columns, [-1, -1, -1], gradient));
        Assert.Equal(0f, loss);
        Assert.All(gradient, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Weights_zero_and_one(int width)
    {
        const int Rows = 4;
        const int Columns = 23;
        float[] logits = TestData.Uniform(Rows * Columns, seed: 12, scale: 4f);
        int[] targets = [0, 5, -1, 22];
        SimdPaths.Run(width, () =>
        {
            // All-one weights are exactly the unweighted mean.
            float[] plain = new float[logits.Length];
            float[] weighted = new float[logits.Length];
            float a = Kernels.SoftmaxCrossEntropy(logits, Rows, Columns, targets, plain);
            float b = Kernels.SoftmaxCrossEntropy(logits, Rows, Columns, targets, [1f, 1f, 1f, 1f], weighted);
            Assert.Equal(a, b);
            Assert.Equal(plain, weighted);

            // A zero-weight row contributes nothing, is not read, and gets a zero gradient.
            float[] poisoned = (float[])logits.Clone();
            poisoned[Columns + 3] = float.NaN;
            float c = Kernels.SoftmaxCrossEntropy(poisoned, Rows, Columns, targets, [2f, 0f, 5f, 2f], weighted);
            Assert.All(weighted.AsSpan(Columns, Columns).ToArray(), v => Assert.Equal(0f, v));
            float d = Kernels.SoftmaxCrossEntropy(logits, Rows, Columns, [0, -1, -1, 22], plain);
            Approx.Equal(d, c, 1e-6, 0);

            // Zero total weight (the only weighted row is ignored): loss 0, zero gradient.
            weighted.AsSpan().Fill(3f);
            float e = Kernels.SoftmaxCrossEntropy(logits, Rows, Columns, targets, [0f, 0f, 9f, 0f], weighted);
            Assert.Equal(0f, e);
            Assert.All(weighted, v => Assert.Equal(0f, v));
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Non_finite_rows_follow_documented_rules(int width)
    {
        const int Columns = 21;
        SimdPaths.Run(width, () =>
        {
            // A NaN in a counted row: NaN loss and a NaN gradient row; other rows are unaffected.
            float[] logits = TestData.Uniform(2 * Columns, seed: 13);
            logits[Columns + 20] = float.NaN;
            float[] gradient = new float[logits.Length];
            float loss = Kernels.SoftmaxCrossEntropy(logits, 2, Columns, [3, 4], gradient);
            Assert.True(float.IsNaN(loss));
            Assert.All(gradient.AsSpan(Columns).ToArray(), v => Assert.True(float.IsNaN(v)));
            Assert.All(gradient.AsSpan(0, Columns).ToArray(), v => Assert.True(float.IsFinite(v)));

            // A -inf target logit in a finite row: infinite loss, finite gradient (p_t = 0, so -share there).
            logits = TestData.Uniform(Columns, seed: 14);
            logits[6] = float.NegativeInfinity;
            gradient = new float[Columns];
            loss = Kernels.SoftmaxCrossEntropy(logits, 1, Columns, [6], gradient);
            Assert.Equal(float.PositiveInfinity, loss);
            Assert.Equal(-1f, gradient[6]);
            Assert.All(gradient, v => Assert.True(float.IsFinite(v)));
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void In_place_equals_out_of_place(int width)
    {
        foreach (int columns in new[] { 1, 7, 8, 16, 17, 40, 257 })
        {
            const int Rows = 4;
            float[] logits = TestData.Uniform(Rows * columns, seed: columns, scale: 6f);
            int[] targets = Targets(Rows, columns, seed: 3, withIgnored: true);
            float[] weights = [0.5f, 1f, 2f, 0f];
            SimdPaths.Run(width, () =>
            {
                float[] expected = new float[logits.Length];
                float[] inPlace = (float[])logits.Clone();
                float a = Kernels.SoftmaxCrossEntropy(logits, Rows, columns, targets, expected);
                float b = Kernels.SoftmaxCrossEntropy(inPlace, Rows, columns, targets, inPlace);
                Assert.Equal(a, b);
                Assert.Equal(expected, inPlace);

                inPlace = (float[])logits.Clone();
                a = Kernels.SoftmaxCrossEntropy(logits, Rows, columns, targets, weights, expected);
                b = Kernels.SoftmaxCrossEntropy(inPlace, Rows, columns, targets, weights, inPlace);
                Assert.Equal(a, b);
                Assert.Equal(expected, inPlace);
            });
        }
    }

    [Fact]
    public void Empty_shapes()
    {
        float[] sentinel = [5f];
        Assert.Equal(0f, Kernels.SoftmaxCrossEntropy([], 0, 10, [], sentinel));
        Assert.Equal(5f, sentinel[0]);
        Assert.Equal(0f, Kernels.SoftmaxCrossEntropy([], 2, 0, [-1, -1], sentinel));
        Assert.Equal(0f, Kernels.SoftmaxCrossEntropy([], 0, 0, [], [], []));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(5)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void Target_out_of_range_throws_before_writing(int badTarget)
    {
        float[] logits = TestData.Uniform(3 * 5, seed: 1);
        float[] gradient = new float[15];
        gradient.AsSpan().Fill(42f);
        int[] targets = [0, 4, badTarget];

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.SoftmaxCrossEntropy(logits, 3, 5, targets, gradient));
        Assert.Equal("targets", ex.ParamName);
        Assert.Equal(badTarget, ex.ActualValue);
        Assert.Contains($"targets[2] = {badTarget}", ex.Message, StringComparison.Ordinal);
        Assert.All(gradient, v => Assert.Equal(42f, v));

        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.SoftmaxCrossEntropy(logits, 3, 5, targets, [1f, 1f, 1f], gradient));
        Assert.Equal("targets", ex.ParamName);
        Assert.All(gradient, v => Assert.Equal(42f, v));

        // In place too: the logits must survive a rejected call.
        float[] copy = (float[])logits.Clone();
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.SoftmaxCrossEntropy(copy, 3, 5, targets, copy));
        Assert.Equal(logits, copy);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Bad_weight_throws_before_writing(float badWeight)
    {
        float[] logits = TestData.Uniform(3 * 5, seed: 1);
        float[] gradient = new float[15];
        gradient.AsSpan().Fill(42f);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => Kernels.SoftmaxCrossEntropy(logits, 3, 5, [0, 1, 2], [1f, badWeight, 1f], gradient));
        Assert.Equal("weights", ex.ParamName);
        Assert.Contains("weights[1]", ex.Message, StringComparison.Ordinal);
        Assert.All(gradient, v => Assert.Equal(42f, v));
    }

    [Fact]
    public void Length_mismatches_throw_naming_the_argument()
    {
        float[] logits = new float[12];
        float[] gradient = new float[12];
        int[] targets = [0, 1, 2];

        Assert.Equal("logits", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(logits.AsSpan(0, 11), 3, 4, targets, gradient)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(logits, 3, 4, [0, 1], gradient)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(logits, 3, 4, targets, gradient.AsSpan(0, 11))).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(logits, 3, 4, targets, [1f, 1f], gradient)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(
            () => Kernels.SoftmaxCrossEntropy(logits, -3, 4, targets, gradient)).ParamName);
    }

    [Fact]
    public void Partial_overlap_throws()
    {
        float[] buffer = TestData.Uniform(13, seed: 2);
        float[] before = (float[])buffer.Clone();
        int[] targets = [0, 1, 2];

        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(buffer.AsSpan(0, 12), 3, 4, targets, buffer.AsSpan(1, 12))).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Kernels.SoftmaxCrossEntropy(buffer.AsSpan(1, 12), 3, 4, targets, [1f, 1f, 1f], buffer.AsSpan(0, 12))).ParamName);
        Assert.Equal(before, buffer);
    }
}

using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Nn.Losses.LossTestSupport;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn.Losses;

public class SoftmaxCrossEntropyLossTests
{
    /// <summary>
    /// Naive double cross-entropy: log Σ exp(x_j) − x_t with no max shift (the inputs here are small), reduced
    /// by Σ w m l / Σ w m; a −1 target drops the row like a 0 mask.
    /// </summary>
    private static double Reference(double[] logits, int classes, int[] targets, float[]? weights, float[]? mask)
    {
        float[] effectiveMask = new float[targets.Length];
        for (int r = 0; r < targets.Length; r++)
        {
            effectiveMask[r] = targets[r] == -1 ? 0f : (mask?[r] ?? 1f);
        }

        return Reduce(targets.Length, weights, effectiveMask, r =>
        {
            double sum = 0;
            for (int j = 0; j < classes; j++)
            {
                sum += Math.Exp(logits[(r * classes) + j]);
            }

            return Math.Log(sum) - logits[(r * classes) + targets[r]];
        });
    }

    private static int[] RandomTargets(int rows, int classes, int seed, bool withIgnore)
    {
        var random = new Random(seed);
        var targets = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            targets[r] = withIgnore && random.Next(4) == 0 ? -1 : random.Next(classes);
        }

        return targets;
    }

    [Property(MaxTest = 40)]
    public void Matches_double_reference_and_its_numeric_gradient(PositiveInt rowsSeed, PositiveInt classesSeed, int seed,
        bool weighted, bool masked, bool withIgnore)
    {
        int rows = 1 + (rowsSeed.Get % 6), classes = 1 + (classesSeed.Get % 9);
        float[] logits = TestData.Uniform(rows * classes, seed, 4f);
        int[] targets = RandomTargets(rows, classes, seed + 1, withIgnore);
        float[]? w = weighted ? RandomWeights(rows, seed + 2) : null;
        float[]? m = masked ? RandomMask(rows, seed + 3) : null;
        float[] g = new float[rows * classes];

        float loss = SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, m, g);

        double[] x = ToDouble(logits);
        AssertLoss(Reference(x, classes, targets, w, m), loss);
        AssertGradient(NumericGradient(x, v => Reference(v, classes, targets, w, m)), g, "d/dlogits");
    }

    [Fact]
    public void Uniform_logits_cost_ln_C()
    {
        const int rows = 3, classes = 7;
        float[] logits = new float[rows * classes];
        Array.Fill(logits, 2.5f);
        float[] g = new float[rows * classes];
        float loss = SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, [0, 3, 6], [], [1, 1, 0], g);
        Assert.Equal(Math.Log(classes), loss, 1e-6);
        // Two counted rows: (1/C − onehot)/2, and the masked row is 0.
        Assert.Equal((1f / classes - 1f) / 2, g[0], 1e-7f);
        Assert.Equal(1f / classes / 2, g[1], 1e-7f);
        Assert.All(g[(2 * classes)..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Gradient_passes_float_central_difference_check()
    {
        const int rows = 4, classes = 5;
        float[] logits = TestData.Uniform(rows * classes, 5, 2f);
        int[] targets = [4, 0, 2, 1];
        float[] w = [0.5f, 1f, 2f, 1f], m = [1, 1, 1, 0];
        float[] g = new float[rows * classes], scratch = new float[rows * classes];
        SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, m, g);
        GradCheck.Check("logits", logits, g, () => SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, m, scratch));
    }

    [Fact]
    public void Masked_rows_are_not_read_and_get_exactly_zero_gradient()
    {
        const int rows = 3, classes = 4;
        float[] logits = TestData.Uniform(rows * classes, 6);
        float[] clean = (float[])logits.Clone();
        logits.AsSpan(classes, classes).Fill(float.NaN);
        // The masked row's target may be garbage too (padding).
        int[] targets = [1, 99, 3];
        float[] m = [1, 0, 1];
        float[] g = Sentinel(rows * classes);
        float loss = SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, [], m, g);

        AssertLoss(Reference(ToDouble(clean), classes, [1, 0, 3], null, m), loss);
        Assert.All(g.AsSpan(classes, classes).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Mask_path_agrees_with_unmasked_fused_path()
    {
        const int rows = 5, classes = 6;
        float[] logits = TestData.Uniform(rows * classes, 7, 3f);
        int[] targets = [0, -1, 5, 2, 2];
        float[] w = [1f, 2f, 0.25f, 0f, 3f];
        float[] g1 = new float[rows * classes], g2 = new float[rows * classes];
        float fused = SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, [], g1);
        float perRow = SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, [1, 1, 1, 1, 1], g2);
        Assert.Equal(fused, perRow, 1e-6f);
        for (int i = 0; i < g1.Length; i++)
        {
            Assert.Equal(g1[i], g2[i], 1e-7f);
        }
    }

    [Fact]
    public void Weight_two_equals_duplicating_the_row()
    {
        const int classes = 4;
        float[] logits = TestData.Uniform(2 * classes, 8);
        float[] g = new float[2 * classes];
        float weighted = SoftmaxCrossEntropyLoss.Compute(logits, 2, classes, [1, 2], [2f, 1f], [1, 1], g);

        float[] duplicated = [.. logits[..classes], .. logits];
        float[] g2 = new float[3 * classes];
        float plain = SoftmaxCrossEntropyLoss.Compute(duplicated, 3, classes, [1, 1, 2], [], [1, 1, 1], g2);

        Assert.Equal(plain, weighted, 1e-6f);
        for (int j = 0; j < classes; j++)
        {
            Assert.Equal(g2[j] + g2[classes + j], g[j], 1e-7f);
            Assert.Equal(g2[(2 * classes) + j], g[classes + j], 1e-7f);
        }
    }

    [Fact]
    public void Extreme_logits_are_finite()
    {
        float[] logits = [1e4f, -1e4f, 0f, -1e4f, 1e4f, 1e4f];
        float[] g = new float[6];
        float loss = SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [1, 2], [], [1, 1], g);
        // Row 0: logsumexp = 1e4, target −1e4 → 2e4. Row 1: logsumexp = 1e4 + ln 2, target 1e4 → ln 2.
        Assert.Equal((2e4 + Math.Log(2)) / 2, loss, 1e-2);
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
        Assert.Equal([0.5f, -0.5f, 0f, 0f, 0.25f, -0.25f], g);
    }

    [Fact]
    public void Nothing_counted_gives_zero_loss_and_zero_gradient()
    {
        float[] logits = TestData.Uniform(6, 9);
        float[] g = Sentinel(6);
        Assert.Equal(0f, SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [], [0, 0], g));
        Assert.All(g, v => Assert.Equal(0f, v));
        g = Sentinel(6);
        Assert.Equal(0f, SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [-1, -1], [], [1, 1], g));
        Assert.All(g, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void In_place_equals_out_of_place()
    {
        float[] logits = TestData.Uniform(12, 10, 3f);
        float[] g = new float[12];
        float expected = SoftmaxCrossEntropyLoss.Compute(logits, 3, 4, [3, 0, 1], [], [1, 0, 1], g);
        float[] inPlace = (float[])logits.Clone();
        float actual = SoftmaxCrossEntropyLoss.Compute(inPlace, 3, 4, [3, 0, 1], [], [1, 0, 1], inPlace);
        Assert.Equal(expected, actual);
        Assert.Equal(g, inPlace);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument_and_leave_gradient_untouched()
    {
        float[] logits = TestData.Uniform(6, 11);
        float[] g = Sentinel(6);
        AssertRejects("logits", () => SoftmaxCrossEntropyLoss.Compute(logits.AsSpan(0, 5), 2, 3, [0, 1], [], [], g));
        AssertRejects("targets", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0], [], [], g));
        AssertRejects("gradient", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [], [], g.AsSpan(0, 5)));
        AssertRejects("weights", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [1f], [], g));
        AssertRejects("mask", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [], [1, 1, 1], g));
        AssertRejects("weights", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [1f, -2f], [], g));
        AssertRejects("mask", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 1], [], [1, 2], g));
        AssertRejects("targets", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [0, 3], [], [], g));
        AssertRejects("targets", () => SoftmaxCrossEntropyLoss.Compute(logits, 2, 3, [-2, 0], [], [1, 1], g));
        AssertRejects("rows", () => SoftmaxCrossEntropyLoss.Compute(logits, -2, -3, [0, 1], [], [], g));
        float[] shifted = new float[7];
        AssertRejects("gradient", () => SoftmaxCrossEntropyLoss.Compute(shifted.AsSpan(0, 6), 2, 3, [0, 1], [], [], shifted.AsSpan(1, 6)));
        AssertUntouched(g);
    }

    [Fact]
    public void Compute_allocates_nothing_after_warm_up()
    {
        const int rows = 64, classes = 101;
        float[] logits = TestData.Uniform(rows * classes, 12, 3f);
        int[] targets = RandomTargets(rows, classes, 13, withIgnore: true);
        float[] w = RandomWeights(rows, 14), m = RandomMask(rows, 15), g = new float[rows * classes];
        AssertNoAllocation(() => SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, m, g));
        AssertNoAllocation(() => SoftmaxCrossEntropyLoss.Compute(logits, rows, classes, targets, w, [], g));
    }
}

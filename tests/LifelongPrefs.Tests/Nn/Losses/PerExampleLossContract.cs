using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Nn.Losses.LossTestSupport;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn.Losses;

/// <summary>
/// The behaviour every per-example loss (one value a_i and one value b_i per example: BCE, MSE, BPR) must show,
/// checked against a double-precision scalar reference of the per-example loss written in the derived test.
/// </summary>
public abstract class PerExampleLossContract
{
    /// <summary>The loss under test; <paramref name="gradB"/> is ignored when b has no gradient (targets).</summary>
    private protected abstract float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> mask, Span<float> gradA, Span<float> gradB);

    /// <summary>The per-example loss l(a, b) computed naively in double (not in the implementation's stable form).</summary>
    private protected abstract double Reference(double a, double b);

    /// <summary>Whether b (e.g. the negative score of BPR) receives a gradient, or is a constant target.</summary>
    private protected abstract bool BHasGradient { get; }

    private protected abstract string BName { get; }

    private protected abstract string GradAName { get; }

    /// <summary>Valid b values (targets in [0, 1] for BCE).</summary>
    private protected virtual float[] MakeB(int count, int seed) => TestData.Uniform(count, seed, 3f);

    private static float[] MakeA(int count, int seed) => TestData.Uniform(count, seed, 3f);

    private double ReferenceLoss(double[] a, double[] b, float[]? weights, float[]? mask) =>
        Reduce(a.Length, weights, mask, i => Reference(a[i], b[i]));

    [Property(MaxTest = 40)]
    public void Matches_double_reference_and_its_numeric_gradient(PositiveInt size, int seed, bool weighted, bool masked)
    {
        int n = 1 + (size.Get % 12);
        float[] a = MakeA(n, seed), b = MakeB(n, seed + 1);
        float[]? w = weighted ? RandomWeights(n, seed + 2) : null;
        float[]? m = masked ? RandomMask(n, seed + 3) : null;
        float[] gA = new float[n], gB = new float[n];

        float loss = Compute(a, b, w, m, gA, gB);

        double[] da = ToDouble(a), db = ToDouble(b);
        AssertLoss(ReferenceLoss(da, db, w, m), loss);
        AssertGradient(NumericGradient(da, x => ReferenceLoss(x, db, w, m)), gA, "d/da");
        if (BHasGradient)
        {
            AssertGradient(NumericGradient(db, x => ReferenceLoss(da, x, w, m)), gB, "d/db");
        }
    }

    [Fact]
    public void Gradient_passes_float_central_difference_check()
    {
        const int n = 9;
        float[] a = MakeA(n, 11), b = MakeB(n, 12), w = RandomWeights(n, 13), m = RandomMask(n, 14);
        float[] gA = new float[n], gB = new float[n], scratchA = new float[n], scratchB = new float[n];
        Compute(a, b, w, m, gA, gB);

        GradCheck.Check("a", a, gA, () => Compute(a, b, w, m, scratchA, scratchB));
        if (BHasGradient)
        {
            GradCheck.Check("b", b, gB, () => Compute(a, b, w, m, scratchA, scratchB));
        }
    }

    [Fact]
    public void Masked_and_zero_weight_examples_are_not_read_and_get_exactly_zero_gradient()
    {
        const int n = 6;
        float[] a = MakeA(n, 21), b = MakeB(n, 22);
        float[] m = [1, 0, 1, 1, 0, 1];
        float[] w = [1, 1, 0, 2, 1, 0.5f];
        double expected = ReferenceLoss(ToDouble(a), ToDouble(b), w, m);
        // Poison every example that is dropped (mask 0 or weight 0).
        foreach (int i in new[] { 1, 2, 4 })
        {
            a[i] = float.NaN;
            b[i] = float.NaN;
        }

        float[] gA = Sentinel(n), gB = Sentinel(n);
        float loss = Compute(a, b, w, m, gA, gB);

        AssertLoss(expected, loss);
        foreach (int i in new[] { 1, 2, 4 })
        {
            Assert.Equal(0f, gA[i]);
            if (BHasGradient)
            {
                Assert.Equal(0f, gB[i]);
            }
        }

        Assert.All(gA, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Weight_two_equals_duplicating_the_example()
    {
        float[] a = MakeA(3, 31), b = MakeB(3, 32);
        float[] gA = new float[3], gB = new float[3];
        float weighted = Compute(a, b, [2f, 1f, 1f], [], gA, gB);

        float[] a2 = [a[0], a[0], a[1], a[2]], b2 = [b[0], b[0], b[1], b[2]];
        float[] gA2 = new float[4], gB2 = new float[4];
        float duplicated = Compute(a2, b2, [], [], gA2, gB2);

        Assert.Equal(duplicated, weighted, 1e-6f);
        Assert.Equal(gA2[0] + gA2[1], gA[0], 1e-6f);
        Assert.Equal(gA2[2], gA[1], 1e-6f);
        Assert.Equal(gA2[3], gA[2], 1e-6f);
        if (BHasGradient)
        {
            Assert.Equal(gB2[0] + gB2[1], gB[0], 1e-6f);
        }
    }

    [Fact]
    public void Empty_mask_and_weights_equal_all_ones()
    {
        const int n = 5;
        float[] a = MakeA(n, 41), b = MakeB(n, 42);
        float[] g1 = new float[n], g2 = new float[n], h1 = new float[n], h2 = new float[n];
        float implicitOnes = Compute(a, b, [], [], g1, h1);
        float explicitOnes = Compute(a, b, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], g2, h2);
        Assert.Equal(implicitOnes, explicitOnes);
        Assert.Equal(g1, g2);
        Assert.Equal(h1, h2);
    }

    [Fact]
    public void Zero_denominator_gives_zero_loss_and_zero_gradient()
    {
        const int n = 4;
        float[] a = MakeA(n, 51), b = MakeB(n, 52);
        float[] gA = Sentinel(n), gB = Sentinel(n);
        Assert.Equal(0f, Compute(a, b, [], [0, 0, 0, 0], gA, gB));
        Assert.All(gA, v => Assert.Equal(0f, v));

        gA = Sentinel(n);
        Assert.Equal(0f, Compute(a, b, [0, 0, 0, 0], [], gA, gB));
        Assert.All(gA, v => Assert.Equal(0f, v));

        Assert.Equal(0f, Compute([], [], [], [], [], []));
    }

    [Fact]
    public void In_place_gradient_equals_out_of_place()
    {
        const int n = 7;
        float[] a = MakeA(n, 61), b = MakeB(n, 62), w = RandomWeights(n, 63);
        float[] gA = new float[n], gB = new float[n];
        float expected = Compute(a, b, w, [], gA, gB);

        float[] inPlace = (float[])a.Clone();
        float[] bCopy = (float[])b.Clone();
        float actual = Compute(inPlace, bCopy, w, [], inPlace, BHasGradient ? bCopy : new float[n]);
        Assert.Equal(expected, actual);
        Assert.Equal(gA, inPlace);
        if (BHasGradient)
        {
            Assert.Equal(gB, bCopy);
        }
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument_and_leave_gradients_untouched()
    {
        const int n = 4;
        float[] a = MakeA(n, 71), b = MakeB(n, 72);
        float[] gA = Sentinel(n), gB = Sentinel(n);

        AssertRejects(BName, () => Compute(a, b.AsSpan(0, 3), [], [], gA, gB));
        AssertRejects(GradAName, () => Compute(a, b, [], [], gA.AsSpan(0, 3), gB));
        AssertRejects("weights", () => Compute(a, b, [1, 1, 1], [], gA, gB));
        AssertRejects("mask", () => Compute(a, b, [], [1, 1, 1, 1, 1], gA, gB));
        AssertRejects("weights", () => Compute(a, b, [1, -1, 1, 1], [], gA, gB));
        AssertRejects("weights", () => Compute(a, b, [1, 1, float.NaN, 1], [], gA, gB));
        AssertRejects("weights", () => Compute(a, b, [1, 1, 1, float.PositiveInfinity], [], gA, gB));
        AssertRejects("mask", () => Compute(a, b, [], [1, 0.5f, 1, 1], gA, gB));
        // A gradient buffer that overlaps an input other than its own values (here the weights).
        float[] shared = [1, 1, 1, 1, 0];
        AssertRejects(GradAName, () => Compute(a, b, shared.AsSpan(0, n), [], shared.AsSpan(1, n), gB));
        // Shifted alias of its own input: reading a_i after writing gradient_i-1 would be wrong.
        float[] shifted = new float[n + 1];
        a.CopyTo(shifted, 0);
        AssertRejects(GradAName, () => Compute(shifted.AsSpan(0, n), b, [], [], shifted.AsSpan(1, n), gB));

        AssertUntouched(gA);
        AssertUntouched(gB);
    }

    [Fact]
    public void Compute_allocates_nothing_after_warm_up()
    {
        const int n = 300;
        float[] a = MakeA(n, 81), b = MakeB(n, 82), w = RandomWeights(n, 83), m = RandomMask(n, 84);
        float[] gA = new float[n], gB = new float[n];
        AssertNoAllocation(() => Compute(a, b, w, m, gA, gB));
    }
}

using LifelongPrefs.Nn.Losses;
using static LifelongPrefs.Tests.Nn.Losses.LossTestSupport;

namespace LifelongPrefs.Tests.Nn.Losses;

public class BinaryCrossEntropyWithLogitsLossTests : PerExampleLossContract
{
    private protected override float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> mask, Span<float> gradA, Span<float> gradB) =>
        BinaryCrossEntropyWithLogitsLoss.Compute(a, b, weights, mask, gradA);

    /// <summary>The textbook form −y·log σ(x) − (1 − y)·log(1 − σ(x)); fine in double for the |x| ≤ 3 used.</summary>
    private protected override double Reference(double a, double b)
    {
        double p = 1 / (1 + Math.Exp(-a));
        return -(b * Math.Log(p)) - ((1 - b) * Math.Log(1 - p));
    }

    private protected override bool BHasGradient => false;

    private protected override string BName => "targets";

    private protected override string GradAName => "gradient";

    private protected override float[] MakeB(int count, int seed)
    {
        // Hard and soft labels.
        var random = new Random(seed);
        var targets = new float[count];
        for (int i = 0; i < count; i++)
        {
            targets[i] = random.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)random.NextDouble() };
        }

        return targets;
    }

    [Fact]
    public void Logit_zero_costs_ln2_with_gradient_plus_minus_half()
    {
        float[] g = new float[2];
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute([0f, 0f], [1f, 0f], [], [], g);
        Assert.Equal(Math.Log(2), loss, 1e-7);
        // σ(0) − y over a mean of 2: (0.5 − 1)/2 and (0.5 − 0)/2.
        Assert.Equal(-0.25f, g[0]);
        Assert.Equal(0.25f, g[1]);
    }

    [Fact]
    public void Extreme_logits_are_finite_and_exact()
    {
        float[] logits = [1e4f, -1e4f, 1e4f, -1e4f, 50f];
        float[] targets = [1f, 0f, 0f, 1f, 1f];
        float[] g = new float[5];
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(logits, targets, [], [], g);

        // Right answers cost e^-1e4 ≈ 0, wrong ones 1e4 each; x = 50, y = 1 costs e^-50.
        Assert.Equal((2e4 + Math.Exp(-50)) / 5, loss, 1e-2);
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
        Assert.Equal([0f, 0f, 0.2f, -0.2f], g[..4]);
        Assert.True(g[4] < 0 && g[4] > -1e-20f);

        // The tiny loss of a confident right answer is not rounded away: log1p(e^-20) ≈ 2.06e-9.
        float tiny = BinaryCrossEntropyWithLogitsLoss.Compute([20f], [1f], [], [], new float[1]);
        Assert.Equal(Math.Exp(-20), tiny, 1e-15);
    }

    [Fact]
    public void Counted_targets_outside_unit_interval_are_rejected_masked_ones_ignored()
    {
        float[] g = Sentinel(3);
        AssertRejects("targets", () => BinaryCrossEntropyWithLogitsLoss.Compute([0, 0, 0], [0, 1.5f, 1], [], [], g));
        AssertRejects("targets", () => BinaryCrossEntropyWithLogitsLoss.Compute([0, 0, 0], [0, float.NaN, 1], [], [], g));
        AssertRejects("targets", () => BinaryCrossEntropyWithLogitsLoss.Compute([0, 0, 0], [-0.1f, 0, 1], [], [], g));
        AssertUntouched(g);

        float loss = BinaryCrossEntropyWithLogitsLoss.Compute([0, 0, 0], [0, 7f, 1], [], [1, 0, 1], g);
        Assert.Equal(Math.Log(2), loss, 1e-7);
    }
}

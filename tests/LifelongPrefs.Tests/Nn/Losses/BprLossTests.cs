using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Tests.Nn.Losses;

public class BprLossTests : PerExampleLossContract
{
    private protected override float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> mask, Span<float> gradA, Span<float> gradB) =>
        BprLoss.Compute(a, b, weights, mask, gradA, gradB);

    /// <summary>−log σ(pos − neg) straight from Rendle et al. (2009), in double.</summary>
    private protected override double Reference(double a, double b) => -Math.Log(1 / (1 + Math.Exp(-(a - b))));

    private protected override bool BHasGradient => true;

    private protected override string BName => "negativeScores";

    private protected override string GradAName => "gradPositive";

    [Fact]
    public void Equal_scores_cost_ln2_with_gradient_minus_plus_half()
    {
        float[] gp = new float[1], gn = new float[1];
        float loss = BprLoss.Compute([0.7f], [0.7f], [], [], gp, gn);
        Assert.Equal(Math.Log(2), loss, 1e-7);
        Assert.Equal(-0.5f, gp[0]);
        Assert.Equal(0.5f, gn[0]);
    }

    [Fact]
    public void Extreme_score_differences_are_finite_and_exact()
    {
        float[] gp = new float[2], gn = new float[2];
        // A badly ranked pair (difference −2e4) costs 2e4; a well-ranked one costs ≈ e^-2e4 = 0.
        float loss = BprLoss.Compute([-1e4f, 1e4f], [1e4f, -1e4f], [], [], gp, gn);
        Assert.Equal(1e4, loss, 1e-3);
        Assert.Equal([-0.5f, 0f], gp);
        Assert.Equal([0.5f, 0f], gn);
    }

    [Fact]
    public void Gradient_buffers_may_not_overlap_each_other()
    {
        float[] shared = LossTestSupport.Sentinel(4);
        LossTestSupport.AssertRejects("gradNegative",
            () => BprLoss.Compute([1f, 2f], [0f, 0f], [], [], shared.AsSpan(0, 2), shared.AsSpan(1, 2)));
        LossTestSupport.AssertUntouched(shared);
    }
}

using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Tests.Nn.Losses;

public class MseLossTests : PerExampleLossContract
{
    private protected override float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> mask, Span<float> gradA, Span<float> gradB) =>
        MseLoss.Compute(a, b, weights, mask, gradA);

    private protected override double Reference(double a, double b) => (a - b) * (a - b);

    private protected override bool BHasGradient => false;

    private protected override string BName => "targets";

    private protected override string GradAName => "gradient";

    [Fact]
    public void Hand_computed_mean_without_half_factor()
    {
        float[] g = new float[3];
        // Differences 1, −2, 3: mean of squares (1 + 4 + 9)/3, gradient 2·d/3.
        float loss = MseLoss.Compute([1f, 0f, 5f], [0f, 2f, 2f], [], [], g);
        Assert.Equal(14.0 / 3, loss, 1e-6);
        Assert.Equal(2f / 3, g[0], 1e-7f);
        Assert.Equal(-4f / 3, g[1], 1e-7f);
        Assert.Equal(2f, g[2], 1e-7f);
    }

    [Fact]
    public void Large_close_values_keep_their_difference()
    {
        float[] g = new float[1];
        // 1e4 + 1/128 is exact in float; the squared error must be 1/128² and not lose it.
        float loss = MseLoss.Compute([10000.0078125f], [10000f], [], [], g);
        Assert.Equal(1.0 / 16384, loss, 1e-12);
        Assert.Equal(2f / 128, g[0]);
    }
}

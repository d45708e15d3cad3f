using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>Global-norm clipping against hand-computed norms (3-4-12-13 right triangles).</summary>
public class GradientClippingTests
{
    [Fact]
    public void Clips_to_max_norm_and_returns_the_pre_clip_norm()
    {
        // ‖(3, 4, 12)‖ = 13; maxNorm 6.5 halves every gradient.
        Parameter a = Dense("a", [0f, 0f]), b = Dense("b", [0f]);
        SetGradient(a, [3f, 4f]);
        SetGradient(b, [12f]);
        float norm = GradientClipping.ClipByGlobalNorm([a, b], 6.5f);
        Assert.Equal(13f, norm, 1e-5f);
        Assert.Equal([1.5f, 2f], a.Gradient.Span.ToArray());
        Assert.Equal([6f], b.Gradient.Span.ToArray());
        Assert.Equal(6.5f, GradientClipping.GlobalNorm([a, b]), 1e-5f);
    }

    [Fact]
    public void Leaves_gradients_alone_when_within_the_bound()
    {
        Parameter a = Dense("a", [0f, 0f]);
        SetGradient(a, [3f, 4f]);
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm([a], 5f), 1e-6f);
        Assert.Equal([3f, 4f], a.Gradient.Span.ToArray());
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm([a], 100f), 1e-6f);
        Assert.Equal([3f, 4f], a.Gradient.Span.ToArray());
    }

    [Fact]
    public void Sparse_parameters_contribute_and_are_scaled_only_on_touched_rows()
    {
        // Touched row 1 holds (3, 4); untouched row 2 holds garbage that must be neither counted nor scaled.
        Parameter table = Sparse("table", new float[6], 3, 2);
        SetRowGradient(table, 1, [3f, 4f]);
        table.Gradient.Row(2)[0] = 1000f;
        Parameter bias = Dense("bias", [0f]);
        SetGradient(bias, [12f]);
        Assert.Equal(13f, GradientClipping.ClipByGlobalNorm([table, bias], 1.3f), 1e-5f);
        Approx.Equal([0f, 0f, 0.3f, 0.4f, 1000f, 0f], table.Gradient.Span, 1e-6, 0, "table gradient");
        Assert.Equal(1.2f, bias.Gradient.Span[0], 1e-6f);
    }

    [Fact]
    public void Non_finite_norm_is_returned_and_gradients_are_untouched_for_the_nan_guard()
    {
        Parameter a = Dense("a", [0f, 0f]);
        SetGradient(a, [float.PositiveInfinity, 4f]);
        Assert.Equal(float.PositiveInfinity, GradientClipping.ClipByGlobalNorm([a], 1f));
        Assert.Equal([float.PositiveInfinity, 4f], a.Gradient.Span.ToArray());
        SetGradient(a, [float.NaN, 4f]);
        Assert.True(float.IsNaN(GradientClipping.ClipByGlobalNorm([a], 1f)));
        Assert.Equal(4f, a.Gradient.Span[1]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Max_norm_must_be_positive_and_finite(float maxNorm)
    {
        Parameter a = Dense("a", [0f]);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm([a], maxNorm)).ParamName);
        Assert.Throws<ArgumentNullException>(() => GradientClipping.ClipByGlobalNorm(null!, 1f));
    }
}

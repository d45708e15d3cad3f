using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn;

public class LayerNormTests
{
    private static LayerNorm CreateWithRandomAffine(int features, int seed)
    {
        var layer = new LayerNorm(features);
        float[] gamma = TestData.Uniform(features, seed, 0.5f);
        for (int i = 0; i < features; i++)
        {
            gamma[i] += 1f;
        }

        gamma.CopyTo(layer.Scale.Value.Span);
        TestData.Uniform(features, seed + 1).CopyTo(layer.Shift.Value.Span);
        return layer;
    }

    [Property(MaxTest = 12)]
    public Property Gradients_match_finite_differences_for_random_shapes_and_seeds() =>
        Prop.ForAll(
            (from batch in Gen.Choose(1, 3)
             from time in Gen.Choose(1, 4)
             from features in Gen.Choose(2, 7)
             from seed in Gen.Choose(0, 10_000)
             select (batch, time, features, seed)).ToArbitrary(),
            c =>
            {
                var (batch, time, features, seed) = c;
                LayerNorm layer = CreateWithRandomAffine(features, seed);
                Tensor input = seed % 2 == 0
                    ? LayerTestKit.RandomTensor(seed + 2, batch * time, features)
                    : LayerTestKit.RandomTensor(seed + 2, batch, time, features);
                // A ramp across the features keeps every row's spread ≥ 0.5 between neighbours: a row whose values
                // nearly coincide has σ comparable to the finite-difference step, and the float check would then
                // measure truncation error rather than the gradient.
                Span<float> x = input.Span;
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] += 2.5f * (i % features);
                }

                GradCheck.CheckLayer(layer, input, seed: seed);
            });

    [Fact]
    public void Gradients_match_finite_differences_on_plain_random_rows()
    {
        GradCheck.CheckLayer(CreateWithRandomAffine(5, 40), LayerTestKit.RandomTensor(41, 2, 3, 5));
    }

    [Fact]
    public void Rows_are_normalised_to_zero_mean_and_unit_variance()
    {
        var layer = new LayerNorm(6);
        Tensor input = LayerTestKit.RandomTensor(3, 2, 4, 6);
        // A large common offset must not spoil the statistics (the reduction is two-pass).
        Kernels.Scale(input.Span, 5f, input.Span);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] += 1000f;
        }

        Tensor y = layer.Forward(input);

        Assert.Equal(new[] { 2, 4, 6 }, y.Shape.ToArray());
        for (int r = 0; r < 8; r++)
        {
            ReadOnlySpan<float> row = y.Span.Slice(r * 6, 6);
            double mean = 0, square = 0;
            foreach (float v in row)
            {
                mean += v;
                square += (double)v * v;
            }

            mean /= 6;
            Assert.True(Math.Abs(mean) < 1e-4, $"row {r} mean {mean}");
            Assert.True(Math.Abs(square / 6 - mean * mean - 1) < 1e-3, $"row {r} variance {square / 6 - mean * mean}");
        }
    }

    [Fact]
    public void Forward_matches_hand_computed_values()
    {
        var layer = new LayerNorm(2);
        layer.Scale.Value.Span[0] = 2f;
        layer.Shift.Value.Span[1] = 0.5f;
        // Row [1, 3]: μ = 2, σ² = 1 → x̂ = [−1, 1]/√(1 + ε).
        Tensor y = layer.Forward(Tensor.FromArray([1f, 3f], 1, 2));

        float invStd = 1f / MathF.Sqrt(1f + 1e-5f);
        Assert.Equal(-2f * invStd, y[0, 0], 6);
        Assert.Equal(invStd + 0.5f, y[0, 1], 6);
    }

    [Fact]
    public void Repeated_backward_is_bit_identical()
    {
        LayerNorm layer = CreateWithRandomAffine(5, 3);
        Tensor input = LayerTestKit.RandomTensor(4, 2, 3, 5);
        Tensor gradOut = LayerTestKit.RandomTensor(5, 2, 3, 5);
        LayerTestKit.AssertBitIdentical(
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut),
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut));
    }

    [Fact]
    public void Bad_input_is_rejected_and_leaves_state_unchanged()
    {
        var layer = new LayerNorm(4);
        Tensor output = layer.Forward(LayerTestKit.RandomTensor(1, 3, 4));
        float[] before = output.Span.ToArray();

        var e = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(3, 5)));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("4", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(4)));
        Assert.Throws<ArgumentException>(() => layer.Backward(new Tensor(3, 5)));
        Assert.Throws<InvalidOperationException>(() => new LayerNorm(4).Backward(new Tensor(3, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(3, float.NaN));

        Assert.Equal(before, output.Span.ToArray());
        Assert.All(layer.Scale.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        Assert.All(layer.Shift.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var layer = new LayerNorm(32);
        Tensor input = LayerTestKit.RandomTensor(1, 4, 8, 32);
        Tensor gradOut = LayerTestKit.RandomTensor(2, 4, 8, 32);
        LayerTestKit.AssertNoAllocation("LayerNorm", () =>
        {
            layer.Forward(input);
            layer.Backward(gradOut);
        });
    }
}

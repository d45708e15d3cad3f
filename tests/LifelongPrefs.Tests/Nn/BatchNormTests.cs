using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Nn;

public class BatchNormTests
{
    /// <summary>A batch norm with non-trivial γ and β so the check sees every term scaled differently.</summary>
    private static BatchNorm1d CreateWithRandomAffine(int features, int seed)
    {
        var layer = new BatchNorm1d(features);
        float[] gamma = TestData.Uniform(features, seed, 0.5f);
        for (int i = 0; i < features; i++)
        {
            gamma[i] += 1f;
        }

        gamma.CopyTo(layer.Scale.Value.Span);
        TestData.Uniform(features, seed + 1).CopyTo(layer.Shift.Value.Span);
        return layer;
    }

    [Theory]
    [InlineData(2, 3, 1)]
    [InlineData(5, 4, 2)]
    [InlineData(9, 2, 3)]
    public void Gradient_in_training_mode_includes_the_batch_statistics(int rows, int features, int seed)
    {
        BatchNorm1d layer = CreateWithRandomAffine(features, seed);
        // The loss depends on every row through μ and σ², so a backward that treated them as constants
        // (the inference formula) would fail here.
        GradCheck.CheckLayer(layer, LayerTestKit.RandomTensor(seed + 10, rows, features), seed: seed);
    }

    [Fact]
    public void Gradient_in_inference_mode_matches_finite_differences()
    {
        BatchNorm1d layer = CreateWithRandomAffine(3, 4);
        for (int i = 0; i < 5; i++)
        {
            layer.Forward(LayerTestKit.RandomTensor(20 + i, 6, 3));
        }

        layer.Training = false;
        GradCheck.CheckLayer(layer, LayerTestKit.RandomTensor(30, 4, 3));
    }

    [Fact]
    public void Training_input_gradient_columns_sum_to_zero()
    {
        // y is invariant to adding a constant to a column, so the input gradient is orthogonal to that shift.
        BatchNorm1d layer = CreateWithRandomAffine(4, 5);
        layer.Forward(LayerTestKit.RandomTensor(6, 8, 4));
        Tensor gradIn = layer.Backward(LayerTestKit.RandomTensor(7, 8, 4));
        for (int c = 0; c < 4; c++)
        {
            double sum = 0;
            for (int r = 0; r < 8; r++)
            {
                sum += gradIn[r, c];
            }

            Assert.True(Math.Abs(sum) < 1e-5, $"column {c} sums to {sum}");
        }
    }

    [Fact]
    public void Training_forward_and_running_update_match_hand_computed_values()
    {
        var layer = new BatchNorm1d(2, momentum: 0.1f);
        layer.Scale.Value.Span[0] = 2f;
        layer.Shift.Value.Span[0] = 0.5f;
        // Column 0: [1, 3] → μ = 2, biased σ² = 1, unbiased 2. Column 1: [5, 5] → μ = 5, σ² = 0.
        var x = Tensor.FromArray([1, 5, 3, 5], 2, 2);

        Tensor y = layer.Forward(x);

        float invStd = 1f / MathF.Sqrt(1f + 1e-5f);
        Assert.Equal(2f * -1f * invStd + 0.5f, y[0, 0], 6);
        Assert.Equal(2f * 1f * invStd + 0.5f, y[1, 0], 6);
        Assert.Equal(0f, y[0, 1]);
        Assert.Equal(0f, y[1, 1]);
        // running = 0.9·running + 0.1·batch, the variance unbiased (PyTorch's convention).
        Assert.Equal(0.2f, layer.RunningMean[0], 6);
        Assert.Equal(0.5f, layer.RunningMean[1], 6);
        Assert.Equal(0.9f + 0.1f * 2f, layer.RunningVariance[0], 6);
        Assert.Equal(0.9f, layer.RunningVariance[1], 6);
    }

    [Fact]
    public void Inference_uses_the_running_statistics_and_leaves_them_alone()
    {
        var layer = new BatchNorm1d(2) { Training = false };
        float[] mean = [1f, -2f], variance = [4f, 0.25f];
        mean.CopyTo(layer.RunningMeanTensor.Span);
        variance.CopyTo(layer.RunningVarianceTensor.Span);
        layer.Scale.Value.Span[1] = 3f;
        layer.Shift.Value.Span[0] = -1f;
        var x = Tensor.FromArray([3, 0, -1, -2], 2, 2);

        Tensor y = layer.Forward(x);

        Assert.Equal((3 - 1) / MathF.Sqrt(4 + 1e-5f) - 1, y[0, 0], 5);
        Assert.Equal(3 * (0 + 2) / MathF.Sqrt(0.25f + 1e-5f), y[0, 1], 5);
        Assert.Equal((-1 - 1) / MathF.Sqrt(4 + 1e-5f) - 1, y[1, 0], 5);
        Assert.Equal(0f, y[1, 1], 5);
        Assert.Equal(mean, layer.RunningMean.ToArray());
        Assert.Equal(variance, layer.RunningVariance.ToArray());

        // A single row is fine at inference.
        Assert.Equal(new[] { 1, 2 }, layer.Forward(new Tensor(1, 2)).Shape.ToArray());
    }

    [Fact]
    public void Running_statistics_converge_to_the_data_distribution()
    {
        float[] mu = [3f, -2f], sigma = [2f, 0.5f];
        var layer = new BatchNorm1d(2, momentum: 0.1f);
        var random = new Random(2024);
        var batch = new Tensor(64, 2);
        for (int step = 0; step < 300; step++)
        {
            for (int r = 0; r < 64; r++)
            {
                for (int c = 0; c < 2; c++)
                {
                    batch[r, c] = (float)(mu[c] + sigma[c] * Init.StandardNormal(random));
                }
            }

            layer.Forward(batch);
        }

        for (int c = 0; c < 2; c++)
        {
            // The running mean is an EMA of batch means: its stationary σ is σ/√64·√(m/(2 − m)) ≈ 0.029σ; the
            // running variance's is about σ²·√(2/63)·0.23 ≈ 0.041σ². The bounds are ≥ 5 of those.
            Assert.InRange(layer.RunningMean[c], mu[c] - 0.15f * sigma[c], mu[c] + 0.15f * sigma[c]);
            float v = sigma[c] * sigma[c];
            Assert.InRange(layer.RunningVariance[c], 0.8f * v, 1.2f * v);
        }
    }

    [Fact]
    public void Bad_input_is_rejected_and_leaves_state_unchanged()
    {
        var layer = new BatchNorm1d(3);
        Tensor output = layer.Forward(LayerTestKit.RandomTensor(1, 4, 3));
        float[] outputBefore = output.Span.ToArray();
        float[] meanBefore = layer.RunningMean.ToArray();
        float[] varianceBefore = layer.RunningVariance.ToArray();

        var oneRow = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(1, 3)));
        Assert.Equal("input", oneRow.ParamName);
        Assert.Contains("at least 2 rows", oneRow.Message, StringComparison.Ordinal);
        var wrongFeatures = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(4, 2)));
        Assert.Contains("(N, 3)", wrongFeatures.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(2, 2, 3)));
        Assert.Throws<ArgumentException>(() => layer.Backward(new Tensor(4, 2)));

        Assert.Equal(outputBefore, output.Span.ToArray());
        Assert.Equal(meanBefore, layer.RunningMean.ToArray());
        Assert.Equal(varianceBefore, layer.RunningVariance.ToArray());
        Assert.All(layer.Scale.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Constructor_validates_and_registers_scale_and_shift()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(2, momentum: 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(2, epsilon: 0f));
        var layer = new BatchNorm1d(2);
        Assert.Equal(["scale", "shift"], layer.NamedParameters().Select(p => p.Key));
        Assert.Equal(new[] { 1f, 1f }, layer.Scale.Value.Span.ToArray());
        Assert.Equal(new[] { 0f, 0f }, layer.RunningMean.ToArray());
        Assert.Equal(new[] { 1f, 1f }, layer.RunningVariance.ToArray());
    }

    [Fact]
    public void Repeated_backward_is_bit_identical_in_both_modes()
    {
        // In training each forward moves the running statistics, but the output and gradients depend only on
        // the batch, so they must repeat too; checked in both modes.
        BatchNorm1d layer = CreateWithRandomAffine(5, 8);
        Tensor input = LayerTestKit.RandomTensor(9, 6, 5);
        Tensor gradOut = LayerTestKit.RandomTensor(10, 6, 5);
        LayerTestKit.AssertBitIdentical(
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut),
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut));
        layer.Training = false;
        LayerTestKit.AssertBitIdentical(
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut),
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var layer = new BatchNorm1d(24);
        Tensor input = LayerTestKit.RandomTensor(1, 32, 24);
        Tensor gradOut = LayerTestKit.RandomTensor(2, 32, 24);
        LayerTestKit.AssertNoAllocation("BatchNorm1d training", () =>
        {
            layer.Forward(input);
            layer.Backward(gradOut);
        });
        layer.Training = false;
        LayerTestKit.AssertNoAllocation("BatchNorm1d inference", () =>
        {
            layer.Forward(input);
            layer.Backward(gradOut);
        });
    }
}

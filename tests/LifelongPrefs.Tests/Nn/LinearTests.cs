using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn;

public class LinearTests
{
    [Property(MaxTest = 12)]
    public Property Gradients_match_finite_differences_for_random_shapes_and_seeds() =>
        Prop.ForAll(
            (from rows in Gen.Choose(1, 5)
             from inFeatures in Gen.Choose(1, 6)
             from outFeatures in Gen.Choose(1, 6)
             from seed in Gen.Choose(0, 10_000)
             select (rows, inFeatures, outFeatures, seed)).ToArbitrary(),
            c =>
            {
                var (rows, inFeatures, outFeatures, seed) = c;
                bool bias = seed % 2 == 0;
                var layer = new Linear(inFeatures, outFeatures, new Random(seed), bias);
                GradCheck.CheckLayer(layer, LayerTestKit.RandomTensor(seed + 1, rows, inFeatures), seed: seed);
            });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gradients_match_finite_differences_for_rank_3_input(bool bias)
    {
        var layer = new Linear(4, 3, new Random(7), bias);
        Tensor input = LayerTestKit.RandomTensor(8, 2, 3, 4);

        Tensor output = layer.Forward(input);

        Assert.Equal(new[] { 2, 3, 3 }, output.Shape.ToArray());
        GradCheck.CheckLayer(layer, input);
        Assert.Equal(bias ? 2 : 1, layer.Parameters.Count);
    }

    [Fact]
    public void Forward_matches_hand_computed_values()
    {
        var layer = new Linear(2, 3, new Random(1));
        // W: (in, out) = (2, 3); b: (3)
        float[] w = [1, 2, 3, 4, 5, 6];
        w.CopyTo(layer.Weight.Value.Span);
        float[] b = [0.5f, -1, 2];
        b.CopyTo(layer.Bias!.Value.Span);
        var x = Tensor.FromArray([1, -1, 2, 0.5f], 2, 2);

        Tensor y = layer.Forward(x);

        // Row 0: [1·1 − 1·4, 1·2 − 1·5, 1·3 − 1·6] + b = [−3, −3, −3] + b.
        // Row 1: [2·1 + 0.5·4, 2·2 + 0.5·5, 2·3 + 0.5·6] + b = [4, 6.5, 9] + b.
        Assert.Equal(new float[] { -2.5f, -4, -1, 4.5f, 5.5f, 11 }, y.Span.ToArray());
    }

    [Fact]
    public void Backward_accumulates_into_parameter_gradients()
    {
        var layer = new Linear(3, 2, new Random(2));
        Tensor input = LayerTestKit.RandomTensor(3, 4, 3);
        Tensor gradOut = LayerTestKit.RandomTensor(4, 4, 2);

        layer.Forward(input);
        layer.Backward(gradOut);
        float[] once = layer.Weight.Gradient.Span.ToArray();
        float[] bias = layer.Bias!.Gradient.Span.ToArray();
        layer.Forward(input);
        layer.Backward(gradOut);

        for (int i = 0; i < once.Length; i++)
        {
            Assert.Equal(2 * once[i], layer.Weight.Gradient.Span[i], 5);
        }

        for (int i = 0; i < bias.Length; i++)
        {
            Assert.Equal(2 * bias[i], layer.Bias.Gradient.Span[i], 5);
        }
    }

    [Fact]
    public void Weights_of_an_all_zero_input_feature_get_exactly_zero_gradient()
    {
        var layer = new Linear(3, 4, new Random(3));
        Tensor input = LayerTestKit.RandomTensor(5, 6, 3);
        for (int r = 0; r < 6; r++)
        {
            input[r, 1] = 0f;
        }

        layer.Forward(input);
        layer.Backward(LayerTestKit.RandomTensor(6, 6, 4));

        // Row 1 of W (shape (in, out)) only ever multiplies feature 1, which is zero everywhere.
        Assert.All(layer.Weight.Gradient.Row(1).ToArray(), g => Assert.Equal(0f, g));
        Assert.Contains(layer.Weight.Gradient.Row(0).ToArray(), g => g != 0f);
    }

    [Fact]
    public void Repeated_backward_after_identical_forward_is_bit_identical()
    {
        var layer = new Linear(5, 3, new Random(4));
        Tensor input = LayerTestKit.RandomTensor(7, 6, 5);
        Tensor gradOut = LayerTestKit.RandomTensor(8, 6, 3);

        float[][] first = LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut);
        float[][] second = LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut);

        LayerTestKit.AssertBitIdentical(first, second);
    }

    [Fact]
    public void Bad_inputs_are_rejected_and_leave_state_unchanged()
    {
        var layer = new Linear(3, 2, new Random(5));
        Tensor input = LayerTestKit.RandomTensor(9, 4, 3);
        Tensor output = layer.Forward(input);
        float[] before = output.Span.ToArray();

        var wrongFeatures = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(4, 5)));
        Assert.Equal("input", wrongFeatures.ParamName);
        Assert.Contains("3", wrongFeatures.Message, StringComparison.Ordinal);
        Assert.Contains("5", wrongFeatures.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(12)));
        Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(1, 2, 2, 3)));

        var wrongGrad = Assert.Throws<ArgumentException>(() => layer.Backward(new Tensor(4, 3)));
        Assert.Equal("gradOutput", wrongGrad.ParamName);
        Assert.All(layer.Weight.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        Assert.All(layer.Bias!.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        // The rejected forwards did not disturb the cached pass: backward still works on the old input.
        Assert.Equal(before, output.Span.ToArray());
        Assert.Equal(new[] { 4, 3 }, layer.Backward(new Tensor(4, 2)).Shape.ToArray());
    }

    [Fact]
    public void Backward_before_forward_throws()
    {
        var layer = new Linear(3, 2, new Random(6));
        Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(1, 2)));
    }

    [Fact]
    public void Constructor_validates_arguments_and_initialises_xavier_uniform()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Linear(0, 2, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Linear(2, -1, new Random(1)));
        Assert.Throws<ArgumentNullException>(() => new Linear(2, 2, null!));

        var layer = new Linear(40, 60, new Random(1));
        float limit = MathF.Sqrt(6f / 100f);
        Assert.All(layer.Weight.Value.Span.ToArray(), w => Assert.InRange(w, -limit, limit));
        Assert.All(layer.Bias!.Value.Span.ToArray(), b => Assert.Equal(0f, b));
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Key));
        Assert.Null(new Linear(2, 2, new Random(1), bias: false).Bias);
    }

    [Fact]
    public void Same_seed_gives_same_weights()
    {
        var a = new Linear(8, 8, new Random(42));
        var b = new Linear(8, 8, new Random(42));
        Assert.Equal(a.Weight.Value.Span.ToArray(), b.Weight.Value.Span.ToArray());
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var layer = new Linear(16, 8, new Random(9));
        Tensor input2 = LayerTestKit.RandomTensor(1, 10, 16);
        Tensor gradOut2 = LayerTestKit.RandomTensor(2, 10, 8);
        Tensor input3 = LayerTestKit.RandomTensor(3, 2, 5, 16);
        Tensor gradOut3 = LayerTestKit.RandomTensor(4, 2, 5, 8);
        var rank3 = new Linear(16, 8, new Random(9));

        LayerTestKit.AssertNoAllocation("Linear rank 2", () =>
        {
            layer.Forward(input2);
            layer.Backward(gradOut2);
        });
        LayerTestKit.AssertNoAllocation("Linear rank 3", () =>
        {
            rank3.Forward(input3);
            rank3.Backward(gradOut3);
        });
    }
}

/// <summary>Helpers shared by the core layer tests.</summary>
internal static class LayerTestKit
{
    /// <summary>A tensor of U(−1, 1) values from a fixed seed.</summary>
    internal static Tensor RandomTensor(int seed, params int[] shape)
    {
        int length = 1;
        foreach (int d in shape)
        {
            length *= d;
        }

        return Tensor.FromArray(TestData.Uniform(length, seed), shape);
    }

    /// <summary>
    /// Values in ±[0.05, 1.05): kept more than 2·eps (eps = 1e-2 in <see cref="GradCheck"/>) away from 0, where
    /// ReLU-like activations have a kink and a central difference would straddle it.
    /// </summary>
    internal static Tensor AwayFromZero(int seed, params int[] shape)
    {
        Tensor t = RandomTensor(seed, shape);
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = s[i] >= 0 ? s[i] + 0.05f : s[i] - 0.05f;
        }

        return t;
    }

    /// <summary>Zeroes gradients, runs forward and backward, and returns copies of the output, input gradient and parameter gradients.</summary>
    internal static float[][] ForwardBackwardSnapshot(Layer layer, Tensor input, Tensor gradOut)
    {
        layer.ZeroGrad();
        var result = new List<float[]> { layer.Forward(input).Span.ToArray(), layer.Backward(gradOut).Span.ToArray() };
        foreach (Parameter p in layer.Parameters)
        {
            result.Add(p.Gradient.Span.ToArray());
        }

        return [.. result];
    }

    /// <summary>Asserts two snapshots are equal bit for bit.</summary>
    internal static void AssertBitIdentical(float[][] first, float[][] second)
    {
        Assert.Equal(first.Length, second.Length);
        for (int t = 0; t < first.Length; t++)
        {
            Assert.Equal(first[t].Length, second[t].Length);
            for (int i = 0; i < first[t].Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(first[t][i]), BitConverter.SingleToInt32Bits(second[t][i]));
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> twice to warm up (first-call workspace growth is allowed), then asserts that
    /// three more runs allocate exactly zero bytes on this thread. Behavioural, not a timing test.
    /// </summary>
    internal static void AssertNoAllocation(string name, Action step)
    {
        Allocations.AssertNone(name, step, warmUps: 2);
    }
}

using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

public class ActivationLayerTests
{
    public static TheoryData<string> Names => new() { "relu", "leaky", "gelu", "sigmoid", "tanh" };

    private static Layer Create(string name) => name switch
    {
        "relu" => new Relu(),
        "leaky" => new LeakyRelu(0.1f),
        "gelu" => new Gelu(),
        "sigmoid" => new Sigmoid(),
        "tanh" => new Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Scalar reference for each activation, computed in double.</summary>
    private static double Reference(string name, double x) => name switch
    {
        "relu" => Math.Max(x, 0),
        "leaky" => x > 0 ? x : 0.1 * x,
        "gelu" => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "tanh" => Math.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Gradient_matches_finite_differences(string name)
    {
        // Inputs in ±[0.05, 2.15): away from the ReLU kink by more than 2·eps, and wide enough to reach the
        // curved parts of sigmoid, tanh and GELU.
        Tensor input = LayerTestKit.AwayFromZero(11, 3, 4, 5);
        Kernels.Scale(input.Span, 2f, input.Span);

        GradCheck.CheckLayer(Create(name), input);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_matches_scalar_reference_for_any_rank(string name)
    {
        Layer layer = Create(name);
        foreach (int[] shape in new[] { new[] { 7 }, new[] { 2, 3 }, new[] { 2, 1, 3 }, new[] { 1, 2, 2, 2 } })
        {
            Tensor input = LayerTestKit.RandomTensor(shape.Length, shape);
            Kernels.Scale(input.Span, 3f, input.Span);

            Tensor output = layer.Forward(input);

            Assert.Equal(shape, output.Shape.ToArray());
            for (int i = 0; i < input.Length; i++)
            {
                Approx.Equal(Reference(name, input.Span[i]), output.Span[i], 1e-5, 1e-6, $"{name}{i}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Backward_rejects_a_gradient_of_the_wrong_shape_and_requires_a_forward(string name)
    {
        Layer layer = Create(name);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(2, 3)));
        layer.Forward(new Tensor(2, 3));

        var e = Assert.Throws<ArgumentException>(() => layer.Backward(new Tensor(3, 2)));
        Assert.Equal("gradOutput", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => layer.Forward(null!));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Repeated_backward_is_bit_identical_and_allocation_free(string name)
    {
        Layer layer = Create(name);
        Tensor input = LayerTestKit.RandomTensor(12, 4, 6);
        Tensor gradOut = LayerTestKit.RandomTensor(13, 4, 6);

        LayerTestKit.AssertBitIdentical(
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut),
            LayerTestKit.ForwardBackwardSnapshot(layer, input, gradOut));
        LayerTestKit.AssertNoAllocation(name, () =>
        {
            layer.Forward(input);
            layer.Backward(gradOut);
        });
    }

    [Fact]
    public void Relu_family_derivatives_match_hand_values()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0.5f, 3f], 1, 4);
        var ones = Tensor.FromArray([1f, 1f, 1f, 1f], 1, 4);

        var relu = new Relu();
        relu.Forward(x);
        Assert.Equal(new[] { 0f, 0f, 1f, 1f }, relu.Backward(ones).Span.ToArray());

        var leaky = new LeakyRelu(0.2f);
        Assert.Equal(new[] { -0.4f, -0.1f, 0.5f, 3f }, leaky.Forward(x).Span.ToArray());
        Assert.Equal(new[] { 0.2f, 0.2f, 1f, 1f }, leaky.Backward(ones).Span.ToArray());
        Assert.Equal(0.01f, new LeakyRelu().NegativeSlope);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyRelu(float.NaN));
    }

    [Fact]
    public void Activations_have_no_parameters()
    {
        foreach (string name in new[] { "relu", "leaky", "gelu", "sigmoid", "tanh" })
        {
            Assert.Empty(Create(name).Parameters);
        }
    }
}

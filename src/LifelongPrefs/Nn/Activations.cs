namespace LifelongPrefs.Nn;

/// <summary>Rectified linear unit, element-wise: <c>y = max(x, 0)</c>. Any rank; the output has the input's shape.</summary>
/// <remarks>The derivative at exactly 0 is taken as 0 (the kernel passes the gradient only where <c>x &gt; 0</c>).</remarks>
public sealed class Relu : Layer
{
    private readonly ElementwiseCache _cache = new();

    /// <summary>Computes <c>max(x, 0)</c>.</summary>
    /// <param name="input">Pre-activations, any shape; kept by reference until backward.</param>
    /// <returns>The activations (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor output = _cache.BeginForward(input);
        Kernels.Relu(input.Span, output.Span);
        return output;
    }

    /// <summary>Returns <c>dY</c> where the input was positive and 0 elsewhere.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor gradInput = _cache.BeginBackward(gradOutput, nameof(Relu));
        Kernels.ReluBackward(_cache.Input.Span, gradOutput.Span, gradInput.Span);
        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: the same kernel, into the caller's
    /// <paramref name="destination"/> (it may be <paramref name="input"/> itself), so it is bit-identical to it.
    /// </summary>
    /// <param name="input">Pre-activations.</param>
    /// <param name="destination">Receives the activations; at least as long as <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, Span<float> destination) => Kernels.Relu(input, destination);
}

/// <summary>
/// Leaky rectified linear unit, element-wise: <c>y = x</c> for <c>x &gt; 0</c>, else <c>negativeSlope · x</c>.
/// Any rank; the output has the input's shape.
/// </summary>
public sealed class LeakyRelu : Layer
{
    private readonly ElementwiseCache _cache = new();

    /// <summary>Creates a leaky ReLU.</summary>
    /// <param name="negativeSlope">Slope for non-positive inputs; finite. Defaults to 0.01 (as in PyTorch).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="negativeSlope"/> is NaN or infinite.</exception>
    public LeakyRelu(float negativeSlope = 0.01f)
    {
        if (!float.IsFinite(negativeSlope))
        {
            throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope,
                $"'{nameof(negativeSlope)}' must be finite but was {negativeSlope}.");
        }

        NegativeSlope = negativeSlope;
    }

    /// <summary>Gets the slope applied to non-positive inputs.</summary>
    /// <value>0.01 unless set in the constructor.</value>
    public float NegativeSlope { get; }

    /// <summary>Computes the leaky ReLU.</summary>
    /// <param name="input">Pre-activations, any shape; kept by reference until backward.</param>
    /// <returns>The activations (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor output = _cache.BeginForward(input);
        Kernels.LeakyRelu(input.Span, NegativeSlope, output.Span);
        return output;
    }

    /// <summary>Returns <c>dY</c> where the input was positive and <c>negativeSlope · dY</c> elsewhere.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor gradInput = _cache.BeginBackward(gradOutput, nameof(LeakyRelu));
        Kernels.LeakyReluBackward(_cache.Input.Span, gradOutput.Span, NegativeSlope, gradInput.Span);
        return gradInput;
    }
}

/// <summary>
/// Gaussian error linear unit with the tanh approximation (as in GPT-2 and BERT), element-wise:
/// <c>y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>. Any rank; the output has the input's shape.
/// </summary>
/// <remarks>The backward pass is the exact derivative of this approximation (see <see cref="Kernels.GeluBackward"/>).</remarks>
public sealed class Gelu : Layer
{
    private readonly ElementwiseCache _cache = new();

    /// <summary>Computes the GELU.</summary>
    /// <param name="input">Pre-activations, any shape; kept by reference until backward.</param>
    /// <returns>The activations (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor output = _cache.BeginForward(input);
        Kernels.Gelu(input.Span, output.Span);
        return output;
    }

    /// <summary>Returns <c>dY · gelu'(x)</c>.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor gradInput = _cache.BeginBackward(gradOutput, nameof(Gelu));
        Kernels.GeluBackward(_cache.Input.Span, gradOutput.Span, gradInput.Span);
        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: the same kernel, into the caller's
    /// <paramref name="destination"/> (it may be <paramref name="input"/> itself), so it is bit-identical to it.
    /// </summary>
    /// <param name="input">Pre-activations.</param>
    /// <param name="destination">Receives the activations; at least as long as <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, Span<float> destination) => Kernels.Gelu(input, destination);
}

/// <summary>Logistic sigmoid, element-wise: <c>y = 1 / (1 + e^(−x))</c>. Any rank; the output has the input's shape.</summary>
/// <remarks>The backward pass uses the cached output (<c>dX = dY·y·(1 − y)</c>), so the output must not be modified before it.</remarks>
public sealed class Sigmoid : Layer
{
    private readonly ElementwiseCache _cache = new();

    /// <summary>Computes the sigmoid.</summary>
    /// <param name="input">Pre-activations, any shape.</param>
    /// <returns>Values in [0, 1] (owned by the layer; read again by backward).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor output = _cache.BeginForward(input);
        Kernels.Sigmoid(input.Span, output.Span);
        return output;
    }

    /// <summary>Returns <c>dY · y · (1 − y)</c> from the cached output <c>y</c>.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor gradInput = _cache.BeginBackward(gradOutput, nameof(Sigmoid));
        Kernels.SigmoidBackward(_cache.Output.Span, gradOutput.Span, gradInput.Span);
        return gradInput;
    }
}

/// <summary>Hyperbolic tangent, element-wise. Any rank; the output has the input's shape.</summary>
/// <remarks>The backward pass uses the cached output (<c>dX = dY·(1 − y²)</c>), so the output must not be modified before it.</remarks>
public sealed class Tanh : Layer
{
    private readonly ElementwiseCache _cache = new();

    /// <summary>Computes <c>tanh(x)</c>.</summary>
    /// <param name="input">Pre-activations, any shape.</param>
    /// <returns>Values in [−1, 1] (owned by the layer; read again by backward).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor output = _cache.BeginForward(input);
        Kernels.Tanh(input.Span, output.Span);
        return output;
    }

    /// <summary>Returns <c>dY · (1 − y²)</c> from the cached output <c>y</c>.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor gradInput = _cache.BeginBackward(gradOutput, nameof(Tanh));
        Kernels.TanhBackward(_cache.Output.Span, gradOutput.Span, gradInput.Span);
        return gradInput;
    }
}

/// <summary>
/// What an element-wise layer keeps between forward and backward: the input by reference, the owned output
/// and input-gradient workspaces. Composition rather than a base class keeps each activation a sealed
/// <see cref="Layer"/> without widening the public API.
/// </summary>
internal sealed class ElementwiseCache
{
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private Tensor? _input;
    private Tensor? _outputTensor;

    /// <summary>Gets the last forward input (valid after <see cref="BeginForward"/>).</summary>
    internal Tensor Input => _input!;

    /// <summary>Gets the last forward output (valid after <see cref="BeginForward"/>).</summary>
    internal Tensor Output => _outputTensor!;

    /// <summary>Validates the input, remembers it and returns the output tensor to fill.</summary>
    internal Tensor BeginForward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Tensor output = _output.GetLike(input);
        _input = input;
        _outputTensor = output;
        return output;
    }

    /// <summary>Validates <paramref name="gradOutput"/> against the last forward and returns the input-gradient tensor to fill.</summary>
    internal Tensor BeginBackward(Tensor gradOutput, string layer)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (_input is null)
        {
            throw CoreLayerChecks.NoForward(layer);
        }

        CoreLayerChecks.RequireSameShape(gradOutput, _outputTensor!, layer);
        return _gradInput.GetLike(_input);
    }
}

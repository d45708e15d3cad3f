using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Nn;

/// <summary>
/// Fully connected (dense) layer: <c>y = x·W + b</c> applied to every row of the input.
/// </summary>
/// <remarks>
/// <para>
/// The weight is stored as <c>(inFeatures, outFeatures)</c>, so the forward pass is one GEMM with neither
/// operand transposed, and the backward pass is <c>dX = dY·Wᵀ</c> (GEMM NT) and <c>dW += Xᵀ·dY</c> (GEMM TN
/// with beta = 1, which is exactly the accumulate-into-gradient contract) plus <c>db += Σ_rows dY</c>.
/// </para>
/// <para>
/// The input may be <c>(N, inFeatures)</c> or <c>(B, T, inFeatures)</c>; a rank-3 input is treated as
/// <c>N = B·T</c> rows (the storage is already laid out that way) and the output keeps its rank:
/// <c>(B, T, outFeatures)</c>.
/// </para>
/// <para>
/// Parameters: <c>weight</c> (Xavier/Glorot uniform, <c>U(−a, a)</c> with <c>a = √(6 / (in + out))</c>) and,
/// when enabled, <c>bias</c> (zeros).
/// </para>
/// </remarks>
public sealed class Linear : Layer
{
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private readonly float[] _biasGradient;
    private Tensor? _input;
    private Tensor? _lastOutput;

    /// <summary>Creates a linear layer with Xavier-uniform weights and a zero bias.</summary>
    /// <param name="inFeatures">Number of input features; positive.</param>
    /// <param name="outFeatures">Number of output features; positive.</param>
    /// <param name="random">The seeded source of randomness for the weight initialisation.</param>
    /// <param name="bias">Whether to learn an additive bias.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inFeatures"/> or <paramref name="outFeatures"/> is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public Linear(int inFeatures, int outFeatures, Random random, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentNullException.ThrowIfNull(random);

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var weight = new Tensor(inFeatures, outFeatures);
        Init.XavierUniform(weight.Span, inFeatures, outFeatures, random);
        Weight = AddParameter(new Parameter("weight", weight));
        if (bias)
        {
            Bias = AddParameter(new Parameter("bias", new Tensor(outFeatures)));
            _biasGradient = new float[outFeatures];
        }
        else
        {
            _biasGradient = [];
        }
    }

    /// <summary>Gets the weight, shape <c>(InFeatures, OutFeatures)</c>, registered as <c>weight</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>Gets the bias, shape <c>(OutFeatures)</c>, registered as <c>bias</c>; null when the layer has none.</summary>
    public Parameter? Bias { get; }

    /// <summary>Gets the number of input features (the last dimension of the input).</summary>
    public int InFeatures { get; }

    /// <summary>Gets the number of output features (the last dimension of the output).</summary>
    public int OutFeatures { get; }

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="Backward"/> computes the gradient with respect to the
    /// input. Set it to false on a first layer whose input is data: that skips one of the three matrix products
    /// of a step, and <see cref="Backward"/> then returns an all-zero gradient (the input is treated as a constant).
    /// </summary>
    /// <value>True by default.</value>
    public bool ComputeInputGradient { get; set; } = true;

    /// <summary>Computes <c>y = x·W + b</c> for every row of <paramref name="input"/>.</summary>
    /// <param name="input">Shape <c>(N, InFeatures)</c> or <c>(B, T, InFeatures)</c>; kept by reference until backward.</param>
    /// <returns>Shape <c>(N, OutFeatures)</c> or <c>(B, T, OutFeatures)</c>; owned by the layer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not rank 2 or 3, or its last dimension is not <see cref="InFeatures"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (2 or 3) || input.Shape[^1] != InFeatures)
        {
            CoreLayerChecks.ThrowFeatureMismatch(nameof(Linear), nameof(input), input, InFeatures);
        }

        int rows = input.Length / InFeatures;
        // y: (N, out) or (B, T, out); the rank-3 case is the same N = B·T rows in memory.
        Tensor output = input.Rank == 2
            ? _output.Get(rows, OutFeatures)
            : _output.Get(input.Shape[0], input.Shape[1], OutFeatures);

        // y = x·W (beta = 0 overwrites whatever the workspace held).
        Kernels.Gemm(Transpose.None, Transpose.None, rows, OutFeatures, InFeatures, 1f,
            input.Span, InFeatures, Weight.Value.Span, OutFeatures, 0f, output.Span, OutFeatures);
        if (Bias is not null)
        {
            Kernels.AddRowBias(Bias.Value.Span, output.Span, rows, OutFeatures);
        }

        _input = input;
        _lastOutput = output;
        return output;
    }

    /// <summary>
    /// Accumulates <c>dW += Xᵀ·dY</c> and <c>db += Σ_rows dY</c>, and returns <c>dX = dY·Wᵀ</c>.
    /// </summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input, same shape as it; owned by the layer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        Tensor input = _input ?? throw CoreLayerChecks.NoForward(nameof(Linear));
        CoreLayerChecks.RequireSameShape(gradOutput, _lastOutput!, nameof(Linear));

        int rows = input.Length / InFeatures;
        ReadOnlySpan<float> dy = gradOutput.Span;

        // dX = dY·Wᵀ: (N, out)·(out, in); W is stored (in, out), so the transpose is absorbed by the packing.
        Tensor gradInput = _gradInput.GetLike(input);
        if (ComputeInputGradient)
        {
            Kernels.Gemm(Transpose.None, Transpose.Transpose, rows, InFeatures, OutFeatures, 1f,
                dy, OutFeatures, Weight.Value.Span, OutFeatures, 0f, gradInput.Span, InFeatures);
        }
        else
        {
            gradInput.Span.Clear();
        }

        // dW += Xᵀ·dY: (in, N)·(N, out); beta = 1 accumulates into the existing gradient.
        Kernels.Gemm(Transpose.Transpose, Transpose.None, InFeatures, OutFeatures, rows, 1f,
            input.Span, InFeatures, dy, OutFeatures, 1f, Weight.Gradient.Span, OutFeatures);

        if (Bias is not null)
        {
            // db += Σ_rows dY: every row used the same bias.
            Kernels.SumColumns(dy, rows, OutFeatures, _biasGradient);
            Kernels.Add(Bias.Gradient.Span, _biasGradient, Bias.Gradient.Span);
        }

        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: <c>y = x·W + b</c> for <paramref name="rows"/> rows,
    /// written into the caller's <paramref name="destination"/> (nothing layer-owned is touched, so any number of
    /// threads may call it at once). Bit-identical to <see cref="Forward"/>: the same GEMM and bias kernels on the
    /// same shapes.
    /// </summary>
    /// <param name="input">x: (rows, inFeatures), row-major.</param>
    /// <param name="weight">W: (inFeatures, outFeatures).</param>
    /// <param name="bias">b: (outFeatures), or empty for a layer without bias.</param>
    /// <param name="rows">N, the number of rows.</param>
    /// <param name="inFeatures">Input width.</param>
    /// <param name="outFeatures">Output width.</param>
    /// <param name="destination">Receives y: (rows, outFeatures); must not overlap the inputs.</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int rows, int inFeatures, int outFeatures, Span<float> destination)
    {
        Span<float> y = destination[..(rows * outFeatures)];
        // y = x·W (beta = 0 overwrites whatever the destination held), then + b on every row.
        Kernels.Gemm(Transpose.None, Transpose.None, rows, outFeatures, inFeatures, 1f,
            input[..(rows * inFeatures)], inFeatures, weight, outFeatures, 0f, y, outFeatures);
        if (!bias.IsEmpty)
        {
            Kernels.AddRowBias(bias, y, rows, outFeatures);
        }
    }
}

/// <summary>Argument checks and messages shared by the core layers (Linear, activations, norms, dropout, embedding).</summary>
internal static class CoreLayerChecks
{
    /// <summary>Throws unless <paramref name="gradOutput"/> has exactly the shape of <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RequireSameShape(Tensor gradOutput, Tensor output, string layer)
    {
        if (!gradOutput.Shape.SequenceEqual(output.Shape))
        {
            ThrowGradShape(gradOutput, output, layer);
        }
    }

    /// <summary>The error for a backward call with no forward pass to propagate through.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static InvalidOperationException NoForward(string layer) =>
        new($"{layer}.Backward was called before any Forward: there is no cached forward pass to propagate through.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowFeatureMismatch(string layer, string paramName, Tensor input, int features) =>
        throw new ArgumentException(
            $"{layer} expects '{paramName}' of shape (N, {features}) or (B, T, {features}) but got {input}: " +
            $"rank {input.Rank} with last dimension {input.Shape[^1]}.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowGradShape(Tensor gradOutput, Tensor output, string layer) =>
        throw new ArgumentException(
            $"{layer}.Backward: 'gradOutput' has shape {gradOutput} but the last forward output has shape {output}.",
            nameof(gradOutput));
}

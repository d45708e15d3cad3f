using System.Numerics.Tensors;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Nn;

/// <summary>
/// Layer normalisation (Ba, Kiros &amp; Hinton, 2016): each row is normalised over its last dimension,
/// <c>y = γ ⊙ (x − μ_row) / √(σ²_row + ε) + β</c>, with the biased (divide-by-features) row variance.
/// </summary>
/// <remarks>
/// Unlike batch norm it behaves the same in training and inference and every row is independent. The input
/// is <c>(N, features)</c> or <c>(B, T, features)</c>; the output has the same shape. Parameters:
/// <c>scale</c> (γ, ones) and <c>shift</c> (β, zeros).
/// </remarks>
public sealed class LayerNorm : Layer
{
    private readonly Workspace _normalized = new();
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private readonly Workspace _mean = new();
    private readonly Workspace _inverseStd = new();
    private readonly float[] _gradNormalized;
    private Tensor? _input;
    private Tensor? _lastOutput;

    /// <summary>Creates a layer norm with γ = 1 and β = 0.</summary>
    /// <param name="features">Size of the normalised (last) dimension; positive.</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite; 1e-5 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="features"/> is not positive, or <paramref name="epsilon"/> is not positive and finite.</exception>
    public LayerNorm(int features, float epsilon = 1e-5f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (!(epsilon > 0f) || !float.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"'{nameof(epsilon)}' must be positive and finite but was {epsilon}.");
        }

        Features = features;
        Epsilon = epsilon;
        var scale = new Tensor(features);
        scale.Fill(1f);
        Scale = AddParameter(new Parameter("scale", scale));
        Shift = AddParameter(new Parameter("shift", new Tensor(features)));
        _gradNormalized = new float[features];
    }

    /// <summary>Gets the size of the normalised dimension.</summary>
    public int Features { get; }

    /// <summary>Gets the constant added to the variance before the square root.</summary>
    /// <value>1e-5 unless set in the constructor.</value>
    public float Epsilon { get; }

    /// <summary>Gets γ, shape <c>(features)</c>, registered as <c>scale</c>; initialised to 1.</summary>
    public Parameter Scale { get; }

    /// <summary>Gets β, shape <c>(features)</c>, registered as <c>shift</c>; initialised to 0.</summary>
    public Parameter Shift { get; }

    /// <summary>Normalises every row over the last dimension and applies γ and β.</summary>
    /// <param name="input">Shape <c>(N, features)</c> or <c>(B, T, features)</c>; kept by reference until backward.</param>
    /// <returns>Same shape as <paramref name="input"/> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not rank 2 or 3, or its last dimension is not <see cref="Features"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (2 or 3) || input.Shape[^1] != Features)
        {
            CoreLayerChecks.ThrowFeatureMismatch(nameof(LayerNorm), nameof(input), input, Features);
        }

        int f = Features;
        int rows = input.Length / f;
        Tensor output = _output.GetLike(input);
        Tensor normalized = _normalized.Get(rows, f);
        Span<float> mean = _mean.Get(rows, 1).Span;
        Span<float> inverseStd = _inverseStd.Get(rows, 1).Span;

        // Per-row μ and biased σ² (two-pass, so a large common offset does not cancel).
        Kernels.MeanVarianceRows(input.Span, rows, f, mean, inverseStd);
        TensorPrimitives.Add(inverseStd, Epsilon, inverseStd);
        TensorPrimitives.ReciprocalSqrt(inverseStd, inverseStd);

        ReadOnlySpan<float> x = input.Span;
        Span<float> y = output.Span;
        ReadOnlySpan<float> gamma = Scale.Value.Span;
        ReadOnlySpan<float> beta = Shift.Value.Span;
        for (int r = 0; r < rows; r++)
        {
            // x̂ = (x − μ)·invStd, cached for backward; y = γ ⊙ x̂ + β.
            Span<float> xhat = normalized.Row(r);
            TensorPrimitives.Add(x.Slice(r * f, f), -mean[r], xhat);
            TensorPrimitives.Multiply(xhat, inverseStd[r], xhat);
            TensorPrimitives.MultiplyAdd(xhat, gamma, beta, y.Slice(r * f, f));
        }

        _input = input;
        _lastOutput = output;
        return output;
    }

    /// <summary>
    /// Accumulates <c>dγ += Σ_rows dY ⊙ x̂</c> and <c>dβ += Σ_rows dY</c>, and returns, per row with
    /// <c>dx̂ = γ ⊙ dY</c>: <c>dX = invStd/F · (F·dx̂ − Σ dx̂ − x̂ · Σ(dx̂ ⊙ x̂))</c>, which includes the
    /// gradient through the row's mean and variance.
    /// </summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        Tensor input = _input ?? throw CoreLayerChecks.NoForward(nameof(LayerNorm));
        CoreLayerChecks.RequireSameShape(gradOutput, _lastOutput!, nameof(LayerNorm));

        int f = Features;
        int rows = input.Length / f;
        Tensor normalized = _normalized.Get(rows, f);
        Span<float> inverseStd = _inverseStd.Get(rows, 1).Span;
        Tensor gradInput = _gradInput.GetLike(input);
        ReadOnlySpan<float> dy = gradOutput.Span;
        Span<float> dx = gradInput.Span;
        ReadOnlySpan<float> gamma = Scale.Value.Span;
        Span<float> gradGamma = Scale.Gradient.Span;
        Span<float> gradBeta = Shift.Gradient.Span;
        Span<float> dxhat = _gradNormalized;

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> dyRow = dy.Slice(r * f, f);
            ReadOnlySpan<float> xhat = normalized.Row(r);
            Span<float> dxRow = dx.Slice(r * f, f);

            // Parameter gradients accumulate row by row: dγ += dY ⊙ x̂, dβ += dY.
            TensorPrimitives.MultiplyAdd(dyRow, xhat, gradGamma, gradGamma);
            Kernels.Add(gradBeta, dyRow, gradBeta);

            // dx̂ = γ ⊙ dY; the two sums are the paths through μ and σ² of this row.
            Kernels.Multiply(dyRow, gamma, dxhat);
            float sumGrad = TensorPrimitives.Sum(dxhat);
            float sumGradNormalized = TensorPrimitives.Dot(dxhat, xhat);
            float coefficient = inverseStd[r] / f;

            // dX = invStd/F · (F·dx̂ − Σdx̂ − x̂·Σ(dx̂ ⊙ x̂))
            TensorPrimitives.Multiply(xhat, -sumGradNormalized, dxRow);
            TensorPrimitives.MultiplyAdd(dxhat, (float)f, dxRow, dxRow);
            TensorPrimitives.Add(dxRow, -sumGrad, dxRow);
            TensorPrimitives.Multiply(dxRow, coefficient, dxRow);
        }

        return gradInput;
    }

    /// <summary>The ε of <see cref="LayerNorm"/> unless one is given (the norms inside <see cref="TransformerBlock"/> use it).</summary>
    internal const float DefaultEpsilon = 1e-5f;

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/> (layer norm behaves the same in training and inference):
    /// each row normalised over its <paramref name="features"/> values, then <c>γ ⊙ x̂ + β</c>, into the caller's
    /// buffers. Bit-identical to <see cref="Forward"/>: the same row statistics kernel over the same rows, then the
    /// same element-wise kernels.
    /// </summary>
    /// <param name="input">x: (rows, features).</param>
    /// <param name="scale">γ: (features).</param>
    /// <param name="shift">β: (features).</param>
    /// <param name="epsilon">The layer's ε.</param>
    /// <param name="rows">N (B·T for a sequence batch).</param>
    /// <param name="features">F.</param>
    /// <param name="statistics">Scratch of at least 2·<paramref name="rows"/> floats (row means, then inverse deviations).</param>
    /// <param name="destination">Receives y: (rows, features); must not overlap <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, float epsilon,
        int rows, int features, Span<float> statistics, Span<float> destination)
    {
        int f = features;
        Span<float> mean = statistics[..rows];
        Span<float> inverseStd = statistics.Slice(rows, rows);
        Kernels.MeanVarianceRows(input[..(rows * f)], rows, f, mean, inverseStd);
        TensorPrimitives.Add(inverseStd, epsilon, inverseStd);
        TensorPrimitives.ReciprocalSqrt(inverseStd, inverseStd);
        for (int r = 0; r < rows; r++)
        {
            // x̂ = (x − μ)·invStd built in the output row, then y = γ ⊙ x̂ + β in place.
            Span<float> y = destination.Slice(r * f, f);
            TensorPrimitives.Add(input.Slice(r * f, f), -mean[r], y);
            TensorPrimitives.Multiply(y, inverseStd[r], y);
            TensorPrimitives.MultiplyAdd(y, scale, shift, y);
        }
    }
}

using System.Numerics.Tensors;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Nn;

/// <summary>
/// Batch normalisation over the rows of a <c>(N, features)</c> input (Ioffe &amp; Szegedy, 2015):
/// <c>y = γ · (x − μ) / √(σ² + ε) + β</c> per feature.
/// </summary>
/// <remarks>
/// <para>
/// <b>Training mode</b>: μ and σ² are the mean and the biased (divide-by-N) variance of the batch, and the
/// backward pass differentiates through them, so every row's gradient depends on the whole batch. N must
/// be at least 2. Each training forward also updates the running statistics with momentum m:
/// <c>running = (1 − m)·running + m·batch</c>, where the running variance takes the <b>unbiased</b> batch
/// variance (σ²·N/(N − 1)), as PyTorch does, so that it estimates the population variance.
/// </para>
/// <para>
/// <b>Inference mode</b>: μ and σ² are the running mean and variance (initially 0 and 1), the layer is a
/// fixed affine map per feature, and the running statistics are not changed.
/// </para>
/// <para>
/// Parameters: <c>scale</c> (γ, ones) and <c>shift</c> (β, zeros). The running statistics are buffers,
/// not parameters (no gradient, not touched by optimizers); they are exposed read-only as spans and, for
/// checkpoints, as the writable tensors <see cref="RunningMeanTensor"/> and <see cref="RunningVarianceTensor"/>.
/// </para>
/// </remarks>
public sealed class BatchNorm1d : Layer
{
    private readonly Tensor _runningMean;
    private readonly Tensor _runningVariance;
    private readonly float[] _mean;
    private readonly float[] _variance;
    private readonly float[] _inverseStd;
    private readonly float[] _sumGrad;
    private readonly float[] _sumGradNormalized;
    private readonly float[] _coefficient;
    private readonly Workspace _normalized = new();
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private readonly Workspace _product = new();
    private Tensor? _input;
    private Tensor? _lastOutput;
    private bool _lastWasTraining;

    /// <summary>Creates a batch-norm layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="features">Number of features (columns of the input); positive.</param>
    /// <param name="momentum">Weight m of the newest batch in the running statistics, in [0, 1]; 0.1 by default.</param>
    /// <param name="epsilon">Added to the variance before the square root, for stability; positive and finite; 1e-5 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="features"/> is not positive, <paramref name="momentum"/> is outside [0, 1], or
    /// <paramref name="epsilon"/> is not positive and finite.
    /// </exception>
    public BatchNorm1d(int features, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"'{nameof(momentum)}' must be in [0, 1] but was {momentum}.");
        }

        if (!(epsilon > 0f) || !float.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"'{nameof(epsilon)}' must be positive and finite but was {epsilon}.");
        }

        Features = features;
        Momentum = momentum;
        Epsilon = epsilon;
        var scale = new Tensor(features);
        scale.Fill(1f);
        Scale = AddParameter(new Parameter("scale", scale));
        Shift = AddParameter(new Parameter("shift", new Tensor(features)));
        _runningMean = new Tensor(features);
        _runningVariance = new Tensor(features);
        _runningVariance.Fill(1f);
        _mean = new float[features];
        _variance = new float[features];
        _inverseStd = new float[features];
        _sumGrad = new float[features];
        _sumGradNormalized = new float[features];
        _coefficient = new float[features];
    }

    /// <summary>Gets the number of features.</summary>
    public int Features { get; }

    /// <summary>Gets the weight of the newest batch in the running statistics.</summary>
    /// <value>0.1 unless set in the constructor.</value>
    public float Momentum { get; }

    /// <summary>Gets the constant added to the variance before the square root.</summary>
    /// <value>1e-5 unless set in the constructor.</value>
    public float Epsilon { get; }

    /// <summary>Gets γ, shape <c>(features)</c>, registered as <c>scale</c>; initialised to 1.</summary>
    public Parameter Scale { get; }

    /// <summary>Gets β, shape <c>(features)</c>, registered as <c>shift</c>; initialised to 0.</summary>
    public Parameter Shift { get; }

    /// <summary>Gets the running mean used in inference mode (initially 0).</summary>
    public ReadOnlySpan<float> RunningMean => _runningMean.Span;

    /// <summary>Gets the running (unbiased) variance used in inference mode (initially 1).</summary>
    public ReadOnlySpan<float> RunningVariance => _runningVariance.Span;

    /// <summary>
    /// Gets the running-mean buffer itself, shape <c>(features)</c>, for saving and restoring checkpoints
    /// (write into its <see cref="Tensor.Span"/> to restore). It is not a parameter and has no gradient.
    /// </summary>
    public Tensor RunningMeanTensor => _runningMean;

    /// <summary>
    /// Gets the running-variance buffer itself, shape <c>(features)</c>, for saving and restoring checkpoints.
    /// Restored values should be non-negative.
    /// </summary>
    public Tensor RunningVarianceTensor => _runningVariance;

    /// <summary>
    /// Normalises each feature with the batch statistics (training, also updating the running statistics) or
    /// the running statistics (inference), then applies γ and β.
    /// </summary>
    /// <param name="input">Shape <c>(N, features)</c>, N ≥ 2 in training; kept by reference until backward.</param>
    /// <returns>Shape <c>(N, features)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="input"/> is not rank 2 with <see cref="Features"/> columns, or has fewer than 2 rows in
    /// training mode (the batch variance of one row is meaningless). Nothing is changed when this is thrown.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 2 || input.Shape[1] != Features)
        {
            CoreLayerChecks.ThrowArgument(nameof(input),
                $"BatchNorm1d expects 'input' of shape (N, {Features}) but got {input}.");
        }

        int n = input.Shape[0];
        bool training = Training;
        if (training && n < 2)
        {
            CoreLayerChecks.ThrowArgument(nameof(input),
                $"BatchNorm1d in training mode needs at least 2 rows to estimate batch statistics, but 'input' has {n} ({input}).");
        }

        int f = Features;
        if (training)
        {
            // Batch statistics: μ and the biased σ² (the normalisation PyTorch and the paper use in training).
            Kernels.MeanVarianceColumns(input.Span, n, f, _mean, _variance);
            UpdateRunningStatistics(n);
        }
        else
        {
            _runningMean.Span.CopyTo(_mean);
            _runningVariance.Span.CopyTo(_variance);
        }

        // 1/√(σ² + ε), once per feature rather than once per element.
        TensorPrimitives.Add(_variance, Epsilon, _inverseStd);
        TensorPrimitives.ReciprocalSqrt(_inverseStd, _inverseStd);

        // x̂ = (x − μ)·invStd is cached for backward; y = γ·x̂ + β.
        Tensor normalized = _normalized.Get(n, f);
        Tensor output = _output.Get(n, f);
        ReadOnlySpan<float> gamma = Scale.Value.Span;
        ReadOnlySpan<float> beta = Shift.Value.Span;
        for (int r = 0; r < n; r++)
        {
            Span<float> xhat = normalized.Row(r);
            Kernels.Subtract(input.Row(r), _mean, xhat);
            Kernels.Multiply(xhat, _inverseStd, xhat);
            TensorPrimitives.MultiplyAdd(xhat, gamma, beta, output.Row(r));
        }

        _input = input;
        _lastOutput = output;
        _lastWasTraining = training;
        return output;
    }

    /// <summary>
    /// Accumulates <c>dγ += Σ_rows dY ⊙ x̂</c> and <c>dβ += Σ_rows dY</c>, and returns the input gradient: in
    /// training mode through the batch statistics,
    /// <c>dX = γ·invStd/N · (N·dY − Σ dY − x̂ · Σ(dY ⊙ x̂))</c>; in inference mode <c>dX = γ·invStd·dY</c>.
    /// </summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        Tensor input = _input ?? throw CoreLayerChecks.NoForward(nameof(BatchNorm1d));
        CoreLayerChecks.RequireSameShape(gradOutput, _lastOutput!, nameof(BatchNorm1d));

        int n = input.Shape[0];
        int f = Features;
        Tensor normalized = _normalized.Get(n, f);
        Tensor product = _product.Get(n, f);
        Tensor gradInput = _gradInput.Get(n, f);
        ReadOnlySpan<float> dy = gradOutput.Span;

        // Column sums Σ dY and Σ dY ⊙ x̂: they are dβ and dγ, and (times γ) the two batch-statistics terms.
        Kernels.SumColumns(dy, n, f, _sumGrad);
        Kernels.Multiply(dy, normalized.Span, product.Span);
        Kernels.SumColumns(product.Span, n, f, _sumGradNormalized);
        Kernels.Add(Shift.Gradient.Span, _sumGrad, Shift.Gradient.Span);
        Kernels.Add(Scale.Gradient.Span, _sumGradNormalized, Scale.Gradient.Span);

        ReadOnlySpan<float> gamma = Scale.Value.Span;
        if (!_lastWasTraining)
        {
            // Inference: μ and σ² are constants, so the layer is x ↦ γ·invStd·x + const.
            for (int r = 0; r < n; r++)
            {
                Span<float> dx = gradInput.Row(r);
                Kernels.Multiply(gradOutput.Row(r), gamma, dx);
                Kernels.Multiply(dx, _inverseStd, dx);
            }

            return gradInput;
        }

        // Training: with dx̂ = γ·dY, dX = invStd/N · (N·dx̂ − Σdx̂ − x̂·Σ(dx̂ ⊙ x̂)). The two sums are the
        // gradients flowing through μ and σ²; γ is per feature, so it factors out of both sums.
        Span<float> coefficient = _coefficient;
        Kernels.Multiply(gamma, _inverseStd, coefficient);
        Kernels.Scale(coefficient, 1f / n, coefficient);
        for (int r = 0; r < n; r++)
        {
            Span<float> dx = gradInput.Row(r);
            // dx = Σ dY + x̂ ⊙ Σ(dY ⊙ x̂)
            TensorPrimitives.MultiplyAdd(normalized.Row(r), _sumGradNormalized, _sumGrad, dx);
            // dx = N·dY − dx
            TensorPrimitives.Negate(dx, dx);
            TensorPrimitives.MultiplyAdd(gradOutput.Row(r), (float)n, dx, dx);
            Kernels.Multiply(dx, coefficient, dx);
        }

        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/> with <see cref="Module.Training"/> = false:
    /// <c>y = γ · (x − running mean) · 1/√(running variance + ε) + β</c>, into the caller's buffers; the running
    /// statistics are read, never updated. Bit-identical to that forward pass (the same kernels in the same order).
    /// </summary>
    /// <param name="input">x: (rows, features).</param>
    /// <param name="scale">γ: (features).</param>
    /// <param name="shift">β: (features).</param>
    /// <param name="runningMean">The running mean: (features).</param>
    /// <param name="runningVariance">The running variance: (features).</param>
    /// <param name="epsilon">The layer's ε.</param>
    /// <param name="rows">N.</param>
    /// <param name="features">F.</param>
    /// <param name="inverseStd">Scratch of at least <paramref name="features"/> floats.</param>
    /// <param name="destination">Receives y: (rows, features); must not overlap <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, float epsilon, int rows, int features,
        Span<float> inverseStd, Span<float> destination)
    {
        Span<float> invStd = inverseStd[..features];
        // 1/√(σ² + ε) once per feature, as the forward pass does.
        TensorPrimitives.Add(runningVariance, epsilon, invStd);
        TensorPrimitives.ReciprocalSqrt(invStd, invStd);
        for (int r = 0; r < rows; r++)
        {
            // x̂ = (x − μ)·invStd is built in the output row, then y = γ·x̂ + β in place.
            Span<float> y = destination.Slice(r * features, features);
            Kernels.Subtract(input.Slice(r * features, features), runningMean, y);
            Kernels.Multiply(y, invStd, y);
            TensorPrimitives.MultiplyAdd(y, scale, shift, y);
        }
    }

    private void UpdateRunningStatistics(int n)
    {
        float keep = 1f - Momentum;
        // Unbiased variance for the running estimate (Bessel's correction), matching PyTorch.
        float bessel = n / (float)(n - 1);
        Span<float> runningMean = _runningMean.Span;
        Span<float> runningVariance = _runningVariance.Span;
        for (int c = 0; c < Features; c++)
        {
            runningMean[c] = keep * runningMean[c] + Momentum * _mean[c];
            runningVariance[c] = keep * runningVariance[c] + Momentum * bessel * _variance[c];
        }
    }
}

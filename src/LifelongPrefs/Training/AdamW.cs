namespace LifelongPrefs.Training;

/// <summary>
/// AdamW: Adam with <b>decoupled</b> weight decay (Loshchilov &amp; Hutter, 2019), as PyTorch's
/// <c>torch.optim.AdamW</c>.
/// </summary>
/// <remarks>
/// <para>
/// Per element: first <c>w = w·(1 − lr·weightDecay)</c>, then the Adam step of <see cref="Adam"/> with the raw
/// gradient (no L2 term): <c>m = β₁m + (1−β₁)∇; v = β₂v + (1−β₂)∇²; w = w − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)</c>.
/// Because the decay bypasses the adaptive denominator, every weight shrinks by the same factor, unlike Adam
/// with L2 where weights with large gradient history are barely regularised.
/// </para>
/// <para>
/// In lazy mode the decay, like the rest of the update, is applied only to touched rows of sparse-row
/// parameters (an untouched embedding row does not shrink). Bias correction uses the global step count (see
/// <see cref="Adam"/>). State slot 0 is the first moment, slot 1 the second.
/// </para>
/// </remarks>
public sealed class AdamW : Optimizer
{
    private float _stepSize;
    private float _inverseSqrtBiasCorrection2;
    private float _decayFactor;

    /// <summary>Creates an AdamW optimizer over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update; no nulls or duplicates.</param>
    /// <param name="learningRate">The learning rate; finite and non-negative (default 1e-3).</param>
    /// <param name="beta1">β₁, the first-moment decay, in [0, 1) (default 0.9).</param>
    /// <param name="beta2">β₂, the second-moment decay, in [0, 1) (default 0.999).</param>
    /// <param name="epsilon">ε, added to the denominator; finite and positive (default 1e-8).</param>
    /// <param name="weightDecay">The decoupled decay coefficient; finite and non-negative (default 0.01).</param>
    /// <param name="lazy">Whether sparse-row parameters are updated only on their touched rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> holds a null or a duplicate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range, NaN or infinite.</exception>
    public AdamW(IReadOnlyList<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0.01f, bool lazy = false)
        : base(parameters, Adam.ValidateAdam(learningRate, beta1, beta2, epsilon, weightDecay), 2, 0f, lazy)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Gets β₁, the decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Gets β₂, the decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Gets ε, the denominator's stabiliser.</summary>
    public float Epsilon { get; }

    /// <summary>Gets the decoupled weight-decay coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    private protected override void BeginStep(float learningRate, long t)
    {
        (_stepSize, _inverseSqrtBiasCorrection2) = Adam.BiasCorrectedScales(learningRate, Beta1, Beta2, t);
        _decayFactor = 1f - (learningRate * WeightDecay);
    }

    /// <inheritdoc/>
    private protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second) =>
        OptimizerMath.Adam(value, gradient, first, second, Beta1, Beta2, Epsilon, _stepSize, _inverseSqrtBiasCorrection2, 0f, _decayFactor);
}

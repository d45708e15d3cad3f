namespace LifelongPrefs.Training;

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) with bias correction and optional coupled L2 weight decay, as PyTorch's
/// <c>torch.optim.Adam</c>; with <c>lazy: true</c> it is the "lazy Adam" for embedding tables.
/// </summary>
/// <remarks>
/// <para>
/// Per element, with gradient ∇, weight w, first moment m (state slot 0) and second moment v (slot 1), both
/// starting at zero, and t = the 1-based step number:
/// <c>g = ∇ + weightDecay·w; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
/// w = w − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)</c>.
/// The weight decay is coupled: it passes through the adaptive scaling, which is what <see cref="AdamW"/> changes.
/// </para>
/// <para>
/// <b>Lazy mode</b> updates a sparse-row parameter only on its touched rows; the moments of untouched rows are
/// neither decayed nor applied. Bias correction uses the optimizer's global step count t, not a per-row count, as
/// TensorFlow Addons' <c>LazyAdam</c> does: a row seen for the first time at a late step therefore takes a
/// smaller first step than under a per-row count (its m and v are corrected by nearly 1), which is the accepted
/// behaviour of lazy Adam and keeps the state to two buffers.
/// </para>
/// </remarks>
public sealed class Adam : Optimizer
{
    private float _stepSize;
    private float _inverseSqrtBiasCorrection2;

    /// <summary>Creates an Adam optimizer over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update; no nulls or duplicates.</param>
    /// <param name="learningRate">The learning rate; finite and non-negative (default 1e-3).</param>
    /// <param name="beta1">β₁, the first-moment decay, in [0, 1) (default 0.9).</param>
    /// <param name="beta2">β₂, the second-moment decay, in [0, 1) (default 0.999).</param>
    /// <param name="epsilon">ε, added to the denominator; finite and positive (default 1e-8). Zero is refused
    /// because an element whose gradient has always been zero would then update by 0/0 = NaN.</param>
    /// <param name="weightDecay">Coupled L2 coefficient added as <c>weightDecay·w</c> to the gradient; finite and non-negative (default 0).</param>
    /// <param name="lazy">Whether sparse-row parameters are updated only on their touched rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> holds a null or a duplicate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range, NaN or infinite.</exception>
    public Adam(IReadOnlyList<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, bool lazy = false)
        : base(parameters, ValidateAdam(learningRate, beta1, beta2, epsilon, weightDecay), 2, 0f, lazy)
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

    /// <summary>Gets the coupled weight-decay (L2) coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    private protected override void BeginStep(float learningRate, long t) =>
        (_stepSize, _inverseSqrtBiasCorrection2) = BiasCorrectedScales(learningRate, Beta1, Beta2, t);

    /// <inheritdoc/>
    private protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second) =>
        OptimizerMath.Adam(value, gradient, first, second, Beta1, Beta2, Epsilon, _stepSize, _inverseSqrtBiasCorrection2, WeightDecay, 1f);

    /// <summary>Computes lr/(1−β₁ᵗ) and 1/√(1−β₂ᵗ) in double (β₂ᵗ is close to 1 for small t, where float would lose digits).</summary>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="t">The 1-based step number.</param>
    /// <returns>The step size and the inverse square-root of the second bias correction.</returns>
    internal static (float StepSize, float InverseSqrtBiasCorrection2) BiasCorrectedScales(float learningRate, float beta1, float beta2, long t)
    {
        double biasCorrection1 = 1.0 - Math.Pow(beta1, t);
        double biasCorrection2 = 1.0 - Math.Pow(beta2, t);
        return ((float)(learningRate / biasCorrection1), (float)(1.0 / Math.Sqrt(biasCorrection2)));
    }

    /// <summary>Validates Adam's hyper-parameters and returns the learning rate.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">The weight-decay coefficient.</param>
    /// <returns><paramref name="learningRate"/>.</returns>
    internal static float ValidateAdam(float learningRate, float beta1, float beta2, float epsilon, float weightDecay)
    {
        ValidateLearningRate(learningRate, nameof(learningRate));
        RequireUnitInterval(beta1, nameof(beta1));
        RequireUnitInterval(beta2, nameof(beta2));
        RequireFinitePositive(epsilon, nameof(epsilon));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        return learningRate;
    }
}

namespace LifelongPrefs.Training;

/// <summary>
/// Adagrad (Duchi, Hazan &amp; Singer, 2011), diagonal form, as PyTorch's <c>torch.optim.Adagrad</c> without
/// learning-rate decay.
/// </summary>
/// <remarks>
/// Per element, with gradient ∇, weight w and accumulator s (state slot 0, starting at
/// <see cref="InitialAccumulator"/>): <c>g = ∇ + weightDecay·w; s = s + g²; w = w − lr·g / (√s + ε)</c>.
/// Rows added by <see cref="Parameter.GrowRows"/> also start their accumulator at
/// <see cref="InitialAccumulator"/>, like rows present from the start. In lazy mode untouched rows of
/// sparse-row parameters are not updated (for Adagrad only weight decay would have moved them).
/// </remarks>
public sealed class Adagrad : Optimizer
{
    private float _rate;

    /// <summary>Creates an Adagrad optimizer over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update; no nulls or duplicates.</param>
    /// <param name="learningRate">The learning rate; finite and non-negative (default 1e-2).</param>
    /// <param name="epsilon">ε, added to the denominator; finite and positive (default 1e-10). Zero is refused
    /// because an element with a zero accumulator and zero gradient would update by 0/0 = NaN.</param>
    /// <param name="initialAccumulator">The starting value of the squared-gradient sum; finite and non-negative (default 0).</param>
    /// <param name="weightDecay">Coupled L2 coefficient added as <c>weightDecay·w</c> to the gradient; finite and non-negative (default 0).</param>
    /// <param name="lazy">Whether sparse-row parameters are updated only on their touched rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> holds a null or a duplicate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range, NaN or infinite.</exception>
    public Adagrad(IReadOnlyList<Parameter> parameters, float learningRate = 1e-2f, float epsilon = 1e-10f,
        float initialAccumulator = 0f, float weightDecay = 0f, bool lazy = false)
        : base(parameters, Validate(learningRate, epsilon, initialAccumulator, weightDecay), 1, initialAccumulator, lazy)
    {
        Epsilon = epsilon;
        InitialAccumulator = initialAccumulator;
        WeightDecay = weightDecay;
    }

    /// <summary>Gets ε, the denominator's stabiliser.</summary>
    public float Epsilon { get; }

    /// <summary>Gets the starting value of every accumulator element.</summary>
    public float InitialAccumulator { get; }

    /// <summary>Gets the coupled weight-decay (L2) coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    private protected override void BeginStep(float learningRate, long t) => _rate = learningRate;

    /// <inheritdoc/>
    private protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second) =>
        OptimizerMath.Adagrad(value, gradient, first, _rate, Epsilon, WeightDecay);

    private static float Validate(float learningRate, float epsilon, float initialAccumulator, float weightDecay)
    {
        ValidateLearningRate(learningRate, nameof(learningRate));
        RequireFinitePositive(epsilon, nameof(epsilon));
        RequireFiniteNonNegative(initialAccumulator, nameof(initialAccumulator));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        return learningRate;
    }
}

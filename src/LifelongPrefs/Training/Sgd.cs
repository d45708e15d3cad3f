namespace LifelongPrefs.Training;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and coupled weight decay, with
/// PyTorch's <c>torch.optim.SGD</c> semantics (no dampening).
/// </summary>
/// <remarks>
/// Per element, with gradient ∇, weight w and momentum buffer b (state slot 0, starting at zero):
/// <c>g = ∇ + weightDecay·w</c>; if momentum μ &gt; 0, <c>b = μ·b + g</c> and <c>g = nesterov ? g + μ·b : b</c>;
/// then <c>w = w − lr·g</c>. With a zero buffer the first step's <c>b</c> equals <c>g</c>, as in PyTorch.
/// See <see cref="Optimizer"/> for the NaN guard, schedules, growth and lazy mode.
/// </remarks>
public sealed class Sgd : Optimizer
{
    private float _rate;

    /// <summary>Creates an SGD optimizer over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters to update; no nulls or duplicates.</param>
    /// <param name="learningRate">The learning rate; finite and non-negative.</param>
    /// <param name="momentum">μ, in [0, 1); 0 (the default) disables momentum and its state.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum (requires <paramref name="momentum"/> &gt; 0).</param>
    /// <param name="weightDecay">Coupled L2 coefficient added as <c>weightDecay·w</c> to the gradient; finite and non-negative.</param>
    /// <param name="lazy">Whether sparse-row parameters are updated only on their touched rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="parameters"/> holds a null or a duplicate, or <paramref name="nesterov"/> is set without momentum.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range, NaN or infinite.</exception>
    public Sgd(IReadOnlyList<Parameter> parameters, float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f, bool lazy = false)
        : base(parameters, Validate(learningRate, momentum, nesterov, weightDecay), momentum > 0f ? 1 : 0, 0f, lazy)
    {
        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary>Gets the momentum μ.</summary>
    /// <value>In [0, 1); 0 means plain SGD.</value>
    public float Momentum { get; }

    /// <summary>Gets a value indicating whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>Gets the coupled weight-decay (L2) coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    private protected override void BeginStep(float learningRate, long t) => _rate = learningRate;

    /// <inheritdoc/>
    private protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second) =>
        OptimizerMath.Sgd(value, gradient, first, _rate, Momentum, Nesterov, WeightDecay);

    // Validates everything before the base constructor allocates state, and passes the learning rate through.
    private static float Validate(float learningRate, float momentum, bool nesterov, float weightDecay)
    {
        ValidateLearningRate(learningRate, nameof(learningRate));
        RequireUnitInterval(momentum, nameof(momentum));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && momentum == 0f)
        {
            throw new ArgumentException("Nesterov momentum needs a positive 'momentum', but it was 0.", nameof(nesterov));
        }

        return learningRate;
    }
}

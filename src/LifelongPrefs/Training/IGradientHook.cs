namespace LifelongPrefs.Training;

/// <summary>
/// A term that joins every training step between the backward pass and the optimizer step: it reads the
/// parameters, adds its own gradient into theirs and returns its contribution to the loss.
/// </summary>
/// <remarks>
/// This is where explicit regularisers plug in (L2 today through <see cref="L2Penalty"/>; online EWC, distillation
/// and DP clipping later). Hooks run in the order of <see cref="EpochTrainer.Hooks"/>, after the model's own
/// backward pass, on the parameters of the optimizer that is about to step. A hook must allocate nothing per call,
/// and must not write NaN: a non-finite gradient makes the optimizer skip the step.
/// </remarks>
internal interface IGradientHook
{
    /// <summary>Adds this term's gradient into <paramref name="parameters"/>' gradients.</summary>
    /// <param name="parameters">The optimizer's parameters, in its order (<see cref="Optimizer.Parameters"/>).</param>
    /// <returns>The term's value, added to the step's reported loss.</returns>
    float Apply(IReadOnlyList<Parameter> parameters);
}

/// <summary>
/// The L2 penalty <c>(λ/2)·Σw²</c> on a chosen subset of the parameters, as a gradient hook (see
/// <see cref="Regularization.AddL2"/>: sparse tables are penalised on their touched rows only).
/// </summary>
internal sealed class L2Penalty : IGradientHook
{
    private readonly float _lambda;
    private readonly Func<Parameter, bool> _include;
    private IReadOnlyList<Parameter>? _source;
    private Parameter[] _selected = [];

    /// <summary>Creates the penalty.</summary>
    /// <param name="lambda">λ; finite and non-negative (0 makes the hook a no-op).</param>
    /// <param name="include">Which parameters are penalised (e.g. weights but not biases).</param>
    internal L2Penalty(float lambda, Func<Parameter, bool> include)
    {
        Optimizer.RequireFiniteNonNegative(lambda, nameof(lambda));
        _lambda = lambda;
        _include = include;
    }

    /// <inheritdoc/>
    public float Apply(IReadOnlyList<Parameter> parameters)
    {
        if (!ReferenceEquals(parameters, _source))
        {
            // Only when the model swapped its parameters (a load): the steady state selects nothing anew.
            _selected = [.. parameters.Where(_include)];
            _source = parameters;
        }

        return Regularization.AddL2(_selected, _lambda);
    }
}

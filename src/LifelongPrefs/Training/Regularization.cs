namespace LifelongPrefs.Training;

/// <summary>Explicit regularisation terms added to the loss and to the gradients.</summary>
/// <remarks>
/// For weight decay inside the optimizer see the <c>weightDecay</c> arguments of <see cref="Sgd"/>,
/// <see cref="Adam"/>, <see cref="Adagrad"/> (coupled L2) and <see cref="AdamW"/> (decoupled).
/// </remarks>
public static class Regularization
{
    /// <summary>
    /// Adds an L2 penalty: adds <c>λ·w</c> to every gradient element and returns the penalty
    /// <c>(λ/2)·Σw²</c> to add to the loss, so that the gradient contribution is exactly the derivative of the
    /// returned penalty. Call it once per step, after backward and before <see cref="Optimizer.Step"/>.
    /// </summary>
    /// <param name="parameters">The parameters to regularise (pass only the weights if biases should be exempt).</param>
    /// <param name="lambda">λ; finite and non-negative.</param>
    /// <returns>The penalty (λ/2)·Σw², summed in double.</returns>
    /// <remarks>
    /// For sparse-row parameters (embedding tables) only the touched rows are penalised, both in the gradient and
    /// in the returned penalty: the penalty then regularises the rows a batch uses, at O(rows touched) cost, and
    /// matches what a lazy optimizer would update anyway. The penalty is therefore not the full-table L2 norm.
    /// With λ = 0 nothing is changed and 0 is returned. Allocates nothing.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative, NaN or infinite.</exception>
    public static float AddL2(IReadOnlyList<Parameter> parameters, float lambda)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Optimizer.RequireFiniteNonNegative(lambda, nameof(lambda));
        for (int i = 0; i < parameters.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(parameters[i], nameof(parameters));
        }

        if (lambda == 0f)
        {
            return 0f;
        }

        double squares = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter parameter = parameters[i];
            ReadOnlySpan<float> value = parameter.Value.Span;
            Span<float> gradient = parameter.Gradient.Span;
            if (!parameter.HasSparseRows)
            {
                squares += GradientClipping.SumOfSquaresDouble(value);
                Kernels.Axpy(lambda, value, gradient);
                continue;
            }

            int width = parameter.Value.RowLength;
            ReadOnlySpan<int> rows = parameter.TouchedRows;
            for (int k = 0; k < rows.Length; k++)
            {
                int start = rows[k] * width;
                squares += GradientClipping.SumOfSquaresDouble(value.Slice(start, width));
                Kernels.Axpy(lambda, value.Slice(start, width), gradient.Slice(start, width));
            }
        }

        return (float)(0.5 * lambda * squares);
    }
}

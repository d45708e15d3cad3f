using System.Numerics.Tensors;

namespace LifelongPrefs.Training;

/// <summary>Gradient clipping over a set of parameters.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Computes the global L2 norm of all gradients and, when it exceeds <paramref name="maxNorm"/>, scales every
    /// gradient by <c>maxNorm / norm</c> so that the global norm becomes <paramref name="maxNorm"/> (Pascanu et
    /// al., 2013; PyTorch's <c>clip_grad_norm_</c>). Call it after backward and before <see cref="Optimizer.Step"/>.
    /// </summary>
    /// <param name="parameters">The parameters whose gradients are clipped together.</param>
    /// <param name="maxNorm">The largest allowed global norm; finite and positive.</param>
    /// <returns>The global norm before clipping (useful to log).</returns>
    /// <remarks>
    /// For sparse-row parameters only the touched rows enter the norm and are scaled (the others are zero by the
    /// parameter's contract), so clipping costs O(rows touched) for an embedding table. Squares are summed in
    /// double. If the norm is NaN or infinite the gradients are left unchanged and the non-finite norm is
    /// returned: scaling by it would turn every gradient into NaN, whereas leaving them lets the optimizer's
    /// NaN/Inf guard report the offending parameter and skip the step. Allocates nothing.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    public static float ClipByGlobalNorm(IReadOnlyList<Parameter> parameters, float maxNorm)
    {
        Optimizer.RequireFinitePositive(maxNorm, nameof(maxNorm));
        double norm = Math.Sqrt(SumOfSquares(parameters));
        if (double.IsFinite(norm) && norm > maxNorm)
        {
            float scale = (float)(maxNorm / norm);
            for (int i = 0; i < parameters.Count; i++)
            {
                Parameter parameter = parameters[i];
                Span<float> gradient = parameter.Gradient.Span;
                if (!parameter.HasSparseRows)
                {
                    Kernels.Scale(gradient, scale, gradient);
                    continue;
                }

                int width = parameter.Value.RowLength;
                ReadOnlySpan<int> rows = parameter.TouchedRows;
                for (int k = 0; k < rows.Length; k++)
                {
                    Span<float> row = gradient.Slice(rows[k] * width, width);
                    Kernels.Scale(row, scale, row);
                }
            }
        }

        return (float)norm;
    }

    /// <summary>
    /// Computes the global L2 norm of the gradients of <paramref name="parameters"/> (touched rows only for
    /// sparse-row parameters) without changing them.
    /// </summary>
    /// <param name="parameters">The parameters.</param>
    /// <returns>√(Σ g²), accumulated in double; NaN or infinity if a gradient is.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or one of its entries is null.</exception>
    public static float GlobalNorm(IReadOnlyList<Parameter> parameters) => (float)Math.Sqrt(SumOfSquares(parameters));

    private static double SumOfSquares(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter parameter = parameters[i];
            ArgumentNullException.ThrowIfNull(parameter, nameof(parameters));
            ReadOnlySpan<float> gradient = parameter.Gradient.Span;
            if (!parameter.HasSparseRows)
            {
                sum += SumOfSquaresDouble(gradient);
                continue;
            }

            int width = parameter.Value.RowLength;
            ReadOnlySpan<int> rows = parameter.TouchedRows;
            for (int k = 0; k < rows.Length; k++)
            {
                sum += SumOfSquaresDouble(gradient.Slice(rows[k] * width, width));
            }
        }

        return sum;
    }

    /// <summary>
    /// Σx² of a span, summed in float over blocks of 4096 (vectorised by <see cref="TensorPrimitives"/>) and across
    /// blocks in double, so a million-element gradient keeps about float precision overall.
    /// </summary>
    internal static double SumOfSquaresDouble(ReadOnlySpan<float> x)
    {
        const int Block = 4096;
        double sum = 0;
        for (int start = 0; start < x.Length; start += Block)
        {
            sum += TensorPrimitives.SumOfSquares(x.Slice(start, Math.Min(Block, x.Length - start)));
        }

        return sum;
    }
}

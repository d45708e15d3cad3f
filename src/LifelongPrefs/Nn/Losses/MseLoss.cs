namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Mean squared error <c>l_i = (p_i − t_i)²</c>, one prediction per example, reduced to the weighted mean
/// <c>Σ w_i m_i l_i / Σ w_i m_i</c>. No ½ factor: the gradient element is <c>2 w_i m_i (p_i − t_i) / Σ w m</c>
/// (with all weights 1 that is <c>2(p − t)/count</c>, as in PyTorch's <c>MSELoss</c>).
/// </summary>
/// <remarks>
/// Stateless; the start of a backward pass. An example with <c>w_i m_i = 0</c> is not read and gets exactly 0
/// gradient; when Σ w m = 0 the loss is 0 and the gradient all 0. A counted NaN or infinite prediction or
/// target makes the loss (and its own gradient element) NaN or infinite; nothing is clamped.
/// </remarks>
public static class MseLoss
{
    /// <summary>Computes the weighted mean squared error of <paramref name="predictions"/> against <paramref name="targets"/> and its gradient.</summary>
    /// <param name="predictions">One prediction p_i per example (N).</param>
    /// <param name="targets">One target t_i per example (N).</param>
    /// <param name="weights">Per-example weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-example 0/1 mask (N), or empty for all 1; 0 drops the example (padding).</param>
    /// <param name="gradient">
    /// Overwritten with d(loss)/d(predictions) (N). It may be the same span as <paramref name="predictions"/>
    /// (in place); any other overlap with an input is rejected.
    /// </param>
    /// <returns>The weighted mean squared error, or 0 when Σ w_i m_i = 0.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="targets"/> or <paramref name="gradient"/> does not hold exactly N elements,
    /// <paramref name="weights"/> or <paramref name="mask"/> is neither empty nor of length N, or
    /// <paramref name="gradient"/> overlaps an input other than being exactly <paramref name="predictions"/>.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A weight is negative, NaN or infinite, or a mask value is not 0 or 1 (the message names the position and
    /// value). Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradient)
    {
        int n = predictions.Length;
        LossGuard.Length(targets, n, nameof(targets));
        LossGuard.GradientLength(gradient, n, nameof(gradient));
        LossGuard.WeightsAndMask(weights, mask, n);
        LossGuard.Aliasing(predictions, gradient, allowSame: true, nameof(predictions), nameof(gradient));
        LossGuard.Aliasing(targets, gradient, allowSame: false, nameof(targets), nameof(gradient));
        LossGuard.Aliasing(weights, gradient, allowSame: false, nameof(weights), nameof(gradient));
        LossGuard.Aliasing(mask, gradient, allowSame: false, nameof(mask), nameof(gradient));

        double denominator = LossGuard.Denominator(weights, mask, n);
        if (denominator == 0)
        {
            gradient.Clear();
            return 0f;
        }

        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            float w = LossGuard.Weight(weights, mask, i);
            if (w == 0f)
            {
                gradient[i] = 0f;
                continue;
            }

            // Difference in double: p and t may be large and close, and (p − t)² must not lose it.
            double d = (double)predictions[i] - targets[i];
            double share = w / denominator;
            loss += share * d * d;
            gradient[i] = (float)(2.0 * share * d);
        }

        return (float)loss;
    }
}

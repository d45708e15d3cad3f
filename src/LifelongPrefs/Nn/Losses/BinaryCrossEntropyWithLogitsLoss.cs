namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Binary cross-entropy on logits: <c>l_i = −y_i·log σ(x_i) − (1 − y_i)·log(1 − σ(x_i))</c>, one logit per
/// example, reduced to the weighted mean <c>Σ w_i m_i l_i / Σ w_i m_i</c>.
/// </summary>
/// <remarks>
/// <para>
/// Stateless; the start of a backward pass: <see cref="Compute"/> returns the loss and overwrites a gradient
/// buffer with d(loss)/d(logits), which the caller feeds to the layer below. The loss is evaluated in the
/// stable form <c>max(x, 0) − x·y + log(1 + e^−|x|)</c>, which never exponentiates a positive number, so
/// logits of magnitude 1e4 give finite, exact losses; its gradient is <c>σ(x) − y</c>.
/// </para>
/// <para>
/// Reduction: weights <c>w_i</c> (empty = all 1) and a 0/1 mask <c>m_i</c> (empty = all 1, 0 marks a padded
/// position). The loss is <c>Σ w_i m_i l_i / Σ w_i m_i</c> and the gradient element
/// <c>w_i m_i (σ(x_i) − y_i) / Σ w_i m_i</c>; when the denominator is 0 the loss is 0 and the gradient all 0.
/// An example with <c>w_i m_i = 0</c> is not read: its gradient is exactly 0 even if its logit or target is
/// NaN. A counted NaN logit makes the loss and its own gradient element NaN.
/// </para>
/// </remarks>
public static class BinaryCrossEntropyWithLogitsLoss
{
    /// <summary>Computes the weighted mean binary cross-entropy of <paramref name="logits"/> against <paramref name="targets"/> and its gradient.</summary>
    /// <param name="logits">One logit x_i per example (N).</param>
    /// <param name="targets">One target probability y_i ∈ [0, 1] per example (N); soft labels are allowed.</param>
    /// <param name="weights">Per-example weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-example 0/1 mask (N), or empty for all 1; 0 drops the example (padding).</param>
    /// <param name="gradient">
    /// Overwritten with d(loss)/d(logits) (N). It may be the same span as <paramref name="logits"/> (in place);
    /// any other overlap with an input is rejected.
    /// </param>
    /// <returns>The weighted mean loss, or 0 when Σ w_i m_i = 0.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="targets"/> or <paramref name="gradient"/> does not hold exactly N elements,
    /// <paramref name="weights"/> or <paramref name="mask"/> is neither empty nor of length N, or
    /// <paramref name="gradient"/> overlaps an input other than being exactly <paramref name="logits"/>.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A weight is negative, NaN or infinite; a mask value is not 0 or 1; or the target of a counted example
    /// (w_i m_i ≠ 0) is outside [0, 1] or NaN. The message names the position and value. Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradient)
    {
        int n = logits.Length;
        LossGuard.Length(targets, n, nameof(targets));
        LossGuard.GradientLength(gradient, n, nameof(gradient));
        LossGuard.WeightsAndMask(weights, mask, n);
        LossGuard.Aliasing(logits, gradient, allowSame: true, nameof(logits), nameof(gradient));
        LossGuard.Aliasing(targets, gradient, allowSame: false, nameof(targets), nameof(gradient));
        LossGuard.Aliasing(weights, gradient, allowSame: false, nameof(weights), nameof(gradient));
        LossGuard.Aliasing(mask, gradient, allowSame: false, nameof(mask), nameof(gradient));
        for (int i = 0; i < n; i++)
        {
            float y = targets[i];
            // Only counted targets are checked: padded positions may hold anything, they are never read.
            if (LossGuard.Weight(weights, mask, i) != 0f && !(y >= 0f && y <= 1f))
            {
                LossGuard.ThrowOutOfRange(nameof(targets), y, $"targets[{i}] = {y} must lie in [0, 1].");
            }
        }

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

            double x = logits[i], y = targets[i];
            double share = w / denominator;
            // e^−|x| never overflows; it gives log(1 + e^−|x|) and both σ(|x|) and σ(−|x|) without cancellation.
            double e = Math.Exp(-Math.Abs(x));
            double near = 1.0 / (1.0 + e), far = e * near;
            double sigmaX = x >= 0 ? near : far, sigmaMinusX = x >= 0 ? far : near;
            loss += share * (Math.Max(x, 0.0) - (x * y) + LossMath.Log1PSmall(e));
            // σ(x) − y written as (1 − y)·σ(x) − y·σ(−x): for a confident right answer (x = 50, y = 1) the
            // plain difference rounds to 0, this keeps the tiny −e^−50.
            gradient[i] = (float)(share * (((1.0 - y) * sigmaX) - (y * sigmaMinusX)));
        }

        return (float)loss;
    }
}

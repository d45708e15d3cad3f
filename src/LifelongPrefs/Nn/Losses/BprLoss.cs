namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Bayesian personalised ranking loss (Rendle et al., 2009, "BPR: Bayesian Personalized Ranking from Implicit
/// Feedback"): <c>l_i = −log σ(s⁺_i − s⁻_i)</c> for a positive score and a sampled negative score per example,
/// reduced to the weighted mean <c>Σ w_i m_i l_i / Σ w_i m_i</c>.
/// </summary>
/// <remarks>
/// <para>
/// Stateless; the start of a backward pass. <c>−log σ(d) = softplus(−d)</c> is evaluated as
/// <c>max(−d, 0) + log(1 + e^−|d|)</c>, so score differences of 1e4 neither overflow nor lose the tiny loss of
/// a well-ranked pair. Gradients: <c>∂l/∂s⁺ = −σ(s⁻ − s⁺)</c> and <c>∂l/∂s⁻ = +σ(s⁻ − s⁺)</c>, each times the
/// reduction factor <c>w_i m_i / Σ w m</c>.
/// </para>
/// <para>
/// The L2 regularisation term of the paper is not part of this loss (the regularisers add it). Weights, mask,
/// zero denominator and NaN behave as documented on <see cref="BinaryCrossEntropyWithLogitsLoss"/>: an example
/// with <c>w_i m_i = 0</c> is not read and gets exactly 0 gradient.
/// </para>
/// </remarks>
public static class BprLoss
{
    /// <summary>Computes the weighted mean BPR loss of the pairs (<paramref name="positiveScores"/>[i], <paramref name="negativeScores"/>[i]) and its gradients.</summary>
    /// <param name="positiveScores">The score s⁺_i of each example's observed item (N).</param>
    /// <param name="negativeScores">The score s⁻_i of each example's sampled negative item (N).</param>
    /// <param name="weights">Per-example weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-example 0/1 mask (N), or empty for all 1; 0 drops the example (padding).</param>
    /// <param name="gradPositive">
    /// Overwritten with d(loss)/d(positiveScores) (N); may be exactly <paramref name="positiveScores"/> (in place).
    /// </param>
    /// <param name="gradNegative">
    /// Overwritten with d(loss)/d(negativeScores) (N); may be exactly <paramref name="negativeScores"/> (in place).
    /// </param>
    /// <returns>The weighted mean loss, or 0 when Σ w_i m_i = 0.</returns>
    /// <exception cref="ArgumentException">
    /// A score or gradient span does not hold exactly N elements; <paramref name="weights"/> or
    /// <paramref name="mask"/> is neither empty nor of length N; the two gradient buffers overlap each other, or
    /// one overlaps an input other than being exactly its own scores.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A weight is negative, NaN or infinite, or a mask value is not 0 or 1 (the message names the position and
    /// value). Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> positiveScores, ReadOnlySpan<float> negativeScores,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradPositive, Span<float> gradNegative)
    {
        int n = positiveScores.Length;
        LossGuard.Length(negativeScores, n, nameof(negativeScores));
        LossGuard.GradientLength(gradPositive, n, nameof(gradPositive));
        LossGuard.GradientLength(gradNegative, n, nameof(gradNegative));
        LossGuard.WeightsAndMask(weights, mask, n);
        LossGuard.Aliasing(gradPositive, gradNegative, allowSame: false, nameof(gradPositive), nameof(gradNegative));
        LossGuard.Aliasing(positiveScores, gradPositive, allowSame: true, nameof(positiveScores), nameof(gradPositive));
        LossGuard.Aliasing(negativeScores, gradNegative, allowSame: true, nameof(negativeScores), nameof(gradNegative));
        LossGuard.Aliasing(negativeScores, gradPositive, allowSame: false, nameof(negativeScores), nameof(gradPositive));
        LossGuard.Aliasing(positiveScores, gradNegative, allowSame: false, nameof(positiveScores), nameof(gradNegative));
        LossGuard.Aliasing(weights, gradPositive, allowSame: false, nameof(weights), nameof(gradPositive));
        LossGuard.Aliasing(weights, gradNegative, allowSame: false, nameof(weights), nameof(gradNegative));
        LossGuard.Aliasing(mask, gradPositive, allowSame: false, nameof(mask), nameof(gradPositive));
        LossGuard.Aliasing(mask, gradNegative, allowSame: false, nameof(mask), nameof(gradNegative));

        double denominator = LossGuard.Denominator(weights, mask, n);
        if (denominator == 0)
        {
            gradPositive.Clear();
            gradNegative.Clear();
            return 0f;
        }

        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            float w = LossGuard.Weight(weights, mask, i);
            if (w == 0f)
            {
                gradPositive[i] = 0f;
                gradNegative[i] = 0f;
                continue;
            }

            // z = s⁻ − s⁺: l = −log σ(−z) = softplus(z), dl/dz = σ(z).
            double z = (double)negativeScores[i] - positiveScores[i];
            double share = w / denominator;
            loss += share * LossMath.Softplus(z);
            double g = share * LossMath.Sigmoid(z);
            gradPositive[i] = (float)-g;
            gradNegative[i] = (float)g;
        }

        return (float)loss;
    }
}

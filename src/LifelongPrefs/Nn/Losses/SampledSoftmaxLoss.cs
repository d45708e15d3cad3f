using System.Numerics.Tensors;

namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Sampled softmax for large item catalogs: per example, a softmax over the candidate set
/// [positive, S sampled negatives] with the positive (position 0) as the target, with the logQ correction for
/// non-uniform samplers and optional removal of accidental hits.
/// </summary>
/// <remarks>
/// <para>
/// For example i with positive logit <c>s⁺</c> and negative logits <c>s⁻_j</c>, the corrected logits are
/// <c>o_0 = s⁺ − log Q(pos)</c> and <c>o_j = s⁻_j − log Q(neg_j)</c>, and
/// <c>l_i = logsumexp(o) − o_0</c>. Subtracting log Q, the log-probability with which the sampler proposes each
/// candidate, makes the sampled softmax a consistent estimate of the full softmax (Jean et al., 2015, "On Using
/// Very Large Target Vocabulary for Neural Machine Translation"; Yi et al., 2019, "Sampling-Bias-Corrected
/// Neural Modeling for Large Corpus Item Recommendations"). Both papers correct the target as well as the
/// samples; pass both <c>positiveLogQ</c> and <c>negativeLogQ</c> for that. With a uniform sampler the
/// correction is a constant and can be left out (empty spans mean log Q = 0).
/// </para>
/// <para>
/// Gradients (the log Q terms are constants): <c>∂l/∂s⁺ = p_0 − 1</c>, <c>∂l/∂s⁻_j = p_j</c> with
/// <c>p = softmax(o)</c>, each times the reduction factor <c>w_i m_i / Σ w m</c>. The softmax is stabilised by
/// the row maximum, so logits of magnitude 1e4 give finite results.
/// </para>
/// <para>
/// Accidental hits: a sampled negative can be the positive item itself, which would push the model away from
/// the right answer. The overload taking item ids removes such negatives (as TensorFlow's
/// <c>remove_accidental_hits</c>): their corrected logit becomes −∞, so they get probability 0 and a gradient of
/// exactly 0.
/// </para>
/// <para>
/// Reduction, weights (empty = all 1), mask (empty = all 1) and the rule that an example with
/// <c>w_i m_i = 0</c> is not read and gets exactly 0 gradient are as on
/// <see cref="BinaryCrossEntropyWithLogitsLoss"/>. A counted example with a NaN or +∞ corrected logit gives a
/// NaN loss and NaN gradients for that example. The log Q values are not validated (they are read on the hot
/// path); pass finite values.
/// </para>
/// </remarks>
public static class SampledSoftmaxLoss
{
    /// <summary>Computes the weighted mean sampled-softmax loss and its gradients, without accidental-hit removal.</summary>
    /// <param name="positiveLogits">The positive item's logit per example (N).</param>
    /// <param name="negativeLogits">The sampled negatives' logits, (N,S) row-major.</param>
    /// <param name="negatives">The number of negatives per example S.</param>
    /// <param name="positiveLogQ">log Q of each example's positive item (N), or empty for 0.</param>
    /// <param name="negativeLogQ">
    /// log Q of each negative: (N,S) per example, or (S) when all examples share the same negatives (in-batch
    /// or shared sampling), or empty for 0. When N = 1 the two layouts coincide.
    /// </param>
    /// <param name="weights">Per-example weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-example 0/1 mask (N), or empty for all 1; 0 drops the example (padding).</param>
    /// <param name="gradPositive">Overwritten with d(loss)/d(positiveLogits) (N); may be exactly <paramref name="positiveLogits"/>.</param>
    /// <param name="gradNegative">Overwritten with d(loss)/d(negativeLogits) (N,S); may be exactly <paramref name="negativeLogits"/>.</param>
    /// <returns>The weighted mean loss, or 0 when Σ w_i m_i = 0.</returns>
    /// <exception cref="ArgumentException">
    /// A span has the wrong length (<paramref name="negativeLogits"/> and <paramref name="gradNegative"/> must
    /// hold N×S, <paramref name="gradPositive"/> N, the optional spans their documented lengths or none), or a
    /// gradient buffer overlaps the other one or an input other than its own logits.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="negatives"/> is negative, a weight is negative, NaN or infinite, or a mask value is not 0
    /// or 1 (the message names the position and value). Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> positiveLogits, ReadOnlySpan<float> negativeLogits, int negatives,
        ReadOnlySpan<float> positiveLogQ, ReadOnlySpan<float> negativeLogQ,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradPositive, Span<float> gradNegative) =>
        Compute(positiveLogits, negativeLogits, negatives, positiveLogQ, negativeLogQ, [], [],
            weights, mask, gradPositive, gradNegative);

    /// <summary>
    /// Computes the weighted mean sampled-softmax loss and its gradients, removing accidental hits: a negative
    /// whose id equals the example's positive id is excluded from the softmax.
    /// </summary>
    /// <param name="positiveLogits">The positive item's logit per example (N).</param>
    /// <param name="negativeLogits">The sampled negatives' logits, (N,S) row-major.</param>
    /// <param name="negatives">The number of negatives per example S.</param>
    /// <param name="positiveLogQ">log Q of each example's positive item (N), or empty for 0.</param>
    /// <param name="negativeLogQ">log Q of each negative: (N,S), or (S) for shared negatives, or empty for 0.</param>
    /// <param name="positiveIds">The positive item id per example (N), or empty (together with <paramref name="negativeIds"/>) to keep every negative.</param>
    /// <param name="negativeIds">The negative item ids: (N,S), or (S) for shared negatives, or empty to keep every negative.</param>
    /// <param name="weights">Per-example weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-example 0/1 mask (N), or empty for all 1; 0 drops the example (padding).</param>
    /// <param name="gradPositive">Overwritten with d(loss)/d(positiveLogits) (N); may be exactly <paramref name="positiveLogits"/>.</param>
    /// <param name="gradNegative">
    /// Overwritten with d(loss)/d(negativeLogits) (N,S), exactly 0 at removed hits; may be exactly
    /// <paramref name="negativeLogits"/>.
    /// </param>
    /// <returns>The weighted mean loss, or 0 when Σ w_i m_i = 0.</returns>
    /// <exception cref="ArgumentException">
    /// A span has the wrong length, only one of <paramref name="positiveIds"/> and <paramref name="negativeIds"/>
    /// is given, or a gradient buffer overlaps the other one or an input other than its own logits.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="negatives"/> is negative, a weight is negative, NaN or infinite, or a mask value is not 0
    /// or 1 (the message names the position and value). Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> positiveLogits, ReadOnlySpan<float> negativeLogits, int negatives,
        ReadOnlySpan<float> positiveLogQ, ReadOnlySpan<float> negativeLogQ,
        ReadOnlySpan<int> positiveIds, ReadOnlySpan<int> negativeIds,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradPositive, Span<float> gradNegative)
    {
        int n = positiveLogits.Length;
        int total = LossGuard.Product(n, negatives, nameof(positiveLogits), nameof(negatives));
        LossGuard.Length(negativeLogits, total, nameof(negativeLogits));
        LossGuard.GradientLength(gradPositive, n, nameof(gradPositive));
        LossGuard.GradientLength(gradNegative, total, nameof(gradNegative));
        LossGuard.OptionalLength(positiveLogQ, n, nameof(positiveLogQ));
        bool sharedLogQ = CheckPerNegative(negativeLogQ.Length, total, negatives, nameof(negativeLogQ));
        if (positiveIds.IsEmpty != negativeIds.IsEmpty && total != 0)
        {
            LossGuard.ThrowArgument(positiveIds.IsEmpty ? nameof(positiveIds) : nameof(negativeIds),
                $"Accidental-hit removal needs both ids: positiveIds has length {positiveIds.Length}, negativeIds {negativeIds.Length}.");
        }

        bool removeHits = !positiveIds.IsEmpty && total != 0;
        bool sharedIds = false;
        if (removeHits)
        {
            LossGuard.Length(positiveIds, n, nameof(positiveIds));
            sharedIds = CheckPerNegative(negativeIds.Length, total, negatives, nameof(negativeIds));
        }

        LossGuard.WeightsAndMask(weights, mask, n);
        LossGuard.Aliasing(gradPositive, gradNegative, allowSame: false, nameof(gradPositive), nameof(gradNegative));
        CheckOutput(gradPositive, nameof(gradPositive), positiveLogits, negativeLogits, positiveLogQ, negativeLogQ,
            weights, mask, ownInput: 0);
        CheckOutput(gradNegative, nameof(gradNegative), positiveLogits, negativeLogits, positiveLogQ, negativeLogQ,
            weights, mask, ownInput: 1);

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
            Span<float> gradRow = gradNegative.Slice(i * negatives, negatives);
            float w = LossGuard.Weight(weights, mask, i);
            if (w == 0f)
            {
                gradPositive[i] = 0f;
                gradRow.Clear();
                continue;
            }

            ReadOnlySpan<float> row = negativeLogits.Slice(i * negatives, negatives);
            float o0 = positiveLogits[i] - (positiveLogQ.IsEmpty ? 0f : positiveLogQ[i]);

            // Build the corrected negative logits in the gradient row itself (no scratch buffer): element j is
            // read before it is written, so this is safe when gradNegative is negativeLogits.
            if (negativeLogQ.IsEmpty)
            {
                row.CopyTo(gradRow);
            }
            else
            {
                ReadOnlySpan<float> logQ = sharedLogQ ? negativeLogQ : negativeLogQ.Slice(i * negatives, negatives);
                TensorPrimitives.Subtract(row, logQ, gradRow);
            }

            if (removeHits)
            {
                ReadOnlySpan<int> ids = sharedIds ? negativeIds : negativeIds.Slice(i * negatives, negatives);
                int positive = positiveIds[i];
                for (int j = 0; j < ids.Length; j++)
                {
                    if (ids[j] == positive)
                    {
                        gradRow[j] = float.NegativeInfinity;
                    }
                }
            }

            // Stable softmax over [o0, o_1..o_S]: shift by the maximum so no exponent overflows. TensorPrimitives.Max
            // propagates NaN, and o0 is finite unless the inputs are, so max = +∞ or NaN marks a broken row.
            float max = negatives == 0 ? o0 : MathF.Max(o0, TensorPrimitives.Max(gradRow));
            if (!float.IsFinite(max) || float.IsNaN(o0))
            {
                gradPositive[i] = float.NaN;
                gradRow.Fill(float.NaN);
                loss = double.NaN;
                continue;
            }

            TensorPrimitives.Subtract(gradRow, max, gradRow);
            TensorPrimitives.Exp(gradRow, gradRow);
            double e0 = Math.Exp((double)o0 - max);
            // The maximum contributes e^0 = 1, so sum ≥ 1 and the division below is safe.
            double sum = e0 + TensorPrimitives.Sum(gradRow);
            double share = w / denominator;
            // l = logsumexp(o) − o0 = max + log(sum) − o0, with the difference max − o0 taken first.
            loss += share * (Math.Log(sum) + ((double)max - o0));
            // ∂l/∂o_j = p_j; ∂l/∂o0 = p_0 − 1.
            TensorPrimitives.Multiply(gradRow, (float)(share / sum), gradRow);
            gradPositive[i] = (float)(share * ((e0 / sum) - 1.0));
        }

        return (float)loss;
    }

    /// <summary>Validates a per-negative span's length: N×S, or S for shared negatives. Returns true for shared.</summary>
    private static bool CheckPerNegative(int length, int total, int negatives, string name)
    {
        if (length == 0 || length == total)
        {
            return false;
        }

        if (length == negatives)
        {
            return true;
        }

        LossGuard.ThrowArgument(name,
            $"'{name}' has length {length} but must be empty, hold N×S = {total} values, or S = {negatives} shared values.");
        return false;
    }

    /// <summary>Rejects any overlap of a gradient buffer with the inputs, except the exact alias of its own logits.</summary>
    private static void CheckOutput(Span<float> output, string name, ReadOnlySpan<float> positiveLogits,
        ReadOnlySpan<float> negativeLogits, ReadOnlySpan<float> positiveLogQ, ReadOnlySpan<float> negativeLogQ,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, int ownInput)
    {
        LossGuard.Aliasing(positiveLogits, output, ownInput == 0, nameof(positiveLogits), name);
        LossGuard.Aliasing(negativeLogits, output, ownInput == 1, nameof(negativeLogits), name);
        LossGuard.Aliasing(positiveLogQ, output, allowSame: false, nameof(positiveLogQ), name);
        LossGuard.Aliasing(negativeLogQ, output, allowSame: false, nameof(negativeLogQ), name);
        LossGuard.Aliasing(weights, output, allowSame: false, nameof(weights), name);
        LossGuard.Aliasing(mask, output, allowSame: false, nameof(mask), name);
    }
}

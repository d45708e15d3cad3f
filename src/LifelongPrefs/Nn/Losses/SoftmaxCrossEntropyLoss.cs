using System.Numerics.Tensors;

namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Softmax cross-entropy over classes with integer targets:
/// <c>l_r = logsumexp(logits[r, :]) − logits[r, targets[r]]</c>, reduced to the weighted mean
/// <c>Σ w_r m_r l_r / Σ w_r m_r</c>. A thin layer over the fused kernel
/// <see cref="Kernels.SoftmaxCrossEntropy(ReadOnlySpan{float}, int, int, ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float})"/>
/// that adds the padding mask.
/// </summary>
/// <remarks>
/// <para>
/// Stateless; the start of a backward pass. The gradient row is <c>w_r m_r (softmax(logits[r, :]) −
/// onehot(targets[r])) / Σ w m</c>; each row is stabilised by its maximum inside the kernel, so logits of
/// magnitude 1e4 give finite losses and gradients.
/// </para>
/// <para>
/// A row is dropped (weight 0, not read, gradient row exactly 0) when its mask is 0, its weight is 0, or its
/// target is −1 (the kernel's ignore index, accepted here too so targets padded with −1 need no mask). When
/// no row is counted, or the counted weights sum to 0, the loss is 0 and the gradient all 0. A counted row
/// containing NaN or +∞ gives a NaN loss and a NaN gradient row.
/// </para>
/// </remarks>
public static class SoftmaxCrossEntropyLoss
{
    /// <summary>Computes the weighted mean softmax cross-entropy of <paramref name="logits"/> and its gradient.</summary>
    /// <param name="logits">Unnormalised class scores, <paramref name="rows"/> × <paramref name="classes"/> row-major: (N,C).</param>
    /// <param name="rows">The number of examples N (e.g. batch × sequence positions).</param>
    /// <param name="classes">The number of classes C.</param>
    /// <param name="targets">One class index per row in [0, C), or −1 to drop the row (N).</param>
    /// <param name="weights">Per-row weights, finite and ≥ 0 (N), or empty for all 1.</param>
    /// <param name="mask">Per-row 0/1 mask (N), or empty for all 1; 0 drops the row (padding).</param>
    /// <param name="gradient">
    /// Overwritten with d(loss)/d(logits), (N,C). It may be the same span as <paramref name="logits"/> (in
    /// place, the logits are then overwritten); any other overlap with an input is rejected.
    /// </param>
    /// <returns>The weighted mean loss, or 0 when no weight is counted.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="logits"/> or <paramref name="gradient"/> does not hold exactly N×C elements,
    /// <paramref name="targets"/> does not hold N, <paramref name="weights"/> or <paramref name="mask"/> is
    /// neither empty nor of length N, or <paramref name="gradient"/> overlaps an input other than being exactly
    /// <paramref name="logits"/>.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="classes"/> is negative; the target of a row whose mask is 1 is
    /// neither −1 nor in [0, C); a weight is negative, NaN or infinite; or a mask value is not 0 or 1 (the
    /// message names the position and value). Nothing is written.
    /// </exception>
    public static float Compute(ReadOnlySpan<float> logits, int rows, int classes, ReadOnlySpan<int> targets,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, Span<float> gradient)
    {
        int total = LossGuard.Product(rows, classes, nameof(rows), nameof(classes));
        LossGuard.Length(logits, total, nameof(logits));
        LossGuard.Length(targets, rows, nameof(targets));
        LossGuard.GradientLength(gradient, total, nameof(gradient));
        LossGuard.WeightsAndMask(weights, mask, rows);
        LossGuard.Aliasing(logits, gradient, allowSame: true, nameof(logits), nameof(gradient));
        LossGuard.Aliasing(weights, gradient, allowSame: false, nameof(weights), nameof(gradient));
        LossGuard.Aliasing(mask, gradient, allowSame: false, nameof(mask), nameof(gradient));
        double denominator = 0;
        for (int r = 0; r < rows; r++)
        {
            // A padded position may carry any target; only unmasked ones must be valid.
            if (!mask.IsEmpty && mask[r] == 0f)
            {
                continue;
            }

            int t = targets[r];
            if (t != -1 && (uint)t >= (uint)classes)
            {
                LossGuard.ThrowOutOfRange(nameof(targets), t,
                    $"targets[{r}] = {t} is not a class index in [0, {classes}) nor -1 (drop the row).");
            }

            if (t != -1)
            {
                denominator += weights.IsEmpty ? 1f : weights[r];
            }
        }

        if (mask.IsEmpty)
        {
            // No padding mask: the kernel already implements exactly this reduction in one fused pass.
            return weights.IsEmpty
                ? Kernels.SoftmaxCrossEntropy(logits, rows, classes, targets, gradient)
                : Kernels.SoftmaxCrossEntropy(logits, rows, classes, targets, weights, gradient);
        }

        if (denominator == 0)
        {
            gradient.Clear();
            return 0f;
        }

        // With a mask, run the fused kernel one row at a time (a masked row must not even be read, and the
        // kernel has no mask of its own), then scale the row's softmax − onehot by its share of the mean.
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            Span<float> gradRow = gradient.Slice(r * classes, classes);
            float w = LossGuard.Weight(weights, mask, r);
            if (w == 0f || targets[r] == -1)
            {
                gradRow.Clear();
                continue;
            }

            float rowLoss = Kernels.SoftmaxCrossEntropy(logits.Slice(r * classes, classes), 1, classes,
                targets.Slice(r, 1), gradRow);
            double share = w / denominator;
            loss += share * rowLoss;
            TensorPrimitives.Multiply(gradRow, (float)share, gradRow);
        }

        return (float)loss;
    }
}

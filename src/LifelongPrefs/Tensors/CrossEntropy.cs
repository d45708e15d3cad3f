using System.Numerics.Tensors;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Fused softmax cross-entropy for integer class targets: returns the mean over non-ignored
    /// rows of <c>loss_r = logsumexp(logits[r, :]) - logits[r, targets[r]]</c> and writes its
    /// gradient with respect to the logits,
    /// <c>gradient[r, :] = (softmax(logits[r, :]) - onehot(targets[r])) / count</c>,
    /// where <c>count</c> is the number of rows whose target is not −1.
    /// </summary>
    /// <param name="logits">The unnormalised scores, <paramref name="rows"/> × <paramref name="columns"/> row-major.</param>
    /// <param name="rows">The number of rows (examples or positions).</param>
    /// <param name="columns">The number of classes.</param>
    /// <param name="targets">
    /// One class index per row in [0, <paramref name="columns"/>), or −1 to ignore the row (a
    /// padded position): it adds nothing to the loss, is not counted, and its gradient row is 0.
    /// </param>
    /// <param name="gradient">
    /// Receives the gradient of the returned mean loss in its first <c>rows × columns</c>
    /// elements; the rest is untouched. It may be the same span as <paramref name="logits"/> (in
    /// place), in which case the logits are overwritten.
    /// </param>
    /// <returns>The mean loss, or 0 when every row is ignored (or there are no rows); the gradient is then all 0.</returns>
    /// <remarks>
    /// <para>
    /// Each row is stabilised by its maximum, so huge logits neither overflow nor lose the loss.
    /// Ignored rows are not read. A counted row containing NaN or +∞, or consisting only of −∞,
    /// gives a NaN gradient row and makes the returned loss NaN. A target logit of −∞ in an
    /// otherwise finite row gives an infinite loss and a finite gradient.
    /// </para>
    /// <para>The loss is accumulated in double; sums inside a row in float vector lanes.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, or a target is neither −1
    /// nor in [0, <paramref name="columns"/>) (the message names its position and value). Nothing
    /// is written in that case.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="logits"/> does not hold exactly <c>rows × columns</c> elements,
    /// <paramref name="targets"/> does not hold exactly <paramref name="rows"/>,
    /// <paramref name="gradient"/> is shorter than <c>rows × columns</c>, or it partially overlaps
    /// <paramref name="logits"/>.
    /// </exception>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int rows, int columns,
        ReadOnlySpan<int> targets, Span<float> gradient)
    {
        int total = SoftmaxRow.MatrixLength(logits, rows, columns);
        if (targets.Length != rows)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(targets), targets.Length, rows);
        }

        Guard.Destination(gradient, total);
        gradient = gradient[..total];
        Guard.NoPartialOverlap(logits, gradient);
        int counted = CrossEntropyRows.CountTargets(targets, columns);

        return CrossEntropyRows.Run(logits, columns, targets, default, counted, gradient);
    }

    /// <summary>
    /// Weighted fused softmax cross-entropy: returns
    /// <c>Σ_r w_r · loss_r / Σ_r w_r</c> over rows whose target is not −1, with
    /// <c>loss_r = logsumexp(logits[r, :]) - logits[r, targets[r]]</c>, and writes its gradient
    /// <c>gradient[r, :] = w_r · (softmax(logits[r, :]) - onehot(targets[r])) / Σ w</c>.
    /// </summary>
    /// <param name="logits">The unnormalised scores, <paramref name="rows"/> × <paramref name="columns"/> row-major.</param>
    /// <param name="rows">The number of rows (examples or positions).</param>
    /// <param name="columns">The number of classes.</param>
    /// <param name="targets">
    /// One class index per row in [0, <paramref name="columns"/>), or −1 to ignore the row: its
    /// weight is not counted, it adds nothing to the loss, and its gradient row is 0.
    /// </param>
    /// <param name="weights">One finite, non-negative weight per row.</param>
    /// <param name="gradient">
    /// Receives the gradient of the returned loss in its first <c>rows × columns</c> elements; the
    /// rest is untouched. It may be the same span as <paramref name="logits"/> (in place).
    /// </param>
    /// <returns>
    /// The weighted mean loss, or 0 when the total weight of the non-ignored rows is 0 (the
    /// gradient is then all 0).
    /// </returns>
    /// <remarks>
    /// A row with weight 0 contributes nothing and is not read, so NaN there does not propagate.
    /// Otherwise the NaN and infinity rules of
    /// <see cref="SoftmaxCrossEntropy(ReadOnlySpan{float}, int, int, ReadOnlySpan{int}, Span{float})"/> apply.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, a target is neither −1 nor
    /// in [0, <paramref name="columns"/>), or a weight is negative, NaN or infinite (the message
    /// names its position and value). Nothing is written in that case.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="logits"/> does not hold exactly <c>rows × columns</c> elements,
    /// <paramref name="targets"/> or <paramref name="weights"/> does not hold exactly
    /// <paramref name="rows"/>, <paramref name="gradient"/> is shorter than <c>rows × columns</c>,
    /// or it partially overlaps <paramref name="logits"/>.
    /// </exception>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int rows, int columns,
        ReadOnlySpan<int> targets, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        int total = SoftmaxRow.MatrixLength(logits, rows, columns);
        if (targets.Length != rows)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(targets), targets.Length, rows);
        }

        Guard.Length(weights, rows);
        Guard.Destination(gradient, total);
        gradient = gradient[..total];
        Guard.NoPartialOverlap(logits, gradient);
        CrossEntropyRows.CountTargets(targets, columns);
        double totalWeight = CrossEntropyRows.TotalWeight(targets, weights);

        return CrossEntropyRows.Run(logits, columns, targets, weights, totalWeight, gradient);
    }
}

/// <summary>The validation and the per-row loop behind <see cref="Kernels.SoftmaxCrossEntropy(ReadOnlySpan{float}, int, int, ReadOnlySpan{int}, Span{float})"/>.</summary>
internal static class CrossEntropyRows
{
    /// <summary>The target that marks a row as padding.</summary>
    internal const int Ignore = -1;

    /// <summary>Validates every target and returns how many rows are not ignored.</summary>
    internal static int CountTargets(ReadOnlySpan<int> targets, int columns)
    {
        int counted = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            int t = targets[r];
            if (t == Ignore)
            {
                continue;
            }

            if ((uint)t >= (uint)columns)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(targets), t,
                    $"targets[{r}] = {t} is not a class index in [0, {columns}) nor {Ignore} (ignore the row).");
            }

            counted++;
        }

        return counted;
    }

    /// <summary>Validates every weight and returns the total weight of the non-ignored rows.</summary>
    internal static double TotalWeight(ReadOnlySpan<int> targets, ReadOnlySpan<float> weights)
    {
        double total = 0;
        for (int r = 0; r < weights.Length; r++)
        {
            float w = weights[r];
            if (!float.IsFinite(w) || w < 0f)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(weights), w,
                    $"weights[{r}] = {w} must be finite and non-negative.");
            }

            if (targets[r] != Ignore)
            {
                total += w;
            }
        }

        return total;
    }

    /// <summary>
    /// The fused loop; <paramref name="weights"/> empty means every weight is 1. Arguments are
    /// validated and <paramref name="gradient"/> is exactly rows × columns.
    /// </summary>
    internal static float Run(ReadOnlySpan<float> logits, int columns, ReadOnlySpan<int> targets,
        ReadOnlySpan<float> weights, double totalWeight, Span<float> gradient)
    {
        if (totalWeight == 0)
        {
            gradient.Clear();
            return 0f;
        }

        double loss = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            ReadOnlySpan<float> row = logits.Slice(r * columns, columns);
            Span<float> grad = gradient.Slice(r * columns, columns);
            int t = targets[r];
            float w = weights.IsEmpty ? 1f : weights[r];
            if (t == Ignore || w == 0f)
            {
                grad.Clear();
                continue;
            }

            float max = SoftmaxRow.Max(row, out bool hasNaN);
            if (hasNaN || !float.IsFinite(max))
            {
                grad.Fill(float.NaN);
                loss = double.NaN;
                continue;
            }

            // Read the target logit now: in place, the next pass overwrites the row.
            float targetLogit = row[t];
            float sum = SoftmaxRow.ExpSum<SoftmaxRow.Store>(row, max, grad);

            // This row's share of the mean: d(mean)/d(loss_r).
            double share = w / totalWeight;
            loss += share * (Math.Log(sum) + ((double)max - targetLogit));

            // d loss_r / d logits = softmax - onehot; grad holds exp(x - max) so far.
            TensorPrimitives.Multiply(grad, (float)(share / sum), grad);
            grad[t] -= (float)share;
        }

        return (float)loss;
    }
}

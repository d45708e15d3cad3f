using System.Buffers;

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Metrics for binary classifiers such as purchase-propensity models: ROC AUC, decisions at a threshold
/// (accuracy, precision, recall, F1 through <see cref="ConfusionMatrix"/>) and log-loss.
/// </summary>
/// <remarks>
/// Labels are floats (the targets a binary cross-entropy loss trains on) that must be exactly 0 or 1.
/// Scores may be probabilities or logits wherever only their order or a threshold matters. Inputs are
/// validated before anything is computed: empty input, a length mismatch, a NaN score or a label other
/// than 0/1 throws, with the position and value in the message. Results are computed in double.
/// </remarks>
public static class ClassificationMetrics
{
    /// <summary>
    /// The probability a prediction gives to the true class is floored at this ε before the logarithm, so one
    /// confident mistake costs at most −ln ε ≈ 34.54 rather than ∞.
    /// </summary>
    public const double LogLossEpsilon = 1e-15;

    /// <summary>
    /// The exact area under the ROC curve: the probability that a random positive scores higher than a
    /// random negative, ties counting one half. This is the Mann-Whitney U statistic with average ranks for
    /// tied scores, divided by <c>#positives · #negatives</c>.
    /// </summary>
    /// <param name="scores">One score per example (probabilities or logits; only the order matters). No NaN.</param>
    /// <param name="labels">One label per example, 0 or 1.</param>
    /// <returns>
    /// A value in [0, 1]: 1 for perfectly separated scores, 0 for perfectly reversed ones, 0.5 when all
    /// scores are tied. NaN when only one class is present (the curve is undefined).
    /// </returns>
    /// <remarks>
    /// Sorts a copy of the inputs (O(n log n)) in scratch rented from <see cref="ArrayPool{T}.Shared"/>, so a
    /// warm call allocates nothing. −0 and +0 are tied.
    /// </remarks>
    /// <exception cref="ArgumentException">The inputs are empty or differ in length, a score is NaN, or a label is not 0 or 1.</exception>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        Validate(scores, labels);
        int n = scores.Length;
        float[] keys = ArrayPool<float>.Shared.Rent(n);
        float[] sortedLabels = ArrayPool<float>.Shared.Rent(n);
        try
        {
            Span<float> k = keys.AsSpan(0, n);
            Span<float> y = sortedLabels.AsSpan(0, n);
            scores.CopyTo(k);
            labels.CopyTo(y);
            // Normalise −0 to +0: the sort would otherwise order them and split one tie group into two.
            for (int i = 0; i < n; i++)
            {
                if (k[i] == 0f)
                {
                    k[i] = 0f;
                }
            }

            k.Sort(y);

            // Walk the tie groups in ascending score order. Each positive beats every negative in earlier
            // groups and ties (half a win) with the negatives in its own group — the average-rank rule.
            double wins = 0.0;
            long negativesBelow = 0, positives = 0;
            for (int start = 0; start < n;)
            {
                int end = start;
                long groupPositives = 0, groupNegatives = 0;
                while (end < n && k[end] == k[start])
                {
                    if (y[end] == 1f)
                    {
                        groupPositives++;
                    }
                    else
                    {
                        groupNegatives++;
                    }

                    end++;
                }

                wins += (groupPositives * (double)negativesBelow) + (0.5 * groupPositives * groupNegatives);
                negativesBelow += groupNegatives;
                positives += groupPositives;
                start = end;
            }

            long negatives = negativesBelow;
            return positives == 0 || negatives == 0 ? double.NaN : wins / ((double)positives * negatives);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(sortedLabels);
        }
    }

    /// <summary>
    /// Counts the decisions "positive iff <c>score ≥ threshold</c>" against the labels.
    /// </summary>
    /// <param name="scores">One score per example. No NaN.</param>
    /// <param name="labels">One label per example, 0 or 1.</param>
    /// <param name="threshold">The decision threshold (for example 0.5 on probabilities, 0 on logits); not NaN.</param>
    /// <returns>The confusion matrix.</returns>
    /// <exception cref="ArgumentException">The inputs are empty or differ in length, a score is NaN, or a label is not 0 or 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is NaN.</exception>
    public static ConfusionMatrix Confusion(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, float threshold)
    {
        if (float.IsNaN(threshold))
        {
            EvaluationGuard.ThrowOutOfRange(nameof(threshold), threshold, $"'{nameof(threshold)}' must not be NaN.");
        }

        Validate(scores, labels);
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool predicted = scores[i] >= threshold;
            bool actual = labels[i] == 1f;
            if (predicted)
            {
                if (actual)
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            else if (actual)
            {
                fn++;
            }
            else
            {
                tn++;
            }
        }

        return new ConfusionMatrix(tp, fp, tn, fn);
    }

    /// <summary>Accuracy of the decisions <c>score ≥ threshold</c>; see <see cref="Confusion"/>.</summary>
    /// <inheritdoc cref="Confusion" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="Confusion" path="/exception"/>
    public static double Accuracy(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, float threshold) =>
        Confusion(scores, labels, threshold).Accuracy;

    /// <summary>Precision of the decisions <c>score ≥ threshold</c>; 0 when nothing is predicted positive.</summary>
    /// <inheritdoc cref="Confusion" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="Confusion" path="/exception"/>
    public static double Precision(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, float threshold) =>
        Confusion(scores, labels, threshold).Precision;

    /// <summary>Recall of the decisions <c>score ≥ threshold</c>; 0 when there is no positive.</summary>
    /// <inheritdoc cref="Confusion" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="Confusion" path="/exception"/>
    public static double Recall(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, float threshold) =>
        Confusion(scores, labels, threshold).Recall;

    /// <summary>F1 of the decisions <c>score ≥ threshold</c>; 0 when there is no true positive.</summary>
    /// <inheritdoc cref="Confusion" path="/param"/>
    /// <returns>A value in [0, 1].</returns>
    /// <inheritdoc cref="Confusion" path="/exception"/>
    public static double F1(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, float threshold) =>
        Confusion(scores, labels, threshold).F1;

    /// <summary>
    /// Mean log-loss (binary cross-entropy, natural log) of predicted probabilities:
    /// <c>−mean(y·log p + (1 − y)·log(1 − p))</c>, where the probability of the true class (p or 1 − p) is
    /// floored at <see cref="LogLossEpsilon"/>.
    /// </summary>
    /// <param name="probabilities">One predicted probability of the positive class per example, in [0, 1].</param>
    /// <param name="labels">One label per example, 0 or 1.</param>
    /// <returns>The mean loss, ≥ 0.</returns>
    /// <exception cref="ArgumentException">The inputs are empty or differ in length, a probability is NaN, or a label is not 0 or 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A probability lies outside [0, 1].</exception>
    public static double LogLoss(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        Validate(probabilities, labels, nameof(probabilities));
        for (int i = 0; i < probabilities.Length; i++)
        {
            float p = probabilities[i];
            if (p < 0f || p > 1f)
            {
                EvaluationGuard.ThrowOutOfRange(nameof(probabilities), p, $"probabilities[{i}] = {p} is not a probability in [0, 1].");
            }
        }

        double sum = 0.0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            // The probability given to the true class; 1 − p is exact in double for a float p in [0, 1].
            double q = labels[i] == 1f ? probabilities[i] : 1.0 - probabilities[i];
            sum -= Math.Log(Math.Max(q, LogLossEpsilon));
        }

        return sum / probabilities.Length;
    }

    /// <summary>
    /// Mean log-loss of logits z (probability σ(z)), computed stably without forming σ(z):
    /// <c>softplus(−z)</c> for a positive and <c>softplus(z)</c> for a negative, where
    /// <c>softplus(x) = max(x, 0) + log(1 + e^−|x|)</c>. No clipping is needed, and ±∞ logits are exact
    /// (0 when right, ∞ when wrong).
    /// </summary>
    /// <param name="logits">One logit per example. No NaN.</param>
    /// <param name="labels">One label per example, 0 or 1.</param>
    /// <returns>The mean loss, ≥ 0.</returns>
    /// <exception cref="ArgumentException">The inputs are empty or differ in length, a logit is NaN, or a label is not 0 or 1.</exception>
    public static double LogLossWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels)
    {
        Validate(logits, labels, nameof(logits));
        double sum = 0.0;
        for (int i = 0; i < logits.Length; i++)
        {
            double z = logits[i];
            sum += Softplus(labels[i] == 1f ? -z : z);
        }

        return sum / logits.Length;
    }

    // log(1 + e^x) without overflow: e^−|x| ≤ 1 always.
    private static double Softplus(double x) => Math.Max(x, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs(x)));

    private static void Validate(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, string scoresName = "scores")
    {
        if (scores.IsEmpty)
        {
            EvaluationGuard.ThrowArgument(scoresName, $"'{scoresName}' is empty; a classification metric needs at least one example.");
        }

        EvaluationGuard.Length(labels.Length, scores.Length, nameof(labels), scoresName);
        for (int i = 0; i < scores.Length; i++)
        {
            if (float.IsNaN(scores[i]))
            {
                EvaluationGuard.ThrowArgument(scoresName, $"{scoresName}[{i}] is NaN.");
            }

            float y = labels[i];
            if (y != 0f && y != 1f)
            {
                EvaluationGuard.ThrowArgument(nameof(labels), $"labels[{i}] = {y} is not a binary label (0 or 1).");
            }
        }
    }
}

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Counts of a binary classifier's decisions at one threshold, with the metrics derived from them.
/// Build one with <see cref="ClassificationMetrics.Confusion"/>.
/// </summary>
/// <param name="TruePositives">Positives predicted positive.</param>
/// <param name="FalsePositives">Negatives predicted positive.</param>
/// <param name="TrueNegatives">Negatives predicted negative.</param>
/// <param name="FalseNegatives">Positives predicted negative.</param>
/// <remarks>
/// A ratio whose denominator is 0 is reported as 0 (the "zero division = 0" convention) for precision,
/// recall and F1, so a model that never predicts positive scores 0 rather than NaN; accuracy of an empty
/// matrix is NaN because there is nothing to be right about.
/// </remarks>
public readonly record struct ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    /// <summary>The number of examples counted.</summary>
    public long Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>The fraction of correct decisions, <c>(TP + TN) / total</c>; NaN for an empty matrix.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)(TruePositives + TrueNegatives) / Total;

    /// <summary>Of the predicted positives, the fraction that are positive: <c>TP / (TP + FP)</c>; 0 when nothing was predicted positive.</summary>
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>Of the positives, the fraction predicted positive: <c>TP / (TP + FN)</c>; 0 when there is no positive.</summary>
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>
    /// The harmonic mean of precision and recall, computed as <c>2·TP / (2·TP + FP + FN)</c> (the same value
    /// without the intermediate ratios); 0 when there is no true positive.
    /// </summary>
    public double F1 => Ratio(2 * TruePositives, (2 * TruePositives) + FalsePositives + FalseNegatives);

    private static double Ratio(long numerator, long denominator) =>
        denominator == 0 ? 0.0 : (double)numerator / denominator;
}

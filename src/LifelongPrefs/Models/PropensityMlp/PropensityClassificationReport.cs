namespace LifelongPrefs.Models;

/// <summary>Classification quality of a propensity model on held-out (user, item) examples.</summary>
/// <param name="Examples">Number of held-out examples (positives plus sampled negatives).</param>
/// <param name="PositiveRate">Share of positives among them.</param>
/// <param name="Auc">Area under the ROC curve.</param>
/// <param name="Accuracy">Accuracy at probability 0.5 (logit 0).</param>
/// <param name="Precision">Precision at probability 0.5.</param>
/// <param name="Recall">Recall at probability 0.5.</param>
/// <param name="F1">F1 at probability 0.5.</param>
/// <param name="LogLoss">Mean binary cross-entropy.</param>
public sealed record PropensityClassificationReport(int Examples, double PositiveRate, double Auc, double Accuracy,
    double Precision, double Recall, double F1, double LogLoss);

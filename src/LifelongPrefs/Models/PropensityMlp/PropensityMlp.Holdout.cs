using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Models;

public sealed partial class PropensityMlp
{
    /// <summary>
    /// Classification metrics on the validation users' held-out baskets: the events of <paramref name="all"/> not in
    /// <paramref name="fit"/> (a subsequence of it), with features from the fit-time statistics.
    /// </summary>
    private PropensityClassificationReport? Classify(IReadOnlyList<Interaction> all, IReadOnlyList<Interaction> fit)
    {
        var heldOut = new SortedDictionary<int, (long Now, List<int> Items)>();
        for (int i = 0, j = 0; i < all.Count; i++)
        {
            Interaction e = all[i];
            if (j < fit.Count && fit[j] == e)
            {
                j++;
                continue;
            }

            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (!heldOut.TryGetValue(e.User, out var basket))
            {
                heldOut[e.User] = basket = (e.Ticks, []);
            }

            if (!basket.Items.Contains(e.Item))
            {
                basket.Items.Add(e.Item);
            }
        }

        var random = new Random(unchecked(_options.Seed * 31 + 3));
        var x = new List<float>();
        var y = new List<float>();
        var row = new float[Width];
        foreach (var (user, (now, items)) in heldOut)
        {
            Emit(_features!, _features!.User(user), items, Math.Max(now, _features.LatestTicks), random, x, y, row);
        }

        if (y.Count == 0)
        {
            return null;
        }

        float[] inputs = [.. x];
        float[] labels = [.. y];
        Standardise(inputs);
        var logits = new float[labels.Length];
        _net.Training = false;
        for (int start = 0; start < labels.Length; start += _options.BatchSize)
        {
            int n = Math.Min(_options.BatchSize, labels.Length - start);
            Tensor batch = Tensor.FromArray(inputs.AsSpan(start * Width, n * Width).ToArray(), n, Width);
            _net.Forward(batch).Span.CopyTo(logits.AsSpan(start, n));
        }

        _net.Training = true;
        int positives = 0;
        foreach (float label in labels)
        {
            positives += label > 0.5f ? 1 : 0;
        }

        return new PropensityClassificationReport(labels.Length, positives / (double)labels.Length,
            ClassificationMetrics.Auc(logits, labels),
            ClassificationMetrics.Accuracy(logits, labels, 0f),
            ClassificationMetrics.Precision(logits, labels, 0f),
            ClassificationMetrics.Recall(logits, labels, 0f),
            ClassificationMetrics.F1(logits, labels, 0f),
            ClassificationMetrics.LogLossWithLogits(logits, labels));
    }
}

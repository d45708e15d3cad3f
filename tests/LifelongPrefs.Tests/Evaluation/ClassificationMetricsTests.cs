using LifelongPrefs.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>AUC, thresholded decisions and log-loss against hand-computed cases and a pairwise AUC oracle.</summary>
public class ClassificationMetricsTests
{
    [Fact]
    public void Auc_hand_computed()
    {
        // Positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won = (0.35>0.1) + (0.8>0.1) + (0.8>0.4) = 3 of 4.
        Assert.Equal(0.75, ClassificationMetrics.Auc([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]));
        // Positives 0.5, 0.9 vs negatives 0.5, 0.2: the 0.5/0.5 tie counts one half -> 3.5 / 4.
        Assert.Equal(0.875, ClassificationMetrics.Auc([0.5f, 0.5f, 0.2f, 0.9f], [1, 0, 0, 1]));
    }

    [Fact]
    public void Auc_edge_cases()
    {
        Assert.Equal(1.0, ClassificationMetrics.Auc([0.1f, 0.2f, 0.8f, 0.9f], [0, 0, 1, 1]));
        Assert.Equal(0.0, ClassificationMetrics.Auc([0.1f, 0.2f, 0.8f, 0.9f], [1, 1, 0, 0]));
        Assert.Equal(0.5, ClassificationMetrics.Auc([3f, 3f, 3f, 3f, 3f], [1, 0, 0, 1, 0]));
        // −0 and +0 are the same score: a tie in either order.
        Assert.Equal(0.5, ClassificationMetrics.Auc([-0f, 0f], [1, 0]));
        Assert.Equal(0.5, ClassificationMetrics.Auc([-0f, 0f], [0, 1]));
        // Infinite logits are ordinary scores.
        Assert.Equal(1.0, ClassificationMetrics.Auc([float.NegativeInfinity, float.PositiveInfinity], [0, 1]));
        // One class only: undefined.
        Assert.True(double.IsNaN(ClassificationMetrics.Auc([0.2f, 0.7f], [1, 1])));
        Assert.True(double.IsNaN(ClassificationMetrics.Auc([0.2f], [0])));
    }

    [Property(MaxTest = 200)]
    public Property Auc_equals_the_pairwise_probability_with_half_ties() =>
        Prop.ForAll(
            Arb.From(from n in Gen.Choose(1, 60)
                     from s in Gen.ArrayOf(Gen.Choose(-5, 5), n)
                     from y in Gen.ArrayOf(Gen.Choose(0, 1), n)
                     select (Scores: Array.ConvertAll(s, v => v / 4f), Labels: Array.ConvertAll(y, v => (float)v))),
            input =>
            {
                (float[] scores, float[] labels) = input;
                double wins = 0;
                long pairs = 0;
                for (int i = 0; i < scores.Length; i++)
                {
                    for (int j = 0; j < scores.Length; j++)
                    {
                        if (labels[i] == 1 && labels[j] == 0)
                        {
                            pairs++;
                            wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                        }
                    }
                }

                double auc = ClassificationMetrics.Auc(scores, labels);
                if (pairs == 0)
                {
                    Assert.True(double.IsNaN(auc));
                }
                else
                {
                    Assert.Equal(wins / pairs, auc, 1e-12);
                    Assert.InRange(auc, 0.0, 1.0);
                    // Negating the scores swaps wins and losses.
                    Assert.Equal(1 - auc, ClassificationMetrics.Auc(Array.ConvertAll(scores, v => -v), labels), 1e-12);
                }
            });

    [Fact]
    public void Decisions_at_a_threshold_hand_computed()
    {
        float[] scores = [0.9f, 0.6f, 0.4f, 0.2f, 0.5f];
        float[] labels = [1, 0, 1, 0, 1];
        // score >= 0.5 is positive: 0.9 (1) TP, 0.6 (0) FP, 0.5 (1) TP (ties go positive); 0.4 (1) FN, 0.2 (0) TN.
        ConfusionMatrix m = ClassificationMetrics.Confusion(scores, labels, 0.5f);
        Assert.Equal(new ConfusionMatrix(2, 1, 1, 1), m);
        Assert.Equal(5, m.Total);
        Assert.Equal(0.6, ClassificationMetrics.Accuracy(scores, labels, 0.5f), 1e-12);
        Assert.Equal(2.0 / 3, ClassificationMetrics.Precision(scores, labels, 0.5f), 1e-12);
        Assert.Equal(2.0 / 3, ClassificationMetrics.Recall(scores, labels, 0.5f), 1e-12);
        Assert.Equal(2.0 / 3, ClassificationMetrics.F1(scores, labels, 0.5f), 1e-12);

        // threshold 0.7: only 0.9 is positive -> TP 1, FP 0, TN 2, FN 2: precision 1, recall 1/3, F1 = 2·1·(1/3)/(4/3) = 0.5.
        Assert.Equal(new ConfusionMatrix(1, 0, 2, 2), ClassificationMetrics.Confusion(scores, labels, 0.7f));
        Assert.Equal(1.0, ClassificationMetrics.Precision(scores, labels, 0.7f));
        Assert.Equal(0.5, ClassificationMetrics.F1(scores, labels, 0.7f), 1e-12);
    }

    [Fact]
    public void Zero_denominators_give_zero_and_an_empty_matrix_has_NaN_accuracy()
    {
        // Nothing predicted positive, and no positive at all.
        ConfusionMatrix m = ClassificationMetrics.Confusion([0.1f, 0.2f], [0, 0], 0.5f);
        Assert.Equal(new ConfusionMatrix(0, 0, 2, 0), m);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(0.0, m.Precision);
        Assert.Equal(0.0, m.Recall);
        Assert.Equal(0.0, m.F1);
        Assert.True(double.IsNaN(default(ConfusionMatrix).Accuracy));
    }

    [Fact]
    public void Log_loss_hand_computed()
    {
        // −(ln 0.9 + ln(1 − 0.2)) / 2 = (0.1053605 + 0.2231436) / 2 = 0.1642520 (float inputs: ~1e-8 off).
        Assert.Equal(0.1642520, ClassificationMetrics.LogLoss([0.9f, 0.2f], [1, 0]), 1e-6);
        // Certain and right costs 0; certain and wrong is clipped at −ln(1e-15) = 34.538776.
        Assert.Equal(0.0, ClassificationMetrics.LogLoss([1f, 0f], [1, 0]), 1e-12);
        Assert.Equal(34.538776, ClassificationMetrics.LogLoss([0f], [1]), 1e-5);
        Assert.Equal(34.538776, ClassificationMetrics.LogLoss([1f], [0]), 1e-5);
    }

    [Fact]
    public void Log_loss_with_logits_matches_probabilities_and_is_stable()
    {
        // z = 0 is p = 0.5: ln 2 = 0.693147 either way.
        Assert.Equal(0.693147, ClassificationMetrics.LogLossWithLogits([0f, 0f], [1, 0]), 1e-6);
        // z = 2.1972246 is p = 0.9 and z = −1.3862944 is p = 0.2: same 0.1642520 as the hand case above.
        Assert.Equal(0.1642520, ClassificationMetrics.LogLossWithLogits([2.1972246f, -1.3862944f], [1, 0]), 1e-6);
        // Huge logits: right costs ~0, wrong costs |z|, no overflow.
        Assert.Equal(0.0, ClassificationMetrics.LogLossWithLogits([1000f, -1000f], [1, 0]), 1e-12);
        Assert.Equal(1000.0, ClassificationMetrics.LogLossWithLogits([1000f], [0]), 1e-9);
        Assert.Equal(0.0, ClassificationMetrics.LogLossWithLogits([float.PositiveInfinity], [1]));
        Assert.Equal(double.PositiveInfinity, ClassificationMetrics.LogLossWithLogits([float.NegativeInfinity], [1]));
    }

    [Fact]
    public void Invalid_inputs_throw_and_name_the_argument()
    {
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => ClassificationMetrics.Auc([], [])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => ClassificationMetrics.Auc([0.1f, 0.2f], [1])).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Auc([0.1f, 0.2f], [1, 0.5f]));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("labels[1] = 0.5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scores[1]", Assert.Throws<ArgumentException>(() => ClassificationMetrics.Confusion([0.1f, float.NaN], [1, 0], 0.5f)).Message, StringComparison.Ordinal);
        Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Accuracy([0.1f], [1], float.NaN)).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.LogLoss([1.5f], [1])).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([float.NaN], [1])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLossWithLogits([float.NaN], [1])).ParamName);
    }

    [Fact]
    public void Warm_calls_allocate_nothing()
    {
        float[] scores = new float[500], labels = new float[500];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = ((i * 31) % 97) / 97f;
            labels[i] = (i * 7) % 3 == 0 ? 1 : 0;
        }

        double sink = 0;
        Assert.Equal(0, Allocations.Measure(Run, calls: 5));
        Assert.True(sink > 0);

        void Run()
        {
            sink += ClassificationMetrics.Auc(scores, labels) + ClassificationMetrics.F1(scores, labels, 0.5f)
                + ClassificationMetrics.LogLoss(scores, labels) + ClassificationMetrics.LogLossWithLogits(scores, labels);
        }
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Models;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The default training budget ("until the validation metric stops improving") against a hand-set long run, on a
/// generated log of 1,000 users with ~100 purchases each and a learnable sequential rule. An epoch there is only
/// 8 SASRec steps, so a fixed epoch count tuned on Online Retail stops far too early; early stopping must not.
/// </summary>
/// <remarks>
/// The budget knobs (MaxEpochs, Patience, ValidationUsers, batch size, learning rate) are the defaults under test;
/// the networks are narrowed (width 32, one SASRec block, windows of 20) only so that the four fits stay within
/// about a minute on two shared cores. The oracle is the same model trained for a hand-set, clearly sufficient
/// number of epochs without validation; both are scored by leave-last-item NDCG@10 on the held-out last purchases.
/// </remarks>
public class EarlyStoppingTests(ITestOutputHelper output)
{
    /// <summary>Absolute NDCG@10 the early-stopped model may lag the long run by.</summary>
    private const double Margin = 0.03;

    private static readonly Lazy<HoldoutProtocol> Protocol = new(() => HoldoutProtocol.LeaveLastItem(LongHistories()));

    /// <summary>
    /// 1,000 users × 90–110 purchases over 200 items, one purchase a day: each user walks the catalog with their own
    /// stride (1, 2, 3, 5 or 7), and a quarter of the steps jump to a random item, so the next item is predictable
    /// from the recent history but not from popularity.
    /// </summary>
    private static InteractionLog LongHistories()
    {
        const int users = 1000, items = 200;
        var random = new Random(7);
        int[] strides = [1, 2, 3, 5, 7];
        var log = new InteractionLog();
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int u = 0; u < users; u++)
        {
            int item = random.Next(items), length = 90 + random.Next(21);
            for (int k = 0; k < length; k++)
            {
                item = random.NextDouble() < 0.75 ? (item + strides[u % strides.Length]) % items : random.Next(items);
                log.Add(new InteractionEvent($"u{u}", $"i{item}", start.AddDays(k).AddMinutes(u), EventKind.Purchase, 1f, 1f, $"b{u}.{k}"));
            }
        }

        return log;
    }

    private double Ndcg(IRecommender model, string label)
    {
        ProtocolResult result = Protocol.Value.FitAndEvaluate(model);
        double ndcg = result.Metrics["NDCG@10"];
        output.WriteLine($"{label}: NDCG@10 {ndcg:F4} in {result.TrainSeconds:F1} s");
        return ndcg;
    }

    [Fact]
    public void Sasrec_at_the_default_budget_reaches_a_long_run()
    {
        var narrow = new SasRecOptions { Dimensions = 32, Blocks = 1, MaxLength = 20 };
        double longRun = Ndcg(new SasRec(new SasRecOptions { Dimensions = 32, Blocks = 1, MaxLength = 20, MaxEpochs = 80, ValidationUsers = 0 }), "SASRec, 80 epochs");
        double stopped = Ndcg(new SasRec(narrow), "SASRec, default budget");
        double nine = Ndcg(new SasRec(new SasRecOptions { Dimensions = 32, Blocks = 1, MaxLength = 20, MaxEpochs = 9, ValidationUsers = 0 }), "SASRec, the old 9 epochs");

        Assert.True(stopped >= longRun - Margin, $"early-stopped {stopped:F4} vs long run {longRun:F4}");
        Assert.True(nine < longRun - Margin, $"the data needs many epochs: 9 epochs {nine:F4} vs {longRun:F4}");
    }

    [Fact]
    public void Gru4rec_at_the_default_budget_reaches_a_long_run()
    {
        var narrow = new Gru4RecOptions { Dimensions = 32, HiddenSize = 32, MaxLength = 20 };
        double longRun = Ndcg(new Gru4Rec(new Gru4RecOptions { Dimensions = 32, HiddenSize = 32, MaxLength = 20, MaxEpochs = 20, ValidationUsers = 0 }), "GRU4Rec, 20 epochs");
        double stopped = Ndcg(new Gru4Rec(narrow), "GRU4Rec, default budget");

        Assert.True(stopped >= longRun - Margin, $"early-stopped {stopped:F4} vs long run {longRun:F4}");
    }
}

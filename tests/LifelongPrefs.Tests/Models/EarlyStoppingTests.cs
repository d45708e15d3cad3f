using System.Diagnostics;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Models;
using LifelongPrefs.Training;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Models;

public class EarlyStoppingTests(ITestOutputHelper output)
{
    internal static InteractionLog LongHistories(int users = 1000, int events = 100, int items = 200, int seed = 7)
    {
        var random = new Random(seed);
        int[] strides = [1, 2, 3, 5, 7];
        var log = new InteractionLog();
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int u = 0; u < users; u++)
        {
            int stride = strides[u % strides.Length];
            int item = random.Next(items);
            int length = events - 10 + random.Next(21);
            for (int k = 0; k < length; k++)
            {
                item = random.NextDouble() < 0.75 ? (item + stride) % items : random.Next(items);
                log.Add(new InteractionEvent($"u{u}", $"i{item}", start.AddHours(k * 24 + (u % 24)), EventKind.Purchase, 1f, 1f, $"b{u}.{k}"));
            }
        }

        return log;
    }

    [Fact]
    public void Explore()
    {
        HoldoutProtocol protocol = HoldoutProtocol.LeaveLastItem(LongHistories());
        foreach (IRecommender model in new IRecommender[] { new SasRec(new SasRecOptions(MaxEpochs: 120, Patience: 120)), new Gru4Rec(new Gru4RecOptions(MaxEpochs: 60, Patience: 60)) })
        {
            var clock = Stopwatch.StartNew();
            var progress = new Sync(p => output.WriteLine($"{p.Model} {p.Epoch} loss {p.Loss:F4} val {p.ValidationMetric:F4} t {clock.Elapsed.TotalSeconds:F1}"));
            ProtocolResult r = protocol.FitAndEvaluate(model, progress);
            output.WriteLine($"{model.Name} test NDCG@10 {r.Metrics["NDCG@10"]:F4} in {r.TrainSeconds:F1}s");
        }
    }

    private sealed class Sync(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>
/// The strategies side by side on the bundled Online Retail stream under the monthly continual protocol (2011-01 …
/// 2011-12, cutoff 20; BPR-MF d = 64): the measurement behind the defaults (numbers in Lifelong/README.md). Minutes
/// of CPU, so skipped in the suite; remove the Skip to run it.
/// </summary>
public class ContinualMeasurement(ITestOutputHelper output)
{
    private static BprMf Bpr() => new(new BprMfOptions { Dimensions = 64, MaxEpochs = 60, ValidationUsers = 0, UpdateEpochs = 10, Seed = 1 });

    [Fact(Skip = "manual: the Online Retail measurement of the continual strategies (several minutes)")]
    public void Strategies_on_online_retail()
    {
        InteractionLog log = OnlineRetail.Load(Path.Combine(Repository.Root, OnlineRetail.SamplePath)).Log;
        var protocol = ContinualProtocol.Create(log, new DateTime(2011, 1, 1), new DateTime(2011, 12, 1), 20);
        var strategies = new (string Name, Func<ContinualResult> Run)[]
        {
            ("retrain", () => protocol.Retrained(Bpr)),
            ("naive", () => protocol.Incremental(new ContinualLearner(Bpr(), ContinualOptions.Naive))),
            ("replay", () => protocol.Incremental(new ContinualLearner(Bpr(), new ContinualOptions { ReplayCapacity = 20_000, ReplayRatio = 1, EwcStrength = 0 }))),
            ("replay+ewc", () => protocol.Incremental(new ContinualLearner(Bpr(), new ContinualOptions { ReplayCapacity = 20_000, ReplayRatio = 1, EwcStrength = 2e-4f }))),
            ("replay+distill", () => protocol.Incremental(new ContinualLearner(Bpr(), new ContinualOptions { ReplayCapacity = 20_000, ReplayRatio = 1, EwcStrength = 0, DistillationWeight = 0.1f }))),
            ("default", () => protocol.Incremental(new ContinualLearner(Bpr()))),
        };
        foreach ((string name, Func<ContinualResult> run) in strategies)
        {
            ContinualResult r = run();
            output.WriteLine($"{name,-15} NDCG@20 {r.ForwardNdcg:F4} recall {r.ForwardRecall:F4} BWT {r.Bwt:+0.0000;-0.0000} no-rebuy {r.BwtNoRebuy:+0.0000;-0.0000} newest {r.NewestNdcg:F4} {r.TrainSeconds:F1} s");
        }
    }
}

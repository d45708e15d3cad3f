using System.Diagnostics;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Tests.Lifelong.Profiles;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// The drift study on the bundled Online Retail data, run by hand (three prequential runs of the tracker, a few minutes):
/// <c>LIFELONGPREFS_MANUAL=1 dotnet test tests/LifelongPrefs.Tests -c Release --filter "FullyQualifiedName~OnlineRetailDriftStudy" --logger "console;verbosity=detailed"</c>.
/// </summary>
public class OnlineRetailDriftStudy(ITestOutputHelper output)
{
    [ManualFact]
    public void Reacting_to_drift_against_reporting_only_on_online_retail()
    {
        var clock = Stopwatch.StartNew();
        InteractionLog log = OnlineRetail.Load(Path.Combine(Repository.Root, OnlineRetail.SamplePath)).Log;
        var start = new DateTimeOffset(2011, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // The sample's tracker (seed 42, count-only batches of 1,024) with the default drift options switched on.
        DriftStudyResult result = DriftStudy.Run(log, start,
            drift => new TrackerOptions { Seed = 42, FlushInterval = Timeout.InfiniteTimeSpan, MicroBatchSize = 1024, Drift = drift },
            new DriftOptions { Enabled = true }, followingWeeks: 2, withoutDetection: true);
        output.WriteLine(result.ToString());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s in all");
        foreach ((PrequentialPeriod on, PrequentialPeriod off) in result.Reacting.Weeks.Zip(result.ReportOnly.Weeks))
        {
            output.WriteLine($"  week {on.Start:yyyy-MM-dd}: reacting {on.Ndcg:F4}, report-only {off.Ndcg:F4} ({on.Baskets} baskets)");
        }

        Assert.Equal(result.Reacting.Baskets, result.ReportOnly.Baskets);   // the same stream, the same baskets evaluated
        Assert.True(result.ReactingTests > 0);
    }
}

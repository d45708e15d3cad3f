using System.Diagnostics;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

/// <summary>A fact that runs only when the environment variable <c>LIFELONGPREFS_MANUAL=1</c> is set (skipped otherwise).</summary>
public sealed class ManualFactAttribute : FactAttribute
{
    /// <summary>Skips the test unless manual runs are asked for.</summary>
    public ManualFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("LIFELONGPREFS_MANUAL") != "1")
        {
            Skip = "A manual run on the bundled data (about a minute): set LIFELONGPREFS_MANUAL=1.";
        }
    }
}

/// <summary>
/// The interest-forecast protocol on the bundled Online Retail data, run by hand:
/// <c>LIFELONGPREFS_MANUAL=1 dotnet test tests/LifelongPrefs.Tests -c Release --filter "FullyQualifiedName~OnlineRetailInterestForecast" --logger "console;verbosity=detailed"</c>.
/// Categories: 20 seeded k-means clusters of a BPR-MF item table trained on the purchases before 2011-06 (items the
/// model never trained on are "uncategorised"), named by the item descriptions.
/// </summary>
public class OnlineRetailInterestForecast(ITestOutputHelper output)
{
    [ManualFact]
    public void Forecast_against_long_term_and_last_30_days_on_online_retail()
    {
        var clock = Stopwatch.StartNew();
        OnlineRetailData data = OnlineRetail.Load(Path.Combine(Repository.Root, OnlineRetail.SamplePath));
        InteractionLog log = data.Log;
        long june = new DateTime(2011, 6, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        Interaction[] before = [.. log.Events.Where(e => e.Ticks < june)];
        var bpr = new BprMf(new BprMfOptions { Dimensions = 32, Seed = 7, MaxEpochs = 40 });
        bpr.Fit(before, log.Users.Count, log.Items.Count);
        float[] table = bpr.Parameters[1].Value.Span.ToArray();
        var trained = new bool[log.Items.Count];
        foreach (Interaction e in before)
        {
            trained[e.Item] = true;
        }

        output.WriteLine($"loaded and trained BPR-MF in {clock.Elapsed.TotalSeconds:F1} s; {trained.Count(t => t)} of {trained.Length} items embedded");
        clock.Restart();
        ItemCategories categories = ItemCategories.FromEmbeddings(table, log.Items.Count, 32, 20, [.. data.ItemDescriptions], new KMeansOptions { Seed = 42 }, trained);
        output.WriteLine($"k-means + naming in {clock.Elapsed.TotalMilliseconds:F0} ms");
        for (int c = 0; c < categories.Count; c++)
        {
            output.WriteLine($"  {c,2} {categories.Names[c]} ({categories.Assignments.Count(c)} items)");
        }

        // The size the issue names: 4,000 rows × 64 dims, k = 20 (random rows: no structure, so Lloyd runs long).
        float[] random = [.. Enumerable.Range(0, 4000 * 64).Select(i => (float)Math.Sin(i * 12.9898) * 43758.5453f % 1f)];
        KMeans.Cluster(random, 4000, 64, 20);
        clock.Restart();
        KMeansResult sized = KMeans.Cluster(random, 4000, 64, 20);
        output.WriteLine($"k-means 4,000 × 64, k = 20, 4 restarts: {clock.Elapsed.TotalMilliseconds:F0} ms ({sized.Iterations} iterations in the kept restart, converged {sized.Converged})");

        clock.Restart();
        UserHistories histories = UserHistories.FromLog(log);
        long[] months = [.. Enumerable.Range(6, 7).Select(m => new DateTime(2011, m, 1, 0, 0, 0, DateTimeKind.Utc).Ticks)];
        InterestForecastReport report = InterestForecastEvaluation.Run(histories, categories, months);
        output.WriteLine($"evaluation in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("month    users  examples  log-loss forecast / long-term / last-30d   NDCG@5 forecast / long-term / last-30d   θ (long, recent, trend, prior, extra)");
        foreach (InterestForecastMonth m in report.Months)
        {
            output.WriteLine($"{new DateTime(m.MonthStartTicks):yyyy-MM}  {m.Users,5}  {m.TrainingExamples,8}  {m.Forecast.LogLoss,8:F4} / {m.LongTerm.LogLoss:F4} / {m.Last30Days.LogLoss:F4}   " +
                $"{m.Forecast.Ndcg:F4} / {m.LongTerm.Ndcg:F4} / {m.Last30Days.Ndcg:F4}   [{string.Join(", ", m.Weights.Select(w => w.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}]");
        }

        output.WriteLine($"mean              {report.Forecast.LogLoss,8:F4} / {report.LongTerm.LogLoss:F4} / {report.Last30Days.LogLoss:F4}   " +
            $"{report.Forecast.Ndcg:F4} / {report.LongTerm.Ndcg:F4} / {report.Last30Days.Ndcg:F4}");
        Assert.Equal(months.Length, report.Months.Count);
    }
}

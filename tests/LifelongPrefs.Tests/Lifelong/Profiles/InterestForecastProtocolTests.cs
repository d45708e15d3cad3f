using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

/// <summary>
/// <see cref="InterestForecastProtocol"/> through a real tracker on a log with a planted interest drift (users move from
/// one category to another over the year): the tracker's forecast must beat both baselines, and its numbers must be the
/// ones the evaluation computes directly on the same histories and the planted categories.
/// </summary>
public class InterestForecastProtocolTests(ITestOutputHelper output)
{
    private const int Categories = 6;
    private const int ItemsPerCategory = 10;

    /// <summary>
    /// Twelve months of 2010; each user has a start category a and a target category b; in month t a purchase is from b
    /// with probability 0.85·min(1, t/9), from a with the rest of 0.85, and from a random category otherwise; eight
    /// purchases a month at random times. Item "c{k}-{j}" is item j of category k.
    /// </summary>
    private static InteractionLog PlantedDrift(int users, int seed)
    {
        var random = new Random(seed);
        var log = new InteractionLog();
        for (int u = 0; u < users; u++)
        {
            int a = random.Next(Categories);
            int b = (a + 1 + random.Next(Categories - 1)) % Categories;
            for (int month = 0; month < 12; month++)
            {
                var start = new DateTimeOffset(2010, month + 1, 1, 0, 0, 0, TimeSpan.Zero);
                double days = (start.AddMonths(1) - start).TotalDays;
                double toB = 0.85 * Math.Min(1.0, month / 9.0);
                double[] times = [.. Enumerable.Range(0, 8).Select(_ => random.NextDouble() * days).Order()];
                foreach (double t in times)
                {
                    double r = random.NextDouble();
                    int c = r < toB ? b : r < 0.85 ? a : random.Next(Categories);
                    log.Add(new InteractionEvent($"u{u}", $"c{c}-{random.Next(ItemsPerCategory)}", start.AddDays(t), EventKind.Purchase, 1 + random.Next(3)));
                }
            }
        }

        return log;
    }

    private static PreferenceTracker Tracker() => new(new TrackerOptions { Seed = 5, MicroBatchSize = 512, FlushInterval = Timeout.InfiniteTimeSpan });

    [Fact]
    public void The_trackers_forecast_beats_long_term_and_last_30_days_on_a_planted_drift()
    {
        InteractionLog log = PlantedDrift(users: 300, seed: 3);
        string?[] catalog = [.. Enumerable.Range(0, log.Items.Count).Select(i => log.Items.GetId(i).Split('-')[0])];
        DateTime july = new(2010, 7, 1, 0, 0, 0, DateTimeKind.Utc);
        var protocol = InterestForecastProtocol.Create(log, july, july.AddMonths(3), catalog);
        Assert.Equal([july, july.AddMonths(1), july.AddMonths(2), july.AddMonths(3)], protocol.Months);

        InterestForecastResult result = protocol.Run(Tracker);

        // The independent computation: the evaluation on the log's histories with the planted categories.
        var planted = ItemCategories.FromCatalog(catalog);
        UserHistories histories = UserHistories.FromLog(log);
        Assert.Equal(4, result.Months.Count);
        foreach (InterestForecastMonthResult m in result.Months)
        {
            output.WriteLine($"{m.Month:yyyy-MM} users {m.Users} categories {m.Categories}  log-loss {m.Tracker.LogLoss:F4} / {m.LongTerm.LogLoss:F4} / {m.Last30Days.LogLoss:F4}  " +
                $"NDCG@5 {m.Tracker.Ndcg:F4} / {m.LongTerm.Ndcg:F4} / {m.Last30Days.Ndcg:F4}");
            Assert.Equal(300, m.Users);
            Assert.Equal(Categories, m.Categories);
            Assert.True(m.Tracker.LogLoss < m.LongTerm.LogLoss, $"{m.Month:yyyy-MM} log-loss {m.Tracker.LogLoss} vs long-term {m.LongTerm.LogLoss}");
            Assert.True(m.Tracker.LogLoss < m.Last30Days.LogLoss, $"{m.Month:yyyy-MM} log-loss {m.Tracker.LogLoss} vs last 30 days {m.Last30Days.LogLoss}");

            InterestForecastMonth direct = InterestForecastEvaluation.Run(histories, planted, [m.Month.Ticks], ProfileOptions.Default).Months[0];
            Assert.Equal(direct.Forecast.LogLoss, m.Tracker.LogLoss, 9);
            Assert.Equal(direct.LongTerm.LogLoss, m.LongTerm.LogLoss, 9);
            Assert.Equal(direct.Last30Days.LogLoss, m.Last30Days.LogLoss, 9);
        }

        Assert.True(result.Tracker.Ndcg > result.LongTerm.Ndcg, $"NDCG {result.Tracker.Ndcg} vs long-term {result.LongTerm.Ndcg}");
        Assert.True(result.Tracker.Ndcg > result.Last30Days.Ndcg, $"NDCG {result.Tracker.Ndcg} vs last 30 days {result.Last30Days.Ndcg}");
        Assert.Equal(result.Months.Average(m => m.Tracker.LogLoss), result.Tracker.LogLoss, 12);
    }

    [Fact]
    public void Without_a_catalog_the_categories_are_the_trackers_clusters_and_bad_arguments_are_named()
    {
        InteractionLog log = PlantedDrift(users: 60, seed: 4);
        DateTime december = new(2010, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        InterestForecastResult result = InterestForecastProtocol.Create(log, december, december).Run(Tracker);
        InterestForecastMonthResult month = Assert.Single(result.Months);
        Assert.Equal(60, month.Users);
        Assert.InRange(month.Categories, 2, new TrackerOptions().CategoryCount + 1);
        Assert.True(double.IsFinite(month.Tracker.LogLoss) && double.IsFinite(month.LongTerm.Ndcg));

        Assert.Equal("last", Assert.Throws<ArgumentOutOfRangeException>(() => InterestForecastProtocol.Create(log, december, december.AddMonths(-1))).ParamName);
        Assert.Equal("itemCategories", Assert.Throws<ArgumentException>(() => InterestForecastProtocol.Create(log, december, december, ["c0"])).ParamName);
        string?[] empty = [.. Enumerable.Repeat<string?>("c", log.Items.Count)];
        empty[1] = string.Empty;
        Assert.Equal("itemCategories", Assert.Throws<ArgumentException>(() => InterestForecastProtocol.Create(log, december, december, empty)).ParamName);
        Assert.Equal("createTracker", Assert.Throws<ArgumentNullException>(() => InterestForecastProtocol.Create(log, december, december).Run(null!)).ParamName);
    }
}

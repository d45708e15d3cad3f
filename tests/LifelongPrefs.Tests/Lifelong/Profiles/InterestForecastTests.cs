using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

public class InterestForecastTests(ITestOutputHelper output)
{
    private const int Categories = 6;
    private const int ItemsPerCategory = 10;

    private static readonly ItemCategories SixCategories = ItemCategories.FromAssignments(
        [.. Enumerable.Range(0, Categories * ItemsPerCategory).Select(i => i / ItemsPerCategory)], [.. Enumerable.Range(0, Categories).Select(c => $"c{c}")]);

    /// <summary>
    /// A generated log with a planted interest trend: twelve months of 2010; each user has a start category a and a
    /// target category b; in month t a purchase is from b with probability 0.85·min(1, t/9), from a with the rest of
    /// 0.85, and from a uniformly random category otherwise; eight purchases a month at random times.
    /// </summary>
    internal static UserHistories PlantedTrend(int users, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int u = 0; u < users; u++)
        {
            int a = random.Next(Categories);
            int b = (a + 1 + random.Next(Categories - 1)) % Categories;
            for (int month = 0; month < 12; month++)
            {
                long start = new DateTime(2010, month + 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
                long length = new DateTime(2010, month + 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1).Ticks - start;
                double toB = 0.85 * Math.Min(1.0, month / 9.0);
                var times = new long[8];
                for (int i = 0; i < times.Length; i++)
                {
                    times[i] = start + (long)(random.NextDouble() * length);
                }

                Array.Sort(times);
                foreach (long t in times)
                {
                    double r = random.NextDouble();
                    int c = r < toB ? b : r < 0.85 ? a : random.Next(Categories);
                    events.Add(new Interaction(u, c * ItemsPerCategory + random.Next(ItemsPerCategory), t, EventKind.Purchase, 1 + random.Next(3), 0, -1));
                }
            }
        }

        return UserHistories.FromEvents(events, users);
    }

    private static long Month(int month) => new DateTime(2010, month, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    [Fact]
    public void The_forecast_beats_long_term_and_last_30_days_on_a_planted_trend()
    {
        UserHistories histories = PlantedTrend(users: 300, seed: 3);
        InterestForecastReport report = InterestForecastEvaluation.Run(histories, SixCategories, [Month(7), Month(8), Month(9), Month(10)]);

        Assert.Equal(4, report.Months.Count);
        foreach (InterestForecastMonth m in report.Months)
        {
            output.WriteLine($"{new DateTime(m.MonthStartTicks):yyyy-MM} users {m.Users} examples {m.TrainingExamples} θ [{string.Join(", ", m.Weights.Select(w => w.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}]  " +
                $"log-loss {m.Forecast.LogLoss:F4} / {m.LongTerm.LogLoss:F4} / {m.Last30Days.LogLoss:F4}  NDCG@5 {m.Forecast.Ndcg:F4} / {m.LongTerm.Ndcg:F4} / {m.Last30Days.Ndcg:F4}");
            Assert.Equal(300, m.Users);
            Assert.True(m.Forecast.LogLoss < m.LongTerm.LogLoss, $"log-loss {m.Forecast.LogLoss} vs long-term {m.LongTerm.LogLoss}");
            Assert.True(m.Forecast.LogLoss < m.Last30Days.LogLoss, $"log-loss {m.Forecast.LogLoss} vs last 30 days {m.Last30Days.LogLoss}");
        }

        // The protocol's fit for a month is the one a tracker would make at that month's start.
        Assert.Equal(report.Months[^1].Weights, InterestForecaster.FitOnHistories(histories, SixCategories, Month(10)).Weights.ToArray());

        Assert.True(report.Forecast.Ndcg > report.LongTerm.Ndcg, $"NDCG {report.Forecast.Ndcg} vs long-term {report.LongTerm.Ndcg}");
        Assert.True(report.Forecast.Ndcg > report.Last30Days.Ndcg, $"NDCG {report.Forecast.Ndcg} vs last 30 days {report.Last30Days.Ndcg}");
    }

    [Fact]
    public void Fitting_recovers_the_exponents_that_generated_the_targets()
    {
        // Targets made by a known blend of random features: the log-loss minimiser is that blend itself.
        double[] planted = [0.8, 1.4, -0.3, 0.5, 0.0];
        var random = new Random(4);
        var examples = new ForecastExamples(Categories);
        var features = new float[InterestForecaster.FeatureCount * Categories];
        var target = new float[Categories];
        for (int n = 0; n < 400; n++)
        {
            for (int i = 0; i < features.Length; i++)
            {
                // The extra slot stays zero, as when no extra distribution is given.
                features[i] = i / Categories == InterestForecaster.Extra ? 0f : (float)(random.NextDouble() * -4);
            }

            Blend(planted, features, target);
            examples.Add(features, target);
        }

        InterestForecaster fitted = InterestForecaster.Fit(examples, ridge: 0);
        for (int k = 0; k < InterestForecaster.FeatureCount; k++)
        {
            Assert.Equal(planted[k], fitted.Weights[k], 3);
        }

        // Deterministic: no random choice in the fit.
        Assert.Equal(fitted.Weights.ToArray(), InterestForecaster.Fit(examples, ridge: 0).Weights.ToArray());
    }

    /// <summary>The unsmoothed softmax blend, written out independently of the forecaster.</summary>
    private static void Blend(double[] theta, float[] features, float[] destination)
    {
        var scores = new double[Categories];
        for (int c = 0; c < Categories; c++)
        {
            for (int k = 0; k < theta.Length; k++)
            {
                scores[c] += theta[k] * features[k * Categories + c];
            }
        }

        double max = scores.Max();
        double sum = scores.Sum(s => Math.Exp(s - max));
        for (int c = 0; c < Categories; c++)
        {
            destination[c] = (float)(Math.Exp(scores[c] - max) / sum);
        }
    }

    [Fact]
    public void A_forecast_is_a_smoothed_distribution_and_an_empty_history_gives_the_prior_blend()
    {
        UserHistories histories = PlantedTrend(users: 20, seed: 1);
        var prior = new float[Categories];
        InterestForecaster.GlobalPrior(histories, SixCategories, Month(6), ProfileOptions.Default, prior);
        var forecast = new float[Categories];
        var forecaster = new InterestForecaster([0.3, 0.9, 0.2, 0.4, 0]);

        forecaster.Predict(histories.EventsOf(0), SixCategories, Month(6), TimeSpan.FromDays(30), ProfileOptions.Default, prior, default, forecast);
        Assert.Equal(1.0, forecast.Sum(p => (double)p), 5);
        Assert.All(forecast, p => Assert.True(p >= InterestForecaster.OutputSmoothing / Categories - 1e-7));

        // Without history every component is the (smoothed) prior, so the blend is the prior raised to Σθ, renormalised.
        forecaster.Predict([], SixCategories, Month(6), TimeSpan.FromDays(30), ProfileOptions.Default, prior, default, forecast);
        double[] smoothedPrior = [.. prior.Select(p => 0.99 * p + 0.01 / Categories)];
        double[] powered = [.. smoothedPrior.Select(p => Math.Pow(p, 1.8))];
        for (int c = 0; c < Categories; c++)
        {
            double expected = 0.99 * powered[c] / powered.Sum() + 0.01 / Categories;
            Assert.Equal(expected, forecast[c], 4);
        }
    }

    [Fact]
    public void The_forecast_reads_nothing_at_or_after_its_time()
    {
        UserHistories histories = PlantedTrend(users: 5, seed: 2);
        ReadOnlySpan<Interaction> full = histories.EventsOf(3);
        int cut = InterestProfiles.FirstAtOrAfter(full, Month(8));
        var prior = new float[Categories];
        prior.AsSpan().Fill(1f / Categories);
        var withFuture = new float[Categories];
        var withoutFuture = new float[Categories];
        InterestForecaster.Default.Predict(full, SixCategories, Month(8), TimeSpan.FromDays(30), ProfileOptions.Default, prior, default, withFuture);
        InterestForecaster.Default.Predict(full[..cut], SixCategories, Month(8), TimeSpan.FromDays(30), ProfileOptions.Default, prior, default, withoutFuture);

        Assert.Equal(withoutFuture, withFuture);
    }

    [Fact]
    public void Bad_input_throws_naming_the_argument()
    {
        var prior = new float[Categories];
        prior.AsSpan().Fill(1f / Categories);
        var forecast = new float[Categories];
        var options = ProfileOptions.Default;
        InterestForecaster f = InterestForecaster.Default;
        Assert.Equal("horizon", Assert.Throws<ArgumentOutOfRangeException>(() => f.Predict([], SixCategories, 0, TimeSpan.Zero, options, prior, default, forecast)).ParamName);
        Assert.Equal("prior", Assert.Throws<ArgumentException>(() => f.Predict([], SixCategories, 0, TimeSpan.FromDays(1), options, [], default, forecast)).ParamName);
        Assert.Equal("extra", Assert.Throws<ArgumentException>(() => f.Predict([], SixCategories, 0, TimeSpan.FromDays(1), options, prior, new float[Categories], forecast)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => f.Predict([], SixCategories, 0, TimeSpan.FromDays(1), options, prior, default, new float[3])).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => f.Predict(new float[7], forecast)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => new InterestForecaster([1.0, double.NaN, 0, 0, 0])).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => new ForecastExamples(Categories).Add(new float[InterestForecaster.FeatureCount * Categories], new float[Categories])).ParamName);
        Assert.Equal("ridge", Assert.Throws<ArgumentOutOfRangeException>(() => InterestForecaster.Fit(new ForecastExamples(2), ridge: -1)).ParamName);
        Assert.Equal("monthStarts", Assert.Throws<ArgumentException>(() => InterestForecastEvaluation.Run(new UserHistories(1), SixCategories, [Month(3) + 1])).ParamName);
    }

    [Fact]
    public void Ndcg_and_log_loss_match_hand_computed_values()
    {
        float[] target = [0.5f, 0.5f, 0f];
        Assert.Equal(-Math.Log(0.25), InterestForecastEvaluation.LogLoss([0.25f, 0.25f, 0.5f], target), 6);

        // Ranked 2, 0, 1: DCG = 0 + 0.5/log2 3 + 0.5/2; ideal = 0.5 + 0.5/log2 3.
        double dcg = 0.5 / Math.Log2(3) + 0.5 / 2;
        double ideal = 0.5 + 0.5 / Math.Log2(3);
        Assert.Equal(dcg / ideal, InterestForecastEvaluation.Ndcg([0.3f, 0.2f, 0.5f], target, 5), 6);
        Assert.Equal(1.0, InterestForecastEvaluation.Ndcg([0.3f, 0.3f, 0.1f], target, 2), 9);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

public class PropensityMlpTests
{
    private const long Day = TimeSpan.TicksPerDay;

    /// <summary>
    /// Every user has three "staple" items (their own, drawn from a 40-item catalog) that they buy in almost every
    /// weekly basket, plus two random catalog items per basket. The question a propensity model must answer:
    /// which items will be in the next basket? The staples, which a top-3 list picks by chance only 3/40 of the time.
    /// </summary>
    private static (List<Interaction> Events, List<int[]> Staples) Staples(int users, int firstUser, int items, int firstItem,
        int baskets, long startDay, int seed)
    {
        var random = new Random(seed);
        var staples = new List<int[]>();
        var events = new List<(long Ticks, Interaction E)>();
        int basketId = firstUser * 1000;
        for (int u = 0; u < users; u++)
        {
            int[] own = [.. Enumerable.Range(firstItem, items).OrderBy(_ => random.Next()).Take(3)];
            staples.Add(own);
            for (int b = 0; b < baskets; b++)
            {
                long ticks = (startDay + b * 7) * Day + u * 60 * TimeSpan.TicksPerSecond;
                var basket = new HashSet<int>();
                foreach (int item in own)
                {
                    if (random.NextDouble() < 0.9)
                    {
                        basket.Add(item);
                    }
                }

                basket.Add(firstItem + random.Next(items));
                basket.Add(firstItem + random.Next(items));
                foreach (int item in basket)
                {
                    events.Add((ticks, new Interaction(firstUser + u, item, ticks, EventKind.Purchase, 1f, 2f, basketId)));
                }

                basketId++;
            }
        }

        return ([.. events.OrderBy(t => t.Ticks).Select(t => t.E)], staples);
    }

    private static PropensityMlpOptions Small(int seed = 7, int maxEpochs = 15) => new() { Hidden1 = 16, Hidden2 = 8, MaxEpochs = maxEpochs, Patience = 15,
        BatchSize = 64, LearningRate = 0.01f, ValidationUsers = 10, Seed = seed };

    /// <summary>Share of each user's top-3 items that are their staples (chance ≈ 3/40).</summary>
    private static double StapleShare(PropensityMlp model, List<Interaction> events, List<int[]> staples, int firstUser)
    {
        var scores = new float[model.ItemCount];
        int hits = 0;
        for (int u = 0; u < staples.Count; u++)
        {
            Interaction[] history = [.. events.Where(e => e.User == firstUser + u)];
            model.Score(firstUser + u, history, scores);
            foreach (int item in Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(3))
            {
                hits += staples[u].Contains(item) ? 1 : 0;
            }
        }

        return hits / (3.0 * staples.Count);
    }

    [Fact]
    public void Learns_repeat_purchases_far_above_chance_deterministically_and_reports_classification_metrics()
    {
        var (events, staples) = Staples(40, 0, 40, 0, 5, 0, 1);
        var model = new PropensityMlp(Small());
        var reports = new List<TrainingProgress>();
        model.Fit(events, 40, 40, new SynchronousProgress(reports));

        Assert.Equal(40, model.ItemCount);
        Assert.True(StapleShare(model, events, staples, 0) > 0.8, $"staple share {StapleShare(model, events, staples, 0)}");
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && r.ValidationMetric is >= 0 and <= 1));

        // The held-out baskets are mostly staples, which the features reveal: AUC well above 0.5.
        PropensityClassificationReport? report = model.HoldoutClassification;
        Assert.NotNull(report);
        Assert.True(report.Auc > 0.8, $"AUC {report.Auc}");
        Assert.InRange(report.Accuracy, 0, 1);
        Assert.InRange(report.F1, 0, 1);
        Assert.True(report.Examples > 0);

        // Same seed → bit-identical scores; another seed → different weights.
        var twin = new PropensityMlp(Small());
        twin.Fit(events, 40, 40);
        var other = new PropensityMlp(Small(seed: 8));
        other.Fit(events, 40, 40);
        Interaction[] history = [.. events.Where(e => e.User == 3)];
        float[] a = new float[40], b = new float[40], c = new float[40];
        model.Score(3, history, a);
        twin.Score(3, history, b);
        other.Score(3, history, c);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Scores_a_user_it_never_trained_on_from_their_history()
    {
        var (events, _) = Staples(40, 0, 40, 0, 5, 0, 1);
        var model = new PropensityMlp(Small());
        model.Fit(events, 41, 40); // user 40 exists in the id map but has no training events

        // A fresh user who bought items 5 and 9 in each of four weekly baskets (as long a history as the training
        // users had before their label baskets): those two must top the ranking.
        var history = new List<Interaction>();
        for (int b = 0; b < 4; b++)
        {
            long t = (40 + 7 * b) * Day;
            history.Add(new(40, 5, t, EventKind.Purchase, 1f, 2f, 90_000 + b));
            history.Add(new(40, 9, t, EventKind.Purchase, 1f, 2f, 90_000 + b));
        }

        var scores = new float[40];
        model.Score(40, [.. history], scores);
        int[] top = [.. Enumerable.Range(0, 40).OrderByDescending(i => scores[i]).Take(2).Order()];
        Assert.Equal([5, 9], top);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));

        // Without history the user still gets finite scores (item popularity only).
        model.Score(40, [], scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Update_grows_for_new_users_and_items_and_keeps_working()
    {
        var (events, staples) = Staples(40, 0, 40, 0, 5, 0, 1);
        var model = new PropensityMlp(Small());
        model.Fit(events, 40, 40);

        // 20 new users whose staples are among 20 new items (40..59), arriving after the training period.
        var (newEvents, newStaples) = Staples(20, 40, 20, 40, 4, 60, 2);
        model.Update(newEvents, 60, 60);

        Assert.Equal(60, model.ItemCount);
        Assert.True(StapleShare(model, newEvents, newStaples, 40) > 0.8, $"new staple share {StapleShare(model, newEvents, newStaples, 40)}");
        // Old users keep working with the grown catalog.
        Assert.True(StapleShare(model, events, staples, 0) > 0.8);
        Assert.Throws<ArgumentException>("scores", () => model.Score(0, [], new float[40]));
    }

    [Fact]
    public void Features_are_computed_as_of_the_given_time_by_hand()
    {
        // User 0 buys item 2 on day 0 and day 10 (two baskets), item 1 on day 10; user 1 buys item 2 on day 5.
        var features = new PropensityFeatures(2, 3, TimeSpan.FromDays(7));
        features.Observe(new Interaction(0, 2, 0, EventKind.Purchase, 1f, 3f, 0));
        features.Observe(new Interaction(1, 2, 5 * Day, EventKind.Purchase, 2f, 1f, 1));
        features.Observe(new Interaction(0, 2, 10 * Day, EventKind.Purchase, 1f, 3f, 2));
        features.Observe(new Interaction(0, 1, 10 * Day, EventKind.Purchase, 1f, 4f, 2));
        features.Advance(20 * Day);
        var row = new float[PropensityFeatures.Width];

        features.WriteRow(features.User(0), 2, 20 * Day, row);
        float[] expected =
        [
            MathF.Log(1 + 10f), MathF.Log(1 + 2f), MathF.Log(1 + 10f), MathF.Log(1 + 2f), // recency 10 d, 2 baskets, spend 10, 2 items
            MathF.Log(1 + 3f), MathF.Log(1 + 2f), MathF.Log(1 + 0f), MathF.Log(1 + 10f), // 3 buys, 2 buyers, none in last 7 d, last 10 d ago
            MathF.Log(1 + 2f), MathF.Log(1 + 10f), 1f, 1f, 1f, // in 2 baskets, 10 d ago, share 2/2, ever, in last basket
        ];
        Assert.Equal(expected, row, new FloatTolerance(1e-6f));

        // Item 0 was never bought by anyone; user 1 has one basket without item 1.
        features.WriteRow(features.User(1), 0, 20 * Day, row);
        float never = MathF.Log(1 + PropensityFeatures.NeverDays);
        Assert.Equal(
            [MathF.Log(1 + 15f), MathF.Log(2f), MathF.Log(3f), MathF.Log(2f), 0f, 0f, 0f, never, 0f, never, 0f, 0f, 0f],
            row, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Rejects_bad_options_events_and_counts_leaving_the_model_unchanged()
    {
        Assert.Throws<ArgumentOutOfRangeException>("Hidden1", () => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>("Dropout", () => new PropensityMlp(new PropensityMlpOptions { Dropout = 1f }));
        Assert.Throws<ArgumentOutOfRangeException>("BatchSize", () => new PropensityMlp(new PropensityMlpOptions { BatchSize = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>("LearningRate", () => new PropensityMlp(new PropensityMlpOptions { LearningRate = float.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>("NegativesPerPositive", () => new PropensityMlp(new PropensityMlpOptions { NegativesPerPositive = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>("Patience", () => new PropensityMlp(new PropensityMlpOptions { Patience = 0 }));

        var (events, _) = Staples(20, 0, 20, 0, 4, 0, 3);
        var model = new PropensityMlp(Small(maxEpochs: 3));
        List<Interaction> bad = [.. events, new Interaction(0, 20, 1000 * Day, EventKind.Purchase, 1f, 1f, 5)];
        Assert.Throws<ArgumentException>("events", () => model.Fit(bad, 20, 20));
        Assert.Equal(0, model.ItemCount); // nothing was fitted

        model.Fit(events, 20, 20);
        Interaction[] history = [.. events.Where(e => e.User == 1)];
        float[] before = new float[20], after = new float[20];
        model.Score(1, history, before);
        Assert.Throws<ArgumentException>("newEvents", () => model.Update(bad, 20, 20));
        Assert.Throws<ArgumentException>("userCount", () => model.Update([], 19, 20));
        Assert.Throws<ArgumentException>("itemCount", () => model.Update([], 20, 19));
        model.Score(1, history, after);
        Assert.Equal(before, after);
        Assert.Equal(20, model.ItemCount);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => MathF.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}

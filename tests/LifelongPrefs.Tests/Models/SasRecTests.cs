using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

public class SasRecTests
{
    private const int Items = 10;

    /// <summary>
    /// A purely sequential pattern: every user walks the cycle 0 → 1 → … → 9 → 0 from a random start, one item per
    /// basket. Every item is equally popular, so only the order tells the next item: chance top-1 accuracy is 1/10.
    /// </summary>
    private static List<Interaction> Cycles(int users, int length, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int u = 0; u < users; u++)
        {
            int item = random.Next(Items);
            for (int k = 0; k < length; k++)
            {
                events.Add(new Interaction(u, item, events.Count, EventKind.Purchase, 1f, 1f, events.Count));
                item = (item + 1) % Items;
            }
        }

        return events;
    }

    private static Interaction[] History(int user, params int[] items)
    {
        var history = new Interaction[items.Length];
        for (int k = 0; k < items.Length; k++)
        {
            history[k] = new Interaction(user, items[k], k, EventKind.Purchase, 1f, 1f, k);
        }

        return history;
    }

    private static SasRecOptions Small(SasRecLoss loss = SasRecLoss.FullSoftmax, int seed = 5, int maxEpochs = 25, int updateEpochs = 3,
        float dropout = 0f, int patience = 1, int validationUsers = 0) =>
        new() { Dimensions = 16, Blocks = 1, Heads = 2, MaxLength = 8, Dropout = dropout, MaxEpochs = maxEpochs, UpdateEpochs = updateEpochs,
            BatchSize = 16, LearningRate = 0.01f, Loss = loss, Patience = patience, ValidationUsers = validationUsers, Seed = seed };

    /// <summary>Top-1 accuracy of predicting the successor of a random 4-item walk, for a user the model never saw.</summary>
    private static double NextItemAccuracy(SasRec model, int user)
    {
        var scores = new float[model.ItemCount];
        int hits = 0;
        for (int start = 0; start < Items; start++)
        {
            int[] walk = [start, (start + 1) % Items, (start + 2) % Items, (start + 3) % Items];
            model.Score(user, History(user, walk), scores);
            int best = 0;
            for (int i = 1; i < Items; i++)
            {
                best = scores[i] > scores[best] ? i : best;
            }

            hits += best == (start + 4) % Items ? 1 : 0;
        }

        return hits / (double)Items;
    }

    [Theory]
    [InlineData(SasRecLoss.FullSoftmax)]
    [InlineData(SasRecLoss.BinaryCrossEntropy)]
    [InlineData(SasRecLoss.SampledSoftmax)]
    public void Learns_the_next_item_of_a_cycle_far_above_chance(SasRecLoss loss)
    {
        List<Interaction> events = Cycles(48, 8, 1);
        var model = new SasRec(Small(loss, maxEpochs: loss == SasRecLoss.BinaryCrossEntropy ? 60 : 25));
        model.Fit(events, 48, Items);

        // Scored as an unseen user (index 48 is past the trained users): a user is their history.
        Assert.True(NextItemAccuracy(model, 48) >= 0.8, $"accuracy {NextItemAccuracy(model, 48)} (chance 0.1)");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_scores_and_another_seed_does_not()
    {
        List<Interaction> events = Cycles(20, 6, 2);
        float[] Run(int seed)
        {
            var model = new SasRec(Small(seed: seed, maxEpochs: 3, dropout: 0.2f));
            model.Fit(events, 20, Items);
            var scores = new float[Items];
            model.Score(0, History(0, 3, 4, 5), scores);
            return scores;
        }

        float[] a = Run(7), b = Run(7), c = Run(8);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Fit_with_validation_reports_progress_and_keeps_a_finite_best_epoch()
    {
        List<Interaction> events = Cycles(40, 8, 3);
        var reports = new List<TrainingProgress>();
        var model = new SasRec(Small(maxEpochs: 6, patience: 2, validationUsers: 10));
        model.Fit(events, 40, Items, new SyncProgress(reports));

        Assert.InRange(reports.Count, 1, 6);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.ValidationMetric) && r.ValidationMetric is >= 0 and <= 1));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.Equal(Enumerable.Range(1, reports.Count), reports.Select(r => r.Epoch));
    }

    [Theory]
    [InlineData(SasRecLoss.FullSoftmax)]
    [InlineData(SasRecLoss.SampledSoftmax)]
    public void Update_grows_for_new_items_and_users_and_learns_them(SasRecLoss loss)
    {
        // With the sampled softmax the sampler grows too: new items must be drawable as negatives and have a finite log Q.
        // It needs more update passes (20 new rows = 2 steps per pass): the new items start with count 0, so their small
        // Q lifts their logQ-corrected logit and shrinks the gradient that would raise them (3 passes rank item 10 low).
        List<Interaction> events = Cycles(30, 8, 4);
        var model = new SasRec(Small(loss, updateEpochs: loss == SasRecLoss.SampledSoftmax ? 10 : 3));
        model.Fit(events, 30, Items);

        // New items 10 and 11 always follow 9 → 10 → 11 for a batch of new users.
        var fresh = new List<Interaction>();
        for (int u = 30; u < 50; u++)
        {
            foreach (int item in new[] { 7, 8, 9, 10, 11 })
            {
                fresh.Add(new Interaction(u, item, 1000 + fresh.Count, EventKind.Purchase, 1f, 1f, 1000 + fresh.Count));
            }
        }

        model.Update(fresh, 50, Items + 2);
        Assert.Equal(Items + 2, model.ItemCount);

        var scores = new float[Items + 2];
        model.Score(60, History(60, 7, 8, 9), scores);   // a user index never seen at all
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        Assert.Equal(10, Array.IndexOf(scores, scores.Max()));

        // The old pattern still works.
        model.Score(0, History(0, 1, 2, 3), scores);
        Assert.Equal(4, Array.IndexOf(scores, scores.Max()));
    }

    [Fact]
    public void Empty_history_gives_finite_scores()
    {
        var model = new SasRec(Small(maxEpochs: 2));
        model.Fit(Cycles(10, 5, 5), 10, Items);
        var scores = new float[Items];
        model.Score(3, [], scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Theory]
    [InlineData(SasRecLoss.FullSoftmax)]
    [InlineData(SasRecLoss.BinaryCrossEntropy)]
    [InlineData(SasRecLoss.SampledSoftmax)]
    public void Shared_table_learns_through_the_output_path_and_padding_stays_zero(SasRecLoss loss)
    {
        // Walks a, a+1, …, 9: item 9 is always last, so it is never an input and its row (row 10, after the padding
        // row) can only change through the output scoring's gradient dE += dLogitsᵀ·H.
        var random = new Random(9);
        var events = new List<Interaction>();
        for (int u = 0; u < 12; u++)
        {
            for (int item = random.Next(6); item < Items; item++)
            {
                events.Add(new Interaction(u, item, events.Count, EventKind.Purchase, 1f, 1f, events.Count));
            }
        }

        float[] Table(int epochs)
        {
            var model = new SasRec(Small(loss, maxEpochs: epochs));
            model.Fit(events, 12, Items);
            return model.NamedParameters.Single(p => p.Key == "items.weight").Value.Value.Span.ToArray();
        }

        float[] initial = Table(0), trained = Table(2);
        const int d = 16;
        Assert.All(trained.AsSpan(0, d).ToArray(), v => Assert.Equal(0f, v));
        Assert.NotEqual(initial.AsSpan(10 * d, d).ToArray(), trained.AsSpan(10 * d, d).ToArray());
    }

    [Fact]
    public void Steady_state_scoring_allocates_nothing()
    {
        var model = new SasRec(Small(maxEpochs: 1));
        model.Fit(Cycles(10, 5, 7), 10, Items);
        var scores = new float[Items];
        Interaction[] history = History(2, 1, 2, 3, 4);
        Assert.Equal(0, Allocations.Measure(() => model.Score(2, history, scores)));
    }

    [Theory]
    [InlineData("Dimensions")]
    [InlineData("Heads")]
    [InlineData("MaxLength")]
    [InlineData("Dropout")]
    [InlineData("MaxEpochs")]
    [InlineData("BatchSize")]
    [InlineData("LearningRate")]
    [InlineData("Loss")]
    [InlineData("Negatives")]
    [InlineData("Patience")]
    public void Bad_options_throw_naming_the_option(string name)
    {
        SasRecOptions bad = name switch
        {
            "Dimensions" => new SasRecOptions { Dimensions = 0 },
            "Heads" => new SasRecOptions { Dimensions = 64, Heads = 3 },
            "MaxLength" => new SasRecOptions { MaxLength = 0 },
            "Dropout" => new SasRecOptions { Dropout = 1f },
            "MaxEpochs" => new SasRecOptions { MaxEpochs = -1 },
            "BatchSize" => new SasRecOptions { BatchSize = 0 },
            "LearningRate" => new SasRecOptions { LearningRate = float.NaN },
            "Loss" => new SasRecOptions { Loss = (SasRecLoss)7 },
            "Negatives" => new SasRecOptions { Loss = SasRecLoss.SampledSoftmax, Negatives = 0 },
            _ => new SasRecOptions { Patience = -1 },
        };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SasRec(bad));
        Assert.Equal(name, ex.ParamName);
    }

    [Fact]
    public void Bad_events_and_counts_throw_and_leave_the_model_unchanged()
    {
        List<Interaction> events = Cycles(12, 6, 6);
        var model = new SasRec(Small(maxEpochs: 2));

        var outside = new List<Interaction>(events) { new(3, Items, 999, EventKind.Purchase, 1f, 1f, 999) };
        Assert.Equal("events", Assert.Throws<ArgumentException>(() => model.Fit(outside, 12, Items)).ParamName);
        Assert.Equal(0, model.ItemCount);

        model.Fit(events, 12, Items);
        var before = new float[Items];
        model.Score(0, History(0, 2, 3), before);

        Assert.Equal("newEvents", Assert.Throws<ArgumentException>(() => model.Update(outside, 12, Items)).ParamName);
        Assert.Equal("itemCount", Assert.Throws<ArgumentException>(() => model.Update([], 12, Items - 1)).ParamName);
        Assert.Equal("userCount", Assert.Throws<ArgumentException>(() => model.Update([], 11, Items)).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => model.Score(0, [], new float[Items + 1])).ParamName);

        var after = new float[Items];
        model.Score(0, History(0, 2, 3), after);
        Assert.Equal(Items, model.ItemCount);
        Assert.Equal(before, after);
    }

    private sealed class SyncProgress(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}

using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

public class Gru4RecTests
{
    private const int Items = 30;

    /// <summary>
    /// A successor pattern: each user starts at a random item and walks item → (item + 1) mod 30, so the next item
    /// is fully determined by the last one. A model that learned it ranks the successor first; chance is 1/30.
    /// Every event is its own basket, so the model's validation holds out each sampled user's last item.
    /// </summary>
    private static List<Interaction> Walks(int firstUser, int users, int seed, int items = Items, int itemOffset = 0)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int u = firstUser; u < firstUser + users; u++)
        {
            int item = random.Next(items), length = 6 + random.Next(7);
            for (int k = 0; k < length; k++)
            {
                events.Add(new Interaction(u, itemOffset + item, events.Count, EventKind.Purchase, 1f, 1f, events.Count));
                item = (item + 1) % items;
            }
        }

        return events;
    }

    private static Gru4RecOptions Small(Gru4RecLoss loss = Gru4RecLoss.FullSoftmax, bool tie = false, int seed = 5, int maxEpochs = 40,
        int updateEpochs = 40) =>
        new() { Dimensions = 16, HiddenSize = 16, MaxLength = 8, MaxEpochs = maxEpochs, UpdateEpochs = updateEpochs, BatchSize = 16,
            LearningRate = 0.02f, TieOutput = tie, Loss = loss, Negatives = 12, Patience = 40, ValidationUsers = 10, Seed = seed };

    /// <summary>Share of last items (each of the 30) whose successor the model ranks first, from a two-item history.</summary>
    private static double SuccessorHitRate(Gru4Rec model, int user)
    {
        var scores = new float[model.ItemCount];
        int hits = 0;
        for (int last = 0; last < Items; last++)
        {
            int previous = (last + Items - 1) % Items;
            Interaction[] history =
            [
                new(user, previous, 0, EventKind.Purchase, 1f, 1f, 0),
                new(user, last, 1, EventKind.Purchase, 1f, 1f, 1),
            ];
            model.Score(user, history, scores);
            int best = 0;
            for (int i = 1; i < Items; i++)
            {
                best = scores[i] > scores[best] ? i : best;
            }

            hits += best == (last + 1) % Items ? 1 : 0;
        }

        return (double)hits / Items;
    }

    [Theory]
    [InlineData(Gru4RecLoss.FullSoftmax, false)]
    [InlineData(Gru4RecLoss.FullSoftmax, true)]
    [InlineData(Gru4RecLoss.SampledSoftmax, false)]
    public void Learns_the_successor_pattern_far_above_chance(Gru4RecLoss loss, bool tie)
    {
        List<Interaction> events = Walks(0, 60, 1);
        var reports = new List<TrainingProgress>();
        var model = new Gru4Rec(Small(loss, tie));
        model.Fit(events, 60, Items, new SyncProgress(reports));

        double hitRate = SuccessorHitRate(model, 3);
        Assert.True(hitRate >= 0.6, $"successor ranked first for {hitRate:P0} of items (chance {1.0 / Items:P1})");
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && r.ValidationMetric is >= 0 and <= 1, r.ToString()));
        Assert.True(reports[^1].Loss < reports[0].Loss, $"loss went from {reports[0].Loss} to {reports[^1].Loss}");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_scores_and_another_seed_differs()
    {
        List<Interaction> events = Walks(0, 30, 2);
        Gru4RecOptions options = Small(maxEpochs: 3);
        float[] Run(Gru4RecOptions o)
        {
            var model = new Gru4Rec(o);
            model.Fit(events, 30, Items);
            var scores = new float[Items];
            model.Score(4, events.Where(e => e.User == 4).ToArray(), scores);
            return scores;
        }

        float[] first = Run(options);
        Assert.Equal(first, Run(options));
        Assert.NotEqual(first, Run(Small(seed: 6, maxEpochs: 3)));
    }

    [Fact]
    public void An_empty_history_scores_the_item_biases()
    {
        // The zero GRU state gives h · W = 0, so the scores are exactly the output bias (the popularity prior).
        var model = new Gru4Rec(Small(maxEpochs: 2));
        model.Fit(Walks(0, 20, 3), 25, Items);
        var scores = new float[Items];
        model.Score(24, [], scores); // user 24 never appeared in training
        Assert.Equal(model.Parameters[^1].Value.Span.ToArray(), scores);
        Assert.Contains(scores, s => s != 0f);
    }

    [Fact]
    public void Score_allocates_nothing_after_the_first_call()
    {
        List<Interaction> events = Walks(0, 20, 8);
        var model = new Gru4Rec(Small(maxEpochs: 1));
        model.Fit(events, 20, Items);
        Interaction[] history = events.Where(e => e.User == 1).ToArray();
        var scores = new float[Items];
        Interaction[] none = [];
        Assert.Equal(0, Allocations.Measure(() =>
        {
            model.Score(1, history, scores);
            model.Score(2, none, scores);
        }));
    }

    [Fact]
    public void Update_grows_for_new_users_and_items_and_learns_them()
    {
        var model = new Gru4Rec(Small(updateEpochs: 15));
        model.Fit(Walks(0, 60, 4), 60, Items);
        Assert.Equal(Items, model.ItemCount);

        // Five new items 30..34 walked in a cycle of their own by 20 new users.
        List<Interaction> fresh = Walks(60, 20, 5, items: 5, itemOffset: Items);
        model.Update(fresh, 81, Items + 5);
        Assert.Equal(Items + 5, model.ItemCount);
        Assert.Equal(Items + 6, model.Parameters[0].Rows); // embedding: padding row + items

        var scores = new float[Items + 5];
        Interaction[] history = [new(80, 31, 0, EventKind.Purchase, 1f, 1f, 0), new(80, 32, 1, EventKind.Purchase, 1f, 1f, 1)];
        model.Score(80, history, scores); // user 80 is new and has no events at all
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        int rank = scores.Count(s => s > scores[33]);
        Assert.True(rank < 3, $"the new successor 33 ranks {rank + 1} of {Items + 5}");

        // The update trains on the new users only, so some forgetting is expected, but the old pattern stays far above
        // chance (1/30).
        double hitRate = SuccessorHitRate(model, 3);
        Assert.True(hitRate >= 0.4, $"old successor pattern kept for {hitRate:P0} of items");
    }

    public static TheoryData<Gru4RecOptions, string> BadOptions => new()
    {
        { new Gru4RecOptions { Dimensions = 0 }, "Dimensions" },
        { new Gru4RecOptions { HiddenSize = -1 }, "HiddenSize" },
        { new Gru4RecOptions { MaxLength = 0 }, "MaxLength" },
        { new Gru4RecOptions { MaxEpochs = -1 }, "MaxEpochs" },
        { new Gru4RecOptions { UpdateEpochs = -1 }, "UpdateEpochs" },
        { new Gru4RecOptions { BatchSize = 0 }, "BatchSize" },
        { new Gru4RecOptions { LearningRate = 0f }, "LearningRate" },
        { new Gru4RecOptions { LearningRate = float.NaN }, "LearningRate" },
        { new Gru4RecOptions { Negatives = 0 }, "Negatives" },
        { new Gru4RecOptions { Patience = 0 }, "Patience" },
        { new Gru4RecOptions { ValidationUsers = -1 }, "ValidationUsers" },
        { new Gru4RecOptions { Loss = (Gru4RecLoss)7 }, "Loss" },
        { new Gru4RecOptions { Dimensions = 32, HiddenSize = 64, TieOutput = true }, "TieOutput" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_rejected_naming_the_option(Gru4RecOptions options, string name)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new Gru4Rec(options));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void Bad_events_and_counts_are_rejected_and_leave_the_model_unchanged()
    {
        var model = new Gru4Rec(Small(maxEpochs: 2));
        List<Interaction> bad = [.. Walks(0, 5, 6), new Interaction(1, Items, 99, EventKind.Purchase, 1f, 1f, 99)];
        Assert.Equal("events", Assert.Throws<ArgumentException>(() => model.Fit(bad, 5, Items)).ParamName);
        Assert.Equal(0, model.ItemCount);

        List<Interaction> events = Walks(0, 20, 7);
        model.Fit(events, 20, Items);
        Interaction[] history = events.Where(e => e.User == 2).ToArray();
        var before = new float[Items];
        model.Score(2, history, before);

        Assert.Equal("newEvents", Assert.Throws<ArgumentException>(() => model.Update(bad, 20, Items)).ParamName);
        Assert.Equal("userCount", Assert.Throws<ArgumentException>(() => model.Update([], 19, Items)).ParamName);
        Assert.Equal("itemCount", Assert.Throws<ArgumentException>(() => model.Update([], 20, Items - 1)).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => model.Score(2, history, new float[Items + 1])).ParamName);

        var after = new float[Items];
        model.Score(2, history, after);
        Assert.Equal(before, after);
        Assert.Equal(Items, model.ItemCount);
    }

    private sealed class SyncProgress(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}

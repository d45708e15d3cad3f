using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Tests.Persistence;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The tracker's default learner: its gradients against finite differences, its repeat features against hand-computed
/// values, determinism under a seed, snapshots that keep their answers while the model learns (and equal a model
/// restored to that moment), concurrent reads during writes against single-threaded answers, explanations that add
/// up to the score, dismissed pairs and rejected growth.
/// </summary>
public class RepeatExploreTests
{
    private const int Users = 12, Items = 15;

    private static RepeatExplore Create(int seed = 7, float learningRate = 0.01f) => new(new RepeatExploreOptions
    {
        Dimensions = 8, Negatives = 6, OwnCandidates = 4, ContextItems = 3, CooccurrenceItems = 4, Seed = seed, LearningRate = learningRate,
    });

    /// <summary>Baskets of two or three items every few days: a favourite range per user plus the odd random item and return.</summary>
    private static List<Interaction> Shopping(int users, int items, int days, int firstDay, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        int basket = firstDay * users;
        for (int day = firstDay; day < firstDay + days; day++)
        {
            for (int u = 0; u < users; u++)
            {
                if (random.Next(3) != 0)
                {
                    continue;
                }

                long ticks = new DateTime(2011, 1, 1).AddDays(day).AddMinutes(u).Ticks;
                int lines = 2 + random.Next(2);
                for (int k = 0; k < lines; k++)
                {
                    int item = random.Next(4) == 0 ? random.Next(items) : (u * 3 + random.Next(4)) % items;
                    EventKind kind = random.Next(25) == 0 ? EventKind.Return : EventKind.Purchase;
                    events.Add(new Interaction(u, item, ticks, kind, 1 + random.Next(3), 2.5f, basket));
                }

                basket++;
            }
        }

        return events;
    }

    private static float[] Scores(IScorer scorer, int user, ReadOnlySpan<Interaction> history)
    {
        var scores = new float[scorer.ItemCount];
        scorer.Score(user, history, scores);
        return scores;
    }

    private static Interaction[] HistoryOf(IEnumerable<Interaction> events, int user) => [.. events.Where(e => e.User == user)];

    [Fact]
    public void The_embedding_step_matches_finite_differences()
    {
        // float32 maths: central differences with the float tolerances of GradCheck (the loss is single precision).
        const int d = 4, contextCount = 2, slots = 5;
        var random = new Random(3);
        float[] user = Fill(new float[d]), context = Fill(new float[contextCount * d]), rows = Fill(new float[slots * (d + 1)]);
        int[] targets = [0, 1];
        int[] negatives = [2, 3, 3, 4, 1];
        float[] logWeights = [0.3f, -0.2f, -0.2f, 1.1f, 0.5f];
        bool[] isTarget = [true, true, false, false, false];
        var gradUser = new float[d];
        var gradRows = new float[slots * (d + 1)];
        float Loss() => RepeatExploreMath.ExploreLoss(new float[d], new float[slots * (d + 1)], new float[d], new float[slots], user, context,
            contextCount, rows, targets, negatives, logWeights, isTarget, d);

        RepeatExploreMath.ExploreLoss(gradUser, gradRows, new float[d], new float[slots], user, context, contextCount, rows, targets, negatives,
            logWeights, isTarget, d);
        CheckGradient(user, gradUser, Loss);
        CheckGradient(rows, gradRows, Loss);

        // The mean's share: each context row's gradient is du / n.
        float[] gradContext = [.. Enumerable.Range(0, contextCount * d).Select(k => gradUser[k % d] / contextCount)];
        CheckGradient(context, gradContext, Loss);

        float[] Fill(float[] values)
        {
            for (int k = 0; k < values.Length; k++)
            {
                values[k] = (float)(random.NextDouble() * 2 - 1);
            }

            return values;
        }
    }

    [Fact]
    public void The_gate_step_matches_finite_differences()
    {
        const int candidates = 5, f = RepeatExploreMath.Features;
        var random = new Random(5);
        float[] features = [.. Enumerable.Range(0, candidates * f).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] weights = [.. Enumerable.Range(0, f).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] logWeights = [0f, 0f, 0.7f, 1.5f, 1.5f];
        float[] labels = [0.5f, 0.5f, 0f, 0f, 0f];
        var grad = new float[f];
        RepeatExploreMath.GateLoss(grad, new float[candidates], features, logWeights, labels, weights);
        CheckGradient(weights, grad, () => RepeatExploreMath.GateLoss(new float[f], new float[candidates], features, logWeights, labels, weights));
    }

    // The shared float32 recipe (eps 1e-2, rtol 1e-2) with a tighter absolute tolerance: these losses are small.
    private static void CheckGradient(float[] parameters, float[] analytic, Func<float> loss) =>
        GradCheck.Check("parameter", parameters, analytic, () => loss(), atol: 1e-4);

    [Fact]
    public void The_repeat_features_match_hand_computed_values()
    {
        // Baskets: day 0 {A}, day 10 {A, A again}, day 30 {B}; now = day 30, three baskets.
        const int a = 2, b = 5;
        long Day(int day) => new DateTime(2011, 3, 1).AddDays(day).Ticks;
        Interaction[] history =
        [
            new(0, a, Day(0), EventKind.Purchase, 1, 1, 0),
            new(0, a, Day(10), EventKind.Purchase, 1, 1, 1),
            new(0, a, Day(10), EventKind.Purchase, 2, 1, 1),
            new(0, 9, Day(20), EventKind.Return, 1, 1, 4),
            new(0, b, Day(30), EventKind.Purchase, 1, 1, 2),
        ];
        var stats = new ItemStat[10];
        var bought = new List<int>();
        UserSummary user = RepeatExploreScorer.Summarize(history, 10, 0.9f, stats, bought);
        Assert.Equal([a, b], bought);
        Assert.Equal(3, user.Baskets);
        Assert.Equal(Day(30), user.Now);
        Assert.Equal(Day(0), user.First);
        Assert.Equal((1 + 2f) / (2 + 5f), user.RepeatRatio, 6); // later items: A (repeat) and B (new)

        var f = new float[RepeatExploreMath.Features];
        RepeatExploreMath.Fill(f, true, stats[a], user, explore: 0.5f, cooccurrence: 2f, popularity: 0.25f, itemRepeat: 0.4f, trend: 0.1f, decay: 0.9f);
        float logSince = MathF.Log(21f);
        float[] expected =
        [
            1f, MathF.Log(3f), 2f / 3f, 0.1f * (0.9f + 1f) * 0.9f, logSince, 0f, logSince - MathF.Log(11f), 1f,
            0.5f, MathF.Log(3f), 0.25f, 0.5f, MathF.Log(3f), 3f / 7f, MathF.Log(4f) / 5f, 0.4f, MathF.Log(2f), 0.1f,
            logSince - MathF.Log(16f), 2f / 3f * 3f / 7f,
        ];
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - f[k]) <= 1e-5f, $"feature {k}: expected {expected[k]}, got {f[k]}");
        }

        // A never-bought item has only the explore-side columns, and the short logit agrees with the full one.
        RepeatExploreMath.Fill(f, false, default, user, 0.5f, 2f, 0.25f, 0.4f, 0.1f, 0.9f);
        float[] w = [.. Enumerable.Range(0, RepeatExploreMath.Features).Select(k => 0.1f * k - 0.7f)];
        Assert.Equal(RepeatExploreMath.Logit(w, f), RepeatExploreMath.ExploreLogit(w, 0.5f, MathF.Log(3f), 0.25f, 0.1f));
        Assert.Equal(4, f.Count(v => v != 0f));
    }

    [Fact]
    public void Same_events_same_seed_and_same_batching_give_identical_scores()
    {
        List<Interaction> first = Shopping(Users, Items, 20, 0, 1), second = Shopping(Users, Items, 10, 20, 2);
        var fitted = Create();
        fitted.Fit(first, Users, Items);
        var streamed = Create();
        streamed.Update(first, Users, Items);
        for (int k = 0; k < second.Count; k += 7)
        {
            List<Interaction> batch = second.GetRange(k, Math.Min(7, second.Count - k));
            fitted.Update(batch, Users, Items);
            streamed.Update(batch, Users, Items);
        }

        Assert.Equal(StateModels.Saved(fitted), StateModels.Saved(streamed));
        Interaction[] history = HistoryOf(first.Concat(second), 3);
        Assert.Equal(Scores(fitted, 3, history), Scores(streamed, 3, history));

        // The micro-batches did learn: the model moved away from the one fitted on the first part only.
        var early = Create();
        early.Fit(first, Users, Items);
        Assert.NotEqual(Scores(early, 3, history), Scores(fitted, 3, history));
    }

    [Fact]
    public void A_shared_draw_of_negatives_never_outlives_the_call_that_drew_it()
    {
        List<Interaction> events = Shopping(Users, Items, 20, 0, 6);
        List<Interaction>[] baskets = [.. events.GroupBy(e => e.BasketKey).Select(g => g.ToList())];
        RepeatExplore Reusing(int reuse) => new(new RepeatExploreOptions
        {
            Dimensions = 8, Negatives = 6, OwnCandidates = 4, ContextItems = 3, CooccurrenceItems = 4, Seed = 7, NegativeReuse = reuse,
        });

        // One basket per call: every call draws afresh, so the setting cannot matter (a draw carried into the next call
        // would make a checkpoint between calls miss part of the state).
        RepeatExplore fresh = Reusing(1), shared = Reusing(4);
        foreach (List<Interaction> basket in baskets)
        {
            fresh.Update(basket, Users, Items);
            shared.Update(basket, Users, Items);
        }

        Assert.True(baskets.Length > 20);
        Assert.Equal(fresh.Steps, shared.Steps);
        Assert.Equal(AllScores(fresh), AllScores(shared));

        // In one call the baskets share draws, and the model learns differently.
        RepeatExplore freshAll = Reusing(1), sharedAll = Reusing(4);
        freshAll.Update(events, Users, Items);
        sharedAll.Update(events, Users, Items);
        Assert.Equal(fresh.Steps, sharedAll.Steps);
        Assert.NotEqual(AllScores(freshAll), AllScores(sharedAll));

        float[][] AllScores(RepeatExplore model) => [.. Enumerable.Range(0, Users).Select(u => Scores(model, u, HistoryOf(events, u)))];
    }

    [Fact]
    public void A_snapshot_keeps_its_answers_and_equals_the_model_restored_to_its_moment()
    {
        List<Interaction> first = Shopping(Users, Items, 20, 0, 3), later = Shopping(Users + 3, Items + 2, 10, 20, 4);
        var model = Create();
        model.Fit(first, Users, Items);
        IScorer snapshot = model.CreateScorer();
        byte[] atSnapshot = StateModels.Saved(model);
        var histories = Enumerable.Range(0, Users).Select(u => HistoryOf(first, u)).ToArray();
        float[][] before = [.. Enumerable.Range(0, Users).Select(u => Scores(snapshot, u, histories[u]))];

        model.Update(later, Users + 3, Items + 2);
        Assert.Equal(Items, snapshot.ItemCount);
        var restored = Create();
        using (var stream = new MemoryStream(atSnapshot))
        {
            restored.Load(stream);
        }

        for (int u = 0; u < Users; u++)
        {
            Assert.Equal(before[u], Scores(snapshot, u, histories[u]));
            Assert.Equal(before[u], Scores(restored, u, histories[u]));
        }

        // A snapshot taken now answers from the new version.
        IScorer now = model.CreateScorer();
        Assert.Equal(Items + 2, now.ItemCount);
        Assert.Equal(Scores(model, 1, histories[1]), Scores(now, 1, histories[1]));
        Assert.NotEqual(before[1], Scores(now, 1, histories[1])[..Items]);
    }

    [Fact]
    public async Task Eight_readers_of_a_snapshot_get_the_single_threaded_answers_while_the_writer_learns()
    {
        List<Interaction> first = Shopping(Users, Items, 20, 0, 5);
        var model = Create();
        model.Fit(first, Users, Items);
        IScorer snapshot = model.CreateScorer();
        var histories = Enumerable.Range(0, Users).Select(u => HistoryOf(first, u)).ToArray();
        int[][] expected = [.. Enumerable.Range(0, Users).Select(u => Top(snapshot, u, histories[u]))];

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            int day = 20;
            while (!stop.IsCancellationRequested)
            {
                model.Update(Shopping(Users, Items, 2, day, day), Users, Items);
                day += 2;
            }
        });
        int differences = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (int call = 0; call < 1000; call++)
            {
                int u = (thread * 7 + call) % Users;
                if (!Top(snapshot, u, histories[u]).SequenceEqual(expected[u]))
                {
                    Interlocked.Increment(ref differences);
                }
            }
        });
        await stop.CancelAsync();
        await writer;
        Assert.Equal(0, differences);
        Assert.True(model.Steps > 0);

        static int[] Top(IScorer scorer, int user, Interaction[] history)
        {
            var top = new int[5];
            int n = scorer.Recommend(user, history, top, []);
            return top[..n];
        }
    }

    [Fact]
    public void An_explanation_and_its_remainder_add_up_to_the_score()
    {
        List<Interaction> events = Shopping(Users, Items, 30, 0, 6);
        var model = Create();
        model.Fit(events, Users, Items);
        var scorer = (RepeatExploreScorer)model.CreateScorer();
        for (int u = 0; u < Users; u++)
        {
            Interaction[] history = HistoryOf(events, u);
            float[] scores = Scores(scorer, u, history);
            var contributions = new float[history.Length];
            for (int item = 0; item < Items; item++)
            {
                float remainder = scorer.Explain(u, history, item, contributions);
                float total = remainder + contributions.Sum();
                Assert.True(Math.Abs(total - scores[item]) <= 1e-4f * (1 + Math.Abs(scores[item])), $"user {u} item {item}: {total} vs {scores[item]}");
            }
        }

        // The embedding view: the user vector dotted with the item vector is the score's embedding part.
        var h = new float[8];
        var o = new float[8];
        scorer.UserVector(2, HistoryOf(events, 2), h);
        scorer.ItemVector(4, o);
        Assert.Contains(h, v => v != 0f);
        Assert.Contains(o, v => v != 0f);
    }

    // The dismissal step is normalised and outside Adam, so it lowers the pair's score at any learning rate: an Adam
    // step on the one new gradient moved along the row's momentum and raised it at rates 0.007 and 0.001 (seed 7).
    [Theory]
    [InlineData(7, 0.01f)]
    [InlineData(7, 0.007f)]
    [InlineData(7, 0.001f)]
    [InlineData(3, 0.05f)]
    [InlineData(11, 0.007f)]
    [InlineData(5, 1f)]
    public void A_dismissed_pair_scores_lower_after_the_next_update(int seed, float learningRate)
    {
        List<Interaction> events = Shopping(Users, Items, 30, 0, 8);
        var model = Create(seed, learningRate);
        model.Fit(events, Users, Items);
        Interaction[] history = HistoryOf(events, 4);
        float[] before = Scores(model, 4, history);
        int item = Enumerable.Range(0, Items).Where(i => !history.Any(e => e.Item == i)).MaxBy(i => before[i]);
        Assert.True(model.CreateScorer() is RepeatExploreScorer { Gate: var gate } && gate[RepeatExploreMath.ExploreColumn] > 0f);

        ((INegativeFeedbackLearner)model).AddNegative(4, item);
        model.Update([], Users, Items);
        float[] after = Scores(model, 4, history);
        Assert.True(after[item] < before[item], $"{before[item]} -> {after[item]}");
        Assert.All(after, s => Assert.True(float.IsFinite(s)));

        // The queue is consumed: another empty update changes nothing.
        byte[] saved = StateModels.Saved(model);
        model.Update([], Users, Items);
        Assert.Equal(saved, StateModels.Saved(model));
    }

    [Fact]
    public void A_rejected_growth_changes_nothing()
    {
        var model = new RepeatExplore(new RepeatExploreOptions { Dimensions = 4, Negatives = 3, MaxUsers = 20, MaxItems = 16 });
        List<Interaction> events = Shopping(Users, Items, 10, 0, 9);
        model.Fit(events, Users, Items);
        byte[] saved = StateModels.Saved(model);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Update(events, 21, Items));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Update(events, Users, 17));
        Assert.Throws<ArgumentException>(() => model.Update(events, Users - 1, Items));
        Assert.Equal(saved, StateModels.Saved(model));

        // Growth within the limits works without a retrain: a new user's events score new items.
        model.Update([new Interaction(19, 15, new DateTime(2011, 6, 1).Ticks, EventKind.Purchase, 1, 1, 999)], 20, 16);
        Assert.Equal(16, model.ItemCount);
        Assert.All(Scores(model, 19, HistoryOf(events, 0)), s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void A_copy_on_write_view_never_sees_later_writes()
    {
        var table = new CowTable<float>(3, 2);
        table.Grow(5);
        table.Row(1)[0] = 1f;
        CowView<float> first = table.Snapshot();
        table.Row(1)[0] = 2f;
        table.Row(4)[2] = 3f;
        table.Grow(9);
        table.Row(8)[1] = 4f;
        CowView<float> second = table.Snapshot();
        table.Row(0)[0] = 5f;

        Assert.Equal(5, first.Rows);
        Assert.Equal([1f, 0f, 0f], first.Row(1).ToArray());
        Assert.Equal([0f, 0f, 0f], first.Row(4).ToArray());
        Assert.Equal([2f, 0f, 0f], second.Row(1).ToArray());
        Assert.Equal([0f, 4f, 0f], second.Row(8).ToArray());
        Assert.Equal(0f, second.Row(0)[0]);
        Assert.Equal(5f, table.Read(0)[0]);

        var counts = new CowCooccurrence(2);
        counts.Grow(4);
        counts.Increment(0, 1);
        CoocView before = counts.Snapshot();
        counts.Increment(0, 1);
        counts.Increment(2, 3);
        Assert.Equal(1f, before.Get(1, 0));
        Assert.Equal(0f, before.Get(2, 3));
        Assert.Equal(2f, counts.Get(1, 0));
    }
}

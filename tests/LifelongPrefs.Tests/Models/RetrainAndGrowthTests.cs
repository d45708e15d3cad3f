using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Nn;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// A second <c>Fit</c> retrains from scratch (it ends exactly where a new instance's <c>Fit</c> does), a rejected
/// growth changes nothing, and the lifelong seams (named parameters, optimizer, hooks, checked growth) are wired.
/// </summary>
public class RetrainAndGrowthTests
{
    public static TheoryData<string> AllModels => new()
    {
        "Popularity", "PersonalPopularity", "ItemKNN", "BPR-MF", "MLP", "GRU4Rec", "GRU4Rec tied", "SASRec", "SASRec sampled", "RepeatAware", "TIFU-KNN", "UP-CF",
        "RepeatExplore",
    };

    public static TheoryData<string> LearnedModels => new() { "BPR-MF", "MLP", "GRU4Rec", "SASRec", "RepeatAware" };

    private static ISavableRecommender Create(string name, int maxItems = 1_000) => name switch
    {
        "Popularity" => new Popularity(),
        "PersonalPopularity" => new PersonalPopularity(),
        "ItemKNN" => new ItemKnn(),
        "BPR-MF" => new BprMf(new BprMfOptions { Dimensions = 6, MaxEpochs = 4, BatchSize = 8, Patience = 2, ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "MLP" => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 6, Hidden2 = 4, MaxEpochs = 3, Patience = 2, BatchSize = 8,
            NegativesPerPositive = 2, ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "GRU4Rec" or "GRU4Rec tied" => new Gru4Rec(new Gru4RecOptions { Dimensions = 6, HiddenSize = 6, MaxLength = 4, MaxEpochs = 3, BatchSize = 4,
            TieOutput = name.EndsWith("tied", StringComparison.Ordinal), Patience = 2, ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "SASRec" or "SASRec sampled" => new SasRec(new SasRecOptions { Dimensions = 8, Blocks = 1, Heads = 1, MaxLength = 5, MaxEpochs = 3,
            BatchSize = 4, Loss = name.EndsWith("sampled", StringComparison.Ordinal) ? SasRecLoss.SampledSoftmax : SasRecLoss.FullSoftmax,
            Negatives = 3, Patience = 2, ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions { Hidden = 6, MaxEpochs = 3, Patience = 2, BatchSize = 8, ExploreCandidates = 3,
            RandomNegatives = 3, ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "TIFU-KNN" => new TifuKnn(new TifuKnnOptions { Neighbors = [2, 3], GroupCounts = [2], Alphas = [0.5f], ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "UP-CF" => new UpCf(new UpCfOptions { Recencies = [1, 2], Asymmetries = [0.5f], Localities = [2], ValidationUsers = 4, Seed = 9, MaxItems = maxItems }),
        "RepeatExplore" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 6, Negatives = 4, OwnCandidates = 3, ContextItems = 3,
            CooccurrenceItems = 4, Seed = 9, MaxItems = maxItems }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model"),
    };

    /// <summary>Daily baskets of two items per user: one from a user-specific cycle, one random.</summary>
    private static List<Interaction> Log(int users, int items, int days, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int day = 0; day < days; day++)
        {
            for (int u = 0; u < users; u++)
            {
                long ticks = (day * TimeSpan.TicksPerDay) + (u * TimeSpan.TicksPerMinute);
                int basket = (day * users) + u;
                events.Add(new Interaction(u, (u + day) % items, ticks, EventKind.Purchase, 1f, 1f, basket));
                events.Add(new Interaction(u, random.Next(items), ticks + 1, EventKind.Purchase, 1f, 1f, basket));
            }
        }

        return events;
    }

    private static float[][] Scores(IRecommender model, List<Interaction> events, int users)
    {
        var all = new float[users][];
        for (int u = 0; u < users; u++)
        {
            all[u] = new float[model.ItemCount];
            model.Score(u, events.Where(e => e.User == u).ToArray(), all[u]);
        }

        return all;
    }

    /// <summary>The model's saved state (the strictest equality: every byte of it).</summary>
    private static byte[] Saved(ISavableRecommender model)
    {
        var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void A_second_fit_retrains_from_scratch(string name)
    {
        List<Interaction> first = Log(users: 12, items: 15, days: 6, seed: 1);
        List<Interaction> second = Log(users: 9, items: 11, days: 5, seed: 2);

        // Fitted, then updated, then fitted again on a smaller log: the old catalog and state must be gone.
        ISavableRecommender reused = Create(name);
        reused.Fit(first, 12, 15);
        reused.Update(Log(users: 13, items: 16, days: 2, seed: 3), 13, 16);
        reused.Fit(second, 9, 11);

        ISavableRecommender fresh = Create(name);
        fresh.Fit(second, 9, 11);

        Assert.Equal(11, reused.ItemCount);
        Assert.Equal(Scores(fresh, second, 9), Scores(reused, second, 9));
        Assert.Equal(Saved(fresh), Saved(reused));

        // And both keep learning the same way.
        List<Interaction> more = Log(users: 10, items: 12, days: 2, seed: 4);
        reused.Update(more, 10, 12);
        fresh.Update(more, 10, 12);
        Assert.Equal(Saved(fresh), Saved(reused));
    }

    [Theory]
    [MemberData(nameof(LearnedModels))]
    public void A_rejected_growth_changes_nothing(string name)
    {
        ISavableRecommender model = Create(name, maxItems: 20);
        List<Interaction> events = Log(users: 8, items: 10, days: 4, seed: 5);
        model.Fit(events, 8, 10);
        byte[] before = Saved(model);
        float[][] scores = Scores(model, events, 8);

        // Beyond the configured maximum, and absurdly large (this used to run out of memory or keep the new count).
        Assert.Equal("itemCount", Assert.Throws<ArgumentOutOfRangeException>(() => model.Update([], 8, 21)).ParamName);
        Assert.Equal("itemCount", Assert.Throws<ArgumentOutOfRangeException>(() => model.Update([], 8, int.MaxValue)).ParamName);
        Assert.Equal("userCount", Assert.Throws<ArgumentOutOfRangeException>(() => model.Update([], int.MaxValue, 10)).ParamName);
        var trainable = (ITrainableRecommender)model;
        Assert.Throws<ArgumentOutOfRangeException>(() => trainable.Grow(int.MaxValue, 10));
        Assert.Equal(10, model.ItemCount);
        Assert.Equal(before, Saved(model));
        Assert.Equal(scores, Scores(model, events, 8));

        // Up to the maximum is fine, and growth through the seam matches growth through Update.
        trainable.Grow(9, 20);
        Assert.Equal(20, model.ItemCount);
        ISavableRecommender other = Create(name, maxItems: 20);
        other.Fit(events, 8, 10);
        other.Update([], 9, 20);
        Assert.Equal(Saved(other), Saved(model));
    }

    [Theory]
    [MemberData(nameof(LearnedModels))]
    public void The_seams_expose_named_parameters_the_optimizer_and_a_hook_point(string name)
    {
        var model = (ITrainableRecommender)Create(name);
        List<Interaction> events = Log(users: 8, items: 10, days: 4, seed: 6);
        model.Fit(events, 8, 10);

        // Every optimizer parameter has exactly one dotted name.
        IReadOnlyList<KeyValuePair<string, Parameter>> named = model.NamedParameters;
        Assert.Equal(named.Count, named.Select(p => p.Key).Distinct().Count());
        Assert.Equal(model.Optimizer.Parameters.Count, named.Count);
        Assert.All(model.Optimizer.Parameters, p => Assert.Single(named, n => ReferenceEquals(n.Value, p)));

        // A hook added through the seam runs once per optimizer step of an update, before the step.
        var hook = new CountingHook(model.Optimizer);
        model.Trainer.Hooks.Add(hook);
        long steps = model.Optimizer.StepCount;
        model.Update(Log(users: 8, items: 10, days: 2, seed: 7), 8, 10);
        Assert.True(hook.Calls > 0);
        Assert.Equal(model.Optimizer.StepCount - steps, hook.Calls);
        Assert.Equal(0, model.Trainer.SkippedSteps);
    }

    [Fact]
    public void BprMf_registers_its_L2_as_a_hook_on_the_tables_only()
    {
        var model = (ITrainableRecommender)new BprMf(new BprMfOptions { L2 = 1e-3f });
        Assert.IsType<L2Penalty>(Assert.Single(model.Trainer.Hooks));
        Assert.Empty(((ITrainableRecommender)new BprMf(new BprMfOptions { L2 = 0f })).Trainer.Hooks);
    }

    private sealed class CountingHook(Optimizer optimizer) : IGradientHook
    {
        private long _lastStepCount = -1;

        internal int Calls { get; private set; }

        public float Apply(IReadOnlyList<Parameter> parameters)
        {
            Assert.Same(optimizer.Parameters, parameters);
            Assert.NotEqual(_lastStepCount, optimizer.StepCount); // the previous call's step ran in between
            _lastStepCount = optimizer.StepCount;
            Calls++;
            return 0f;
        }
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>The learner against plain BPR-MF, under seeds, bad options and inputs, and extreme option values.</summary>
public class ContinualLearnerTests
{
    private static readonly ShiftStream Stream = new(users: 60, before: 10, after: 10, heldOut: 2, seed: 5);

    /// <summary>Every strategy on, so every random choice and hook takes part.</summary>
    private static readonly ContinualOptions Everything = new()
    {
        ReplayCapacity = 300, ReplayRatio = 1.5, ReplayRecentPerUser = 3, ReplayStratification = ReplayStratification.ByUser,
        EwcStrength = 1e-3f, DistillationWeight = 0.5f, DistillationCandidates = 10, RecencyHalfLife = TimeSpan.FromDays(10),
    };

    private static float[] AllScores(IRecommender model)
    {
        var all = new float[Stream.Users * ShiftStream.Items];
        for (int u = 0; u < Stream.Users; u++)
        {
            model.Score(u, [], all.AsSpan(u * ShiftStream.Items, ShiftStream.Items));
        }

        return all;
    }

    private static void Learn(IRecommender model)
    {
        model.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        foreach (Interaction[] chunk in Stream.AfterIn(3))
        {
            model.Update(chunk, Stream.Users, ShiftStream.Items);
        }
    }

    private static ContinualLearner Learned(ContinualOptions options, int modelSeed = 3)
    {
        var learner = new ContinualLearner(ContinualShiftTests.Model(modelSeed), options);
        Learn(learner);
        return learner;
    }

    [Fact]
    public void Naive_equals_the_plain_BprMf_update_bit_for_bit()
    {
        BprMf plain = ContinualShiftTests.Model();
        Learn(plain);
        ContinualLearner naive = Learned(ContinualOptions.Naive);
        Assert.Equal(AllScores(plain), AllScores(naive));
        for (int k = 0; k < plain.Parameters.Count; k++)
        {
            Assert.Equal(plain.Parameters[k].Value.Span.ToArray(), ((BprMf)naive.Model).Parameters[k].Value.Span.ToArray());
        }
    }

    [Fact]
    public void The_same_seeds_give_bit_identical_scores_and_another_seed_differs()
    {
        float[] first = AllScores(Learned(Everything)), again = AllScores(Learned(Everything));
        Assert.Equal(first, again);
        float[] otherLearnerSeed = AllScores(Learned(new ContinualOptions
        {
            ReplayCapacity = Everything.ReplayCapacity, ReplayRatio = Everything.ReplayRatio, ReplayRecentPerUser = Everything.ReplayRecentPerUser,
            ReplayStratification = Everything.ReplayStratification, EwcStrength = Everything.EwcStrength, DistillationWeight = Everything.DistillationWeight,
            DistillationCandidates = Everything.DistillationCandidates, RecencyHalfLife = Everything.RecencyHalfLife, Seed = 99,
        }));
        Assert.NotEqual(first, otherLearnerSeed);
        Assert.NotEqual(first, AllScores(Learned(Everything, modelSeed: 4)));

        // A second fit starts afresh: it ends where a new learner would.
        ContinualLearner refitted = Learned(Everything);
        Learn(refitted);
        Assert.Equal(first, AllScores(refitted));
    }

    public static TheoryData<string, ContinualOptions> BadOptions => new()
    {
        { "ReplayCapacity", new() { ReplayCapacity = -1 } },
        { "ReplayRatio", new() { ReplayRatio = double.NaN } },
        { "ReplayRatio", new() { ReplayRatio = 101 } },
        { "ReplayRecentPerUser", new() { ReplayRecentPerUser = -2 } },
        { "ReplayStratification", new() { ReplayStratification = (ReplayStratification)7 } },
        { "EwcStrength", new() { EwcStrength = -1 } },
        { "EwcStrength", new() { EwcStrength = float.PositiveInfinity } },
        { "FisherDecay", new() { FisherDecay = 0 } },
        { "FisherDecay", new() { FisherDecay = 1.5f } },
        { "DistillationWeight", new() { DistillationWeight = float.NaN } },
        { "DistillationTemperature", new() { DistillationTemperature = 0 } },
        { "DistillationCandidates", new() { DistillationCandidates = 0 } },
        { "RecencyHalfLife", new() { RecencyHalfLife = TimeSpan.Zero } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_rejected_naming_the_option(string name, ContinualOptions options)
    {
        BprMf model = ContinualShiftTests.Model();
        int hooks = ((ITrainableRecommender)model).Trainer.Hooks.Count;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ContinualLearner(model, options));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        Assert.Equal(hooks, ((ITrainableRecommender)model).Trainer.Hooks.Count);

        var tracker = Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceTracker(new TrackerOptions { Continual = options }));
        Assert.Equal(name, tracker.ParamName);
    }

    [Fact]
    public void A_rejected_update_changes_nothing()
    {
        ContinualLearner rejected = new(ContinualShiftTests.Model(), Everything), clean = new(ContinualShiftTests.Model(), Everything);
        rejected.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        clean.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        Interaction[] bad = [.. Stream.After[..20], Stream.After[0] with { Item = ShiftStream.Items + 5 }];
        Assert.ThrowsAny<ArgumentException>(() => rejected.Update(bad, Stream.Users, ShiftStream.Items));
        Assert.ThrowsAny<ArgumentException>(() => rejected.Update(Stream.After[..20], Stream.Users - 1, ShiftStream.Items));
        Assert.Throws<ArgumentNullException>(() => rejected.Update(null!, Stream.Users, ShiftStream.Items));
        rejected.Update(Stream.After, Stream.Users, ShiftStream.Items);
        clean.Update(Stream.After, Stream.Users, ShiftStream.Items);
        Assert.Equal(AllScores(clean), AllScores(rejected));
    }

    [Theory]
    [InlineData(float.MaxValue, float.MaxValue, 1e-30f, 20, 1e-30f)]
    [InlineData(float.MaxValue, 1e30f, 1e30f, 0.01, 1f)]
    [InlineData(1e-30f, float.Epsilon, float.Epsilon, 20, 1f)]
    public void Extreme_option_values_let_no_NaN_into_the_parameters(float ewc, float distill, float temperature, double ratio, float decay)
    {
        ContinualLearner learner = Learned(new ContinualOptions
        {
            ReplayCapacity = 50, ReplayRatio = ratio, ReplayRecentPerUser = 1, EwcStrength = ewc, FisherDecay = decay, DistillationWeight = distill,
            DistillationTemperature = temperature, DistillationCandidates = 10_000, RecencyHalfLife = TimeSpan.FromTicks(1),
        });
        foreach (var named in ((ITrainableRecommender)learner).NamedParameters)
        {
            Assert.All(named.Value.Value.Span.ToArray(), v => Assert.True(float.IsFinite(v), $"{named.Key} holds {v}"));
        }

        Assert.All(AllScores(learner), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void The_hooks_allocate_nothing_per_step()
    {
        ContinualLearner learner = new(ContinualShiftTests.Model(), Everything);
        learner.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        IContinualModel model = learner.Model;
        learner.DistillationTerm!.Prepare(learner.CreateScorer(), [0, 1, 2, 3], new Random(1));
        learner.Ewc!.Penalise = true;
        Allocations.AssertNone("EWC and distillation hooks", () =>
        {
            for (int k = 0; k < 8; k++)
            {
                model.UserFactors.MarkRowTouched(k % 4);
            }

            learner.Ewc.Apply(model.Optimizer.Parameters);
            learner.DistillationTerm.Apply(model.Optimizer.Parameters);
        });
    }
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>The tracker learns with a custom BPR-MF through a continual learner built from <see cref="TrackerOptions.Continual"/>.</summary>
public class TrackerContinualTests
{
    private static BprMf Bpr() => new(new BprMfOptions { Dimensions = 8, BatchSize = 64, MaxEpochs = 5, ValidationUsers = 0, UpdateEpochs = 2, Seed = 2 });

    private static readonly ContinualOptions Strong = new() { ReplayCapacity = 200, ReplayRatio = 2, EwcStrength = 1e-2f, DistillationWeight = 0.5f, DistillationCandidates = 5 };

    private static TrackerOptions Options(ContinualOptions continual) =>
        new() { MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8, Continual = continual };

    /// <summary>Every user's top 5 after learning the scenario, exactly.</summary>
    private static async Task<string> Answers(TrackerOptions options, IRecommender learner)
    {
        await using PreferenceTracker tracker = Create(options, learner);
        tracker.Observe(Events(users: 30, items: 40, categories: 4, days: 20, seed: 1));
        await tracker.FlushAsync();
        Assert.True(tracker.ModelVersion > 1, "the learner published fewer than two versions: nothing was replayed");
        return string.Join(";", Enumerable.Range(0, 30).Select(u => Render(tracker.Recommend(UserId(u), 5))));
    }

    [Fact]
    public async Task A_BprMf_learner_is_wrapped_with_the_trackers_continual_options()
    {
        // Oracle: the same strategies in a learner the test wraps itself (a ContinualLearner is not wrapped again).
        string wrapped = await Answers(Options(Strong), Bpr());
        string explicitly = await Answers(Options(ContinualOptions.Naive), new ContinualLearner(Bpr(), Strong));
        Assert.Equal(explicitly, wrapped);

        string naive = await Answers(Options(ContinualOptions.Naive), Bpr());
        Assert.NotEqual(naive, wrapped);
    }
}

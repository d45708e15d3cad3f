using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;
using LifelongPrefs.Privacy;
using LifelongPrefs.Tests.Lifelong;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>The learners whose state a checkpoint must now carry, each run with drift detection on.</summary>
public enum PersistedLearner
{
    /// <summary>BPR-MF in a continual learner with replay (reservoir and recent windows), online EWC, distillation and recency weights; Page-Hinkley per segment.</summary>
    Continual,

    /// <summary>The same with DP-SGD updates instead of distillation; ADWIN per segment (it does not fire on this short stream: its detectors' windows are what is compared).</summary>
    ContinualPrivate,

    /// <summary>The default learner with drift reactions (a raised learning rate for a stretch of stream time); Page-Hinkley, global only.</summary>
    DefaultReacting,
}

/// <summary>
/// Options and learners of the continual and drift persistence tests: the harness's calls and batching
/// (<see cref="TrackerPersistenceHarness"/>), with strategies small enough to run in a few seconds and drift
/// detectors sensitive enough to fire on its short stream.
/// </summary>
internal static class ContinualPersistenceHarness
{
    internal static TrackerOptions Options(PersistedLearner learner, string? directory)
    {
        TrackerOptions options = TrackerPersistenceHarness.Options(directory);
        options.MinEventsForPersonalization = 1;
        options.Continual = learner switch
        {
            PersistedLearner.Continual => new ContinualOptions
            {
                ReplayCapacity = 48, ReplayRatio = 0.75, ReplayRecentPerUser = 3, EwcStrength = 0.05f, DistillationWeight = 0.3f,
                DistillationCandidates = 8, RecencyHalfLife = TimeSpan.FromDays(2), Seed = 5,
            },
            PersistedLearner.ContinualPrivate => new ContinualOptions
            {
                ReplayCapacity = 48, ReplayRecentPerUser = 2, EwcStrength = 0.05f, Seed = 6,
                DifferentialPrivacy = new DpOptions { Enabled = true, NoiseMultiplier = 1.2, SamplingRate = 0.5, ClipNorm = 0.5f },
            },
            _ => new ContinualOptions(),
        };
        options.Drift = new DriftOptions
        {
            Enabled = true,
            Detector = learner == PersistedLearner.ContinualPrivate ? DriftDetectorKind.Adwin : DriftDetectorKind.PageHinkley,
            AdwinDelta = 0.6,
            AdwinCheckInterval = 1,
            PageHinkleyLambda = 1.5,
            PageHinkleyMinValues = 4,
            PageHinkleyDelta = 0.001,
            SampleEvery = 1,
            Cutoff = 3,
            PerSegment = learner != PersistedLearner.DefaultReacting,
            LearningRateMultiplier = 3,
            ReactionDuration = TimeSpan.FromHours(20),
            HistoryCapacity = 6,
        };
        return options;
    }

    /// <summary>
    /// The harness's calls for the first half, then a change of taste: ten days later every user buys from the next
    /// category (each item id moved by one, so the category index moves by one), which the detectors should notice.
    /// </summary>
    internal static List<Action<PreferenceTracker>> ShiftingCalls(int count)
    {
        List<Action<PreferenceTracker>> calls = TrackerPersistenceHarness.Calls(count / 2);
        List<InteractionEvent> later = TrackerScenario.Events(users: 25, items: 60, categories: 6, days: 1 + (count / 25), seed: 8);
        for (int i = 0; calls.Count < count; i++)
        {
            InteractionEvent e = later[i];
            InteractionEvent moved = e with { ItemId = TrackerScenario.ItemId((int.Parse(e.ItemId[1..], CultureInfo.InvariantCulture) + 1) % 60), Timestamp = e.Timestamp.AddDays(10 + (count / 50)) };
            calls.Add(t => t.Observe(moved));
        }

        return calls;
    }

    /// <summary>The learner to hand the tracker: a fresh BPR-MF (wrapped by the tracker), or null for the default learner.</summary>
    internal static IRecommender? Learner(PersistedLearner learner) => learner == PersistedLearner.DefaultReacting
        ? null
        : new BprMf(new BprMfOptions { Dimensions = 8, BatchSize = 16, Seed = 11, UpdateEpochs = 2 });

    internal static PreferenceTracker Open(PersistedLearner learner, string? directory) =>
        new(Options(learner, directory), Learner(learner), null);

    /// <summary>The uninterrupted in-memory run: state bytes, answers, drift history and statistics.</summary>
    internal static Outcome Reference(PersistedLearner learner, List<Action<PreferenceTracker>> calls, int count)
    {
        using PreferenceTracker tracker = Open(learner, null);
        TrackerPersistenceHarness.Feed(tracker, calls, 0, count);
        return Outcome.Of(tracker);
    }

    /// <summary>What a run ends with.</summary>
    internal sealed record Outcome(byte[] State, string Answers, IReadOnlyList<DriftDetection> Drift, TrackerStatistics Statistics)
    {
        internal static Outcome Of(PreferenceTracker tracker)
        {
            byte[] state = TrackerPersistenceHarness.State(tracker);   // flushes first
            return new Outcome(state, TrackerPersistenceHarness.Answers(tracker), tracker.DriftHistory, tracker.Statistics);
        }
    }
}

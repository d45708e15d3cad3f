using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Persistence.ContinualPersistenceHarness;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The checked-in tracker directory with the continual learner and drift detection (<c>Fixtures/tracker-continual-v1</c>:
/// a checkpoint after 150 calls and the journal of 50 more), which every later version must still open. The answers
/// beside it were computed when it was written; regenerate both with <c>LLPF_REGENERATE_TRACKER_FIXTURE=1</c> (only
/// after a deliberate format change, which also bumps the version in the folder name).
/// </summary>
public sealed class ContinualFixtureTests : IDisposable
{
    private const int Checkpointed = 150;
    private const int Total = 200;
    private static readonly string Fixture = Path.Combine(Repository.Root, "tests", "LifelongPrefs.Tests", "Persistence", "Fixtures", "tracker-continual-v1");
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_continual_fixture_opens_with_the_answers_it_was_written_with()
    {
        if (Environment.GetEnvironmentVariable("LLPF_REGENERATE_TRACKER_FIXTURE") == "1")
        {
            await Regenerate();
        }

        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(Fixture, copy);
        File.Delete(Path.Combine(copy, "answers.txt"));
        using PreferenceTracker tracker = Open(PersistedLearner.Continual, copy);
        Assert.True(tracker.Recovery!.CheckpointUsed);
        Assert.Equal(0, tracker.Recovery.TornBytesDropped);
        Assert.Equal(File.ReadAllText(Path.Combine(Fixture, "answers.txt")), Describe(tracker));
    }

    [Fact]
    public void The_continual_fixture_holds_the_state_of_an_uninterrupted_run_of_its_calls()
    {
        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(Fixture, copy);
        using PreferenceTracker tracker = Open(PersistedLearner.Continual, copy);
        Outcome expected = Reference(PersistedLearner.Continual, ShiftingCalls(Total), Total);
        Outcome opened = Outcome.Of(tracker);
        Assert.Equal(expected.State, opened.State);
        Assert.Equal(expected.Drift, opened.Drift);
    }

    private static string Describe(PreferenceTracker tracker)
    {
        TrackerStatistics s = tracker.Statistics;
        string drift = string.Join(";", tracker.DriftHistory.Select(d => $"{d.StreamTime:O} {d.Segment} {d.Tested}"));
        return $"observed {s.EventsObserved}, feedback {s.FeedbackReceived}, users {s.Users}, items {s.Items}, replayed {tracker.Recovery!.EventsReplayed}, "
            + $"drift tests {s.DriftTests}, detections {s.DriftsDetected}\n{drift}\n{Answers(tracker)}\n";
    }

    private Task Regenerate() =>
        TrackerFileChecks.Regenerate(Fixture, _directory, d => Open(PersistedLearner.Continual, d), ShiftingCalls(Total), Checkpointed, Describe);
}

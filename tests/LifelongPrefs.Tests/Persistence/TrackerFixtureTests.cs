using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The checked-in tracker directory of format v1 (<c>Fixtures/tracker-v1</c>: a checkpoint after 150 calls and the
/// journal of 50 more), which every later version must still open. The answers stored beside it were computed when it
/// was written; regenerate both with <c>LLPF_REGENERATE_TRACKER_FIXTURE=1</c> (only after a deliberate format change,
/// which also bumps the version in the folder name).
/// </summary>
public sealed class TrackerFixtureTests : IDisposable
{
    private const int Checkpointed = 150;
    private const int Total = 200;
    private static readonly string Fixture = Path.Combine(Repository.Root, "tests", "LifelongPrefs.Tests", "Persistence", "Fixtures", "tracker-v1");
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_v1_fixture_opens_with_the_answers_it_was_written_with()
    {
        if (Environment.GetEnvironmentVariable("LLPF_REGENERATE_TRACKER_FIXTURE") == "1")
        {
            await Regenerate();
        }

        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(Fixture, copy);
        File.Delete(Path.Combine(copy, "answers.txt"));
        using PreferenceTracker tracker = PreferenceTracker.Open(Options(copy));
        Assert.True(tracker.Recovery!.CheckpointUsed);
        Assert.Equal(0, tracker.Recovery.TornBytesDropped);
        Assert.Equal(File.ReadAllText(Path.Combine(Fixture, "answers.txt")), Describe(tracker));
    }

    [Fact]
    public void The_v1_fixture_holds_the_state_of_an_uninterrupted_run_of_its_calls()
    {
        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(Fixture, copy);
        using PreferenceTracker tracker = PreferenceTracker.Open(Options(copy));
        Assert.Equal(Reference(Calls(Total), Total).State, State(tracker));
    }

    private static string Describe(PreferenceTracker tracker)
    {
        TrackerStatistics s = tracker.Statistics;
        return $"observed {s.EventsObserved}, feedback {s.FeedbackReceived}, users {s.Users}, items {s.Items}, replayed {tracker.Recovery!.EventsReplayed}\n{Answers(tracker)}\n";
    }

    private Task Regenerate() =>
        TrackerFileChecks.Regenerate(Fixture, _directory, d => PreferenceTracker.Open(Options(d)), Calls(Total), Checkpointed, Describe);
}

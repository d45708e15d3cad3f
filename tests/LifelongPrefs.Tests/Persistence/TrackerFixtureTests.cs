using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The checked-in tracker directory of format v1 (<c>Fixtures/tracker-v1</c>: a checkpoint after 150 calls and the
/// journal of 50 more), which every later version must still open. The answers stored beside it are those of opening it:
/// the checkpoint's state plus the journal's 50 calls learned again by the current learner. Regenerate both with
/// <c>LLPF_REGENERATE_TRACKER_FIXTURE=1</c> only after a deliberate format change (which also bumps the version in the
/// folder name); after a deliberate change of what the learner learns, rewrite only the answers with
/// <c>LLPF_REGENERATE_TRACKER_FIXTURE=answers</c>, so that the old checkpoint and journal bytes go on being opened.
/// </summary>
public sealed class TrackerFixtureTests : IDisposable
{
    private const int Checkpointed = 150;
    private const int Total = 200;
    private static readonly string Fixture = FixtureDirectory("tracker-v1");
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>
    /// <c>tracker-v1</c>, and <c>tracker-v1-defaults-2026-12-02</c>: the same calls written by the code of 2026-12-02,
    /// whose default learner sampled 64 negatives at rate 0.01 (96 at 0.007 since), so its checkpoint names those
    /// options and still opens (they are tolerated on load); its answers are those of the current learner replaying the
    /// journal on that checkpoint.
    /// </summary>
    [Theory]
    [InlineData("tracker-v1")]
    [InlineData("tracker-v1-defaults-2026-12-02")]
    public async Task The_v1_fixture_opens_with_the_answers_it_was_written_with(string name)
    {
        string fixture = FixtureDirectory(name);
        if (name == "tracker-v1" && Environment.GetEnvironmentVariable("LLPF_REGENERATE_TRACKER_FIXTURE") == "1")
        {
            await Regenerate();
        }

        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(fixture, copy);
        File.Delete(Path.Combine(copy, "answers.txt"));
        using PreferenceTracker tracker = PreferenceTracker.Open(Options(copy));
        Assert.True(tracker.Recovery!.CheckpointUsed);
        Assert.Equal(0, tracker.Recovery.TornBytesDropped);
        string answers = Describe(tracker);
        if (Environment.GetEnvironmentVariable("LLPF_REGENERATE_TRACKER_FIXTURE") == "answers")
        {
            File.WriteAllText(Path.Combine(fixture, "answers.txt"), answers);
        }

        Assert.Equal(File.ReadAllText(Path.Combine(fixture, "answers.txt")), answers);
    }

    [Fact]
    public void The_v1_fixture_holds_the_state_of_an_uninterrupted_run_of_its_calls()
    {
        string copy = Path.Combine(_directory, "copy");
        CopyDirectory(Fixture, copy);
        using PreferenceTracker tracker = PreferenceTracker.Open(Options(copy));
        Assert.Equal(Reference(Calls(Total), Total).State, State(tracker));
    }

    private static string FixtureDirectory(string name) => Path.Combine(Repository.Root, "tests", "LifelongPrefs.Tests", "Persistence", "Fixtures", name);

    private static string Describe(PreferenceTracker tracker)
    {
        TrackerStatistics s = tracker.Statistics;
        return $"observed {s.EventsObserved}, feedback {s.FeedbackReceived}, users {s.Users}, items {s.Items}, replayed {tracker.Recovery!.EventsReplayed}\n{Answers(tracker)}\n";
    }

    private Task Regenerate() =>
        TrackerFileChecks.Regenerate(Fixture, _directory, d => PreferenceTracker.Open(Options(d)), Calls(Total), Checkpointed, Describe);
}

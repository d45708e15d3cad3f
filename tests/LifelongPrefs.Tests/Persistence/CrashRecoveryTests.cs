using System.Diagnostics;
using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;
using LifelongPrefs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The crash test: a child process (<see cref="CrashHost"/>) runs a persisted tracker over the bundled Online Retail
/// stream with flush-every-record and is killed with <see cref="Process.Kill()"/> at seeded points — after a random
/// number of acknowledged events, inside a journal append, inside a checkpoint write, and between a checkpoint's
/// rename and its journal clean-up. Each time the parent recovers the directory, checks that no acknowledged event
/// was lost, feeds the rest of the stream and compares the whole state's bytes with an uninterrupted run. It runs
/// with the default learner at fifty points and with BPR-MF under the default continual strategy (the tracker wraps
/// it in a <c>ContinualLearner</c>: replay memory, EWC tables and their generators are in the checkpoint) at thirteen.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Events = 1_500;
    private const int CheckpointEvery = 400;

    internal static TrackerOptions Options(string directory, JournalFlushPolicy flush) => new()
    {
        MicroBatchSize = 64,
        FlushInterval = Timeout.InfiniteTimeSpan,
        Dimensions = 8,
        Seed = 11,
        Persistence = new PersistenceOptions { Directory = directory, JournalFlush = flush, SegmentBytes = 32 << 10 },
    };

    /// <summary>The learner a run hands the tracker: <see langword="null"/> for the default one, or a fresh BPR-MF.</summary>
    internal static IRecommender? Learner(string kind) => kind switch
    {
        "default" => null,
        "continual" => new BprMf(new BprMfOptions { Dimensions = 8, BatchSize = 16, Seed = 11, UpdateEpochs = 2 }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown learner"),
    };

    [Theory]
    [InlineData("default", 32, 8, 7, 3)]
    [InlineData("continual", 8, 2, 2, 1)]
    public void Killed_at_seeded_points_the_recovered_tracker_equals_the_uninterrupted_one(string learner, int acks, int appends, int writes,
        int renames)
    {
        string root = TrackerPersistenceHarness.TempDirectory();
        try
        {
            List<InteractionEvent> stream = StreamHead(Events);
            string eventsFile = Path.Combine(root, "events.tsv");
            CrashHost.WriteEvents(eventsFile, stream);
            (byte[] expected, string answers) = Uninterrupted(stream, learner);

            var rng = new Random(20261202);
            var plan = new List<string>();
            for (int i = 0; i < acks; i++)
            {
                plan.Add($"ack:{rng.Next(1, Events)}");
            }

            for (int i = 0; i < appends; i++)
            {
                plan.Add($"journal-append:{rng.Next(1, Events)}");
            }

            for (int i = 0; i < writes; i++)
            {
                plan.Add($"checkpoint-write:{1 + rng.Next(Events / CheckpointEvery)}");
            }

            for (int i = 0; i < renames; i++)
            {
                plan.Add($"checkpoint-renamed:{1 + rng.Next(Events / CheckpointEvery)}");
            }

            var clock = Stopwatch.StartNew();
            var lines = new List<string>();
            for (int run = 0; run < plan.Count; run++)
            {
                string directory = Path.Combine(root, $"run{run}");
                (long acked, bool killed) = RunChild(eventsFile, directory, plan[run], learner);
                using var recovered = new PreferenceTracker(Options(directory, JournalFlushPolicy.OnCheckpoint), Learner(learner), null);
                long observed = recovered.Statistics.EventsObserved;
                Assert.True(observed >= acked && observed <= acked + 1, $"{plan[run]}: {acked} acknowledged, {observed} recovered");
                for (int i = (int)observed; i < stream.Count; i++)
                {
                    recovered.Observe(stream[i]);
                }

                Assert.Equal(expected, TrackerPersistenceHarness.State(recovered));
                Assert.Equal(answers, Answers(recovered));
                lines.Add($"{plan[run]}: killed {killed}, acknowledged {acked}, recovered {observed} (checkpoint {recovered.Recovery!.CheckpointUsed}, replayed {recovered.Recovery.EventsReplayed}, torn bytes {recovered.Recovery.TornBytesDropped})");
                recovered.Dispose();
                Directory.Delete(directory, recursive: true);
            }

            output.WriteLine($"{learner} learner: {plan.Count} crash points in {clock.Elapsed.TotalSeconds:F0} s; events lost 0 in every run.");
            lines.ForEach(output.WriteLine);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The first events of the bundled Online Retail stream, as the shop would send them.</summary>
    private static List<InteractionEvent> StreamHead(int count)
    {
        OnlineRetailData data = OnlineRetail.Load(Path.Combine(Repository.Root, OnlineRetail.SamplePath));
        InteractionLog log = data.Log;
        return [.. log.Events.Take(count).Select(e => new InteractionEvent(log.Users.GetId(e.User), log.Items.GetId(e.Item),
            new DateTimeOffset(e.Ticks, TimeSpan.Zero), e.Kind, e.Quantity, e.Value, e.Basket >= 0 ? "b" + e.Basket.ToString(CultureInfo.InvariantCulture) : null))];
    }

    private static (byte[] State, string Answers) Uninterrupted(List<InteractionEvent> stream, string learner)
    {
        TrackerOptions persisted = Options("unused", JournalFlushPolicy.OnCheckpoint);
        using var tracker = new PreferenceTracker(new TrackerOptions
        {
            MicroBatchSize = persisted.MicroBatchSize,
            FlushInterval = persisted.FlushInterval,
            Dimensions = persisted.Dimensions,
            Seed = persisted.Seed,
        }, Learner(learner), null);
        stream.ForEach(tracker.Observe);
        return (TrackerPersistenceHarness.State(tracker), Answers(tracker));
    }

    private static string Answers(PreferenceTracker tracker) =>
        string.Join("|", new[] { "17850", "13047", "12583", "13748", "15100" }.Select(user => Lifelong.TrackerScenario.Render(tracker.Recommend(user, 5))));

    /// <summary>Runs the child until it stalls at its crash point, reaches its acknowledgement target, or finishes; kills it in the first two cases.</summary>
    private static (long Acked, bool Killed) RunChild(string eventsFile, string directory, string point, string learner)
    {
        string[] spec = point.Split(':');
        long killAt = spec[0] == "ack" ? long.Parse(spec[1], CultureInfo.InvariantCulture) : long.MaxValue;
        string crash = spec[0] == "ack" ? "none" : point;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "exec", typeof(CrashHost).Assembly.Location, CrashHost.Flag, eventsFile, directory,
                     CheckpointEvery.ToString(CultureInfo.InvariantCulture), crash, learner })
        {
            info.ArgumentList.Add(arg);
        }

        using var child = Process.Start(info)!;
        child.ErrorDataReceived += (_, _) => { };
        child.BeginErrorReadLine();
        long acked = 0;
        bool killed = false;
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (line == CrashHost.Done)
            {
                break;
            }

            if (line == CrashHost.Stalled || (long.TryParse(line, CultureInfo.InvariantCulture, out long n) && (acked = n) >= killAt))
            {
                child.Kill(entireProcessTree: true);
                killed = true;
                break;
            }
        }

        // Acknowledgements the child printed before it died are still in the pipe: the last one is what it acknowledged.
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (long.TryParse(line, CultureInfo.InvariantCulture, out long n))
            {
                acked = n;
            }
        }

        child.WaitForExit();
        Assert.True(killed || child.ExitCode == 0, $"{point}: the child failed with exit code {child.ExitCode}");
        return (acked, killed);
    }
}

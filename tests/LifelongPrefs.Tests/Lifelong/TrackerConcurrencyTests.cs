using System.Collections.Concurrent;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// Eight readers and one writer on one tracker while the learner publishes versions: no read throws, no score is NaN,
/// and every one of the million answers equals the answer recomputed afterwards, on one thread, from the version it
/// reports and the history length it saw. The oracle is the tracker's own read path applied to the kept version. Run
/// with ItemKNN and with the default learner, whose versions share copy-on-write chunks with the writer's tables.
/// </summary>
public class TrackerConcurrencyTests
{
    private const int Readers = 8, ReadsPerReader = 125_000, Users = 40, Items = 50, K = 5;

    private readonly record struct Read(int User, long Version, int HistoryLength, int Hash);

    [Theory]
    [InlineData(false)] // ItemKNN: a version is a set of arrays
    [InlineData(true)]  // the default learner: versions share copy-on-write chunks with the tables the writer keeps changing
    public async Task A_million_reads_during_learning_each_equal_the_answer_of_the_version_they_report(bool defaultLearner)
    {
        var versions = new ConcurrentDictionary<long, PublishedVersion>();
        var options = new TrackerOptions { MicroBatchSize = 32, FlushInterval = Timeout.InfiniteTimeSpan, MaxHistoryPerUser = 10_000 };
        IRecommender learner = defaultLearner
            ? new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 8, ContextItems = 20, Seed = 5 })
            : SmallLearner();
        await using var tracker = new PreferenceTracker(options, learner, null);
        tracker.VersionPublished += v => versions[v.Number] = v;
        versions[0] = tracker.CurrentVersion;
        List<InteractionEvent> events = Events(Users, Items, categories: 5, days: 60, seed: 11);
        tracker.Observe(events.Take(200)); // some history before the readers start

        var reads = new Read[Readers][];
        int readersRunning = Readers;
        Exception? failure = null;
        var threads = new List<Thread>();
        for (int t = 0; t < Readers; t++)
        {
            int thread = t;
            threads.Add(new Thread(() =>
            {
                try
                {
                    var rng = new Random(100 + thread);
                    var mine = new Read[ReadsPerReader];
                    for (int i = 0; i < ReadsPerReader; i++)
                    {
                        int user = rng.Next(Users + 2); // two users never seen: the cold-start path under load too
                        RecommendationList list = tracker.Recommend(UserId(user), K);
                        foreach (Recommendation r in list)
                        {
                            if (!float.IsFinite(r.Score))
                            {
                                throw new InvalidOperationException($"score {r.Score} for {r.ItemId}");
                            }
                        }

                        mine[i] = new Read(user, list.ModelVersion, list.HistoryLength, Hash(list));
                    }

                    reads[thread] = mine;
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    Interlocked.Decrement(ref readersRunning);
                }
            }));
        }

        threads.ForEach(t => t.Start());
        int next = 200;
        while (Volatile.Read(ref readersRunning) > 0 && next < events.Count)
        {
            tracker.Observe(events[next++]);
            Thread.Sleep(next % 8 == 0 ? 1 : 0);
        }

        threads.ForEach(t => t.Join());
        Assert.Null(failure);
        await tracker.FlushAsync();

        // Recompute every read from its version and its prefix of the user's history.
        int checkedReads = 0;
        var seenVersions = new HashSet<long>();
        foreach (Read read in reads.SelectMany(r => r))
        {
            (int user, UserLog? log) = tracker.Find(UserId(read.User));
            ReadOnlySpan<Interaction> history = log is null ? [] : log.Recent(int.MaxValue)[..read.HistoryLength];
            RecommendationList again = tracker.RecommendFrom(versions[read.Version], user, null, history, K, RecommendOptions.Default);
            Assert.Equal(read.Hash, Hash(again));
            seenVersions.Add(read.Version);
            checkedReads++;
        }

        Assert.Equal(Readers * ReadsPerReader, checkedReads);
        Assert.True(seenVersions.Count >= 3, $"the readers saw only {seenVersions.Count} versions; the test did not exercise publishing");
    }

    private static int Hash(RecommendationList list)
    {
        var hash = new HashCode();
        hash.Add(list.IsColdStart);
        foreach (Recommendation r in list)
        {
            hash.Add(r.ItemId);
            hash.Add(BitConverter.SingleToInt32Bits(r.Score));
            hash.Add(r.Reason);
        }

        return hash.ToHashCode();
    }
}

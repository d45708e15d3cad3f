using System.Runtime.InteropServices;
using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// Reads are thread-safe on every model: many threads calling <c>Score</c>/<c>Recommend</c> at once on one fitted
/// model (or on one of its scorers) get exactly the single-threaded answers, a scorer taken before an update keeps
/// its answers while the model learns, and recommending allocates nothing once warm. The oracle is the same model
/// queried on one thread, before any other thread touches it.
/// </summary>
public class ConcurrentScoringTests
{
    private const int Users = 20, Items = 24, Threads = 8, Calls = 1000;

    public static TheoryData<string> Models => new()
    {
        "Popularity", "PersonalPopularity", "ItemKNN", "BPR-MF", "PropensityMLP", "GRU4Rec", "SASRec", "RepeatAware", "TIFU-KNN", "UP-CF",
        "RepeatExplore",
    };

    private static IRecommender Create(string name) => name switch
    {
        "Popularity" => new Popularity(halfLifeDays: 20),
        "PersonalPopularity" => new PersonalPopularity(),
        "ItemKNN" => new ItemKnn(),
        "BPR-MF" => new BprMf(new BprMfOptions { Dimensions = 8, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 32, ValidationUsers = 4, Seed = 3 }),
        "PropensityMLP" => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 8, Hidden2 = 6, MaxEpochs = 3, UpdateEpochs = 2, BatchSize = 32,
            NegativesPerPositive = 3, ValidationUsers = 4, Seed = 3 }),
        "GRU4Rec" => new Gru4Rec(new Gru4RecOptions { Dimensions = 8, HiddenSize = 6, MaxLength = 6, MaxEpochs = 3, UpdateEpochs = 2,
            BatchSize = 8, ValidationUsers = 4, Seed = 3 }),
        "SASRec" => new SasRec(new SasRecOptions { Dimensions = 8, Blocks = 2, Heads = 2, MaxLength = 7, MaxEpochs = 3, UpdateEpochs = 2,
            BatchSize = 8, ValidationUsers = 4, Seed = 3 }),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions { Hidden = 8, MaxEpochs = 3, UpdateEpochs = 2, BatchSize = 32,
            ExploreCandidates = 6, RandomNegatives = 5, ValidationUsers = 4, Seed = 3 }),
        "TIFU-KNN" => new TifuKnn(new TifuKnnOptions { Neighbors = [3, 5], GroupCounts = [2], Alphas = [0.3f, 0.7f], ValidationUsers = 4, Seed = 3 }),
        "UP-CF" => new UpCf(new UpCfOptions { Recencies = [2, 1], Asymmetries = [0.5f], Localities = [2, 5], ValidationUsers = 4, Seed = 3 }),
        "RepeatExplore" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 6, OwnCandidates = 4, ContextItems = 4,
            CooccurrenceItems = 5, Seed = 3 }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model"),
    };

    /// <summary>
    /// Every user shops on a few days: a basket of two or three items drawn mostly from a personal favourite range
    /// (so the models learn something user-specific), with the odd return and a repeated line.
    /// </summary>
    private static List<Interaction> Shopping(int users, int items, int days, int firstDay, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int day = firstDay; day < firstDay + days; day++)
        {
            for (int u = 0; u < users; u++)
            {
                if (random.Next(3) == 0)
                {
                    continue;
                }

                long ticks = ((long)day * TimeSpan.TicksPerDay) + (u * TimeSpan.TicksPerSecond);
                int basket = (day * 1000) + u, size = 2 + random.Next(2);
                for (int line = 0; line < size; line++)
                {
                    int item = random.Next(4) == 0 ? random.Next(items) : ((u * 3) + random.Next(4)) % items;
                    EventKind kind = random.Next(20) == 0 ? EventKind.Return : EventKind.Purchase;
                    events.Add(new Interaction(u, item, ticks + line, kind, 1 + random.Next(3), 1.5f, basket));
                }
            }
        }

        return events;
    }

    /// <summary>A model of kind <paramref name="name"/> fitted on <paramref name="days"/> days of shopping.</summary>
    private static (IRecommender Model, List<Interaction> Events) Fitted(string name, int days, int seed)
    {
        List<Interaction> events = Shopping(Users, Items, days, 0, seed);
        IRecommender model = Create(name);
        model.Fit(events, Users, Items);
        return (model, events);
    }

    /// <summary>One read: a user (some never seen), a prefix of some user's history, K and sorted exclusions.</summary>
    private sealed record Request(int User, Interaction[] History, int K, int[] Excluded);

    private static Request[] Requests(List<Interaction> events, int users, int items, int seed)
    {
        var random = new Random(seed);
        Interaction[][] byUser = [.. Enumerable.Range(0, users).Select(u => events.Where(e => e.User == u).ToArray())];
        var requests = new Request[Calls];
        for (int i = 0; i < requests.Length; i++)
        {
            int user = random.Next(users + 3);   // users ≥ Users were never trained on
            Interaction[] own = byUser[user % users];
            Interaction[] history = own[..random.Next(own.Length + 1)];
            int[] excluded = [.. Enumerable.Range(0, items).Where(_ => random.Next(8) == 0)];
            requests[i] = new Request(user, history, 1 + random.Next(12), excluded);
        }

        return requests;
    }

    /// <summary>The answer to one request: the recommended items and (unless skipped) the full score vector, as raw bits.</summary>
    private static (int[] Items, int[] ScoreBits) Answer(IScorer scorer, Request request, bool scores = true)
    {
        var top = new int[request.K];
        int found = scorer.Recommend(request.User, request.History, top, request.Excluded);
        if (!scores)
        {
            return (top[..found], []);
        }

        var all = new float[scorer.ItemCount];
        scorer.Score(request.User, request.History, all);
        return (top[..found], MemoryMarshal.Cast<float, int>(all).ToArray());
    }

    private static bool Same((int[] Items, int[] ScoreBits) actual, (int[] Items, int[] ScoreBits) expected) =>
        actual.Items.AsSpan().SequenceEqual(expected.Items)
        && (actual.ScoreBits.Length == 0 || actual.ScoreBits.AsSpan().SequenceEqual(expected.ScoreBits));

    /// <summary>
    /// Runs <paramref name="calls"/> requests on each of <see cref="Threads"/> threads at once (each in its own order;
    /// every fourth call also compares the full score vector); returns the number of answers that differ.
    /// </summary>
    private static int Mismatches(IScorer scorer, Request[] requests, (int[] Items, int[] ScoreBits)[] expected, int calls)
    {
        int mismatches = 0;
        using var start = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int offset = t * (requests.Length / Threads);
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < calls; i++)
                {
                    int r = (offset + (i * 7)) % requests.Length;
                    if (!Same(Answer(scorer, requests[r], scores: i % 4 == 0), expected[r]))
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return mismatches;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Eight_threads_get_the_single_threaded_answers_bit_for_bit(string name)
    {
        (IRecommender model, List<Interaction> events) = Fitted(name, 30, 11);
        Request[] requests = Requests(events, Users, Items, 12);
        (int[] Items, int[] ScoreBits)[] expected = [.. requests.Select(r => Answer(model, r))];

        // The oracle is not trivial: the answers depend on the user and history.
        Assert.True(expected.Select(e => string.Join(',', e.Items)).Distinct().Count() > 20, "the requests should get varied answers");

        Assert.Equal(0, Mismatches(model, requests, expected, Calls));
        Assert.Equal(0, Mismatches(model.CreateScorer(), requests, expected, Calls / 4));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_scorer_keeps_its_answers_while_the_model_is_updated(string name)
    {
        List<Interaction> first = Shopping(Users, Items, 24, 0, 21);
        List<Interaction> second = Shopping(Users + 4, Items + 5, 8, 24, 22);   // new users and new items
        IRecommender model = Create(name);
        model.Fit(first, Users, Items);
        IScorer before = model.CreateScorer();
        Request[] requests = Requests(first, Users, Items, 23)[..200];
        (int[] Items, int[] ScoreBits)[] old = [.. requests.Select(r => Answer(model, r))];
        Assert.Equal(old, requests.Select(r => Answer(before, r)), AnswerComparer.Instance);

        // Readers keep using the old scorer on other threads while the model learns.
        int mismatches = 0;
        using var stop = new ManualResetEventSlim();
        var readers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (int i = t; !stop.IsSet || i < 2 * requests.Length; i++)
            {
                if (!Same(Answer(before, requests[i % requests.Length]), old[i % requests.Length]))
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })).ToArray();
        foreach (Thread reader in readers)
        {
            reader.Start();
        }

        model.Update(second, Users + 4, Items + 5);
        stop.Set();
        foreach (Thread reader in readers)
        {
            reader.Join();
        }

        Assert.Equal(0, mismatches);
        Assert.Equal(Items, before.ItemCount);
        Assert.Equal(Items + 5, model.ItemCount);

        // The model's new answers are a fresh scorer's, and the update changed them.
        IScorer after = model.CreateScorer();
        Request[] newRequests = Requests([.. first, .. second], Users + 4, Items + 5, 24)[..200];
        (int[] Items, int[] ScoreBits)[] updated = [.. newRequests.Select(r => Answer(model, r))];
        Assert.Equal(updated, newRequests.Select(r => Answer(after, r)), AnswerComparer.Instance);
        Assert.NotEqual(old.Select(o => o.ScoreBits[0]), requests.Select(r => Answer(model, r).ScoreBits[0]));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Recommend_allocates_nothing_after_warm_up(string name)
    {
        (IRecommender model, List<Interaction> events) = Fitted(name, 20, 31);
        IScorer scorer = model.CreateScorer();
        Interaction[] history = [.. events.Where(e => e.User == 3)];
        var top = new int[10];
        int[] excluded = [1, 4, 9];
        Allocations.AssertNone($"{name}.Recommend", () => model.Recommend(3, history, top, excluded));
        Allocations.AssertNone($"{name} scorer Recommend", () => scorer.Recommend(Users + 1, history, top, excluded));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_scorer_rejects_bad_arguments_and_keeps_answering(string name)
    {
        (IRecommender model, List<Interaction> events) = Fitted(name, 12, 41);
        IScorer scorer = model.CreateScorer();
        Request request = Requests(events, Users, Items, 42)[0];
        (int[] Items, int[] ScoreBits) before = Answer(scorer, request);
        Assert.Throws<ArgumentException>(() => scorer.Score(0, request.History, new float[Items + 1]));
        Assert.Throws<ArgumentException>(() => scorer.Recommend(0, request.History, new int[3], [5, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Recommend(0, request.History, new int[3], [Items]));
        Assert.Throws<ArgumentException>(() => model.Recommend(0, request.History, new int[3], [5, 5]));
        Assert.True(Same(Answer(scorer, request), before));
        Assert.True(Same(Answer(model, request), before));
    }

    /// <summary>Compares answers by value (arrays inside tuples compare by reference otherwise).</summary>
    private sealed class AnswerComparer : IEqualityComparer<(int[] Items, int[] ScoreBits)>
    {
        internal static readonly AnswerComparer Instance = new();

        public bool Equals((int[] Items, int[] ScoreBits) x, (int[] Items, int[] ScoreBits) y) => Same(x, y) && Same(y, x);

        public int GetHashCode((int[] Items, int[] ScoreBits) obj) => obj.Items.Length;
    }
}

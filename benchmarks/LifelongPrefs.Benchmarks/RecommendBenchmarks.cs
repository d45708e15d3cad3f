using BenchmarkDotNet.Attributes;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// <c>Recommend</c> (score the whole catalog, then top-10 with exclusions) at Online-Retail size — 4,000 items,
/// d = 64, histories of 40 events — on one thread and on two threads sharing one fitted model.
/// </summary>
/// <remarks>
/// Each invocation makes <see cref="Calls"/> calls, split evenly over the threads, so the reported time is per call
/// and calls/s is its inverse; the one-thread method is the baseline, so the ratio column is the parallel speed-up.
/// The models are "fitted" with no training epochs: scoring costs the same whatever the weights hold, and setup
/// stays fast. Two threads use <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>, whose
/// bookkeeping is the only allocation per invocation (Recommend itself allocates nothing).
/// </remarks>
[MemoryDiagnoser]
public class RecommendBenchmarks
{
    private const int Calls = 64;
    private const int Items = 4000;
    private const int Users = 64;
    private const int HistoryLength = 40;

    private IRecommender _model = null!;
    private Interaction[][] _histories = [];
    private int[][] _excluded = [];
    private int[][] _top = [];

    /// <summary>Gets or sets the model under test.</summary>
    [Params("BPR-MF", "GRU4Rec", "SASRec", "PropensityMLP")]
    public string Model { get; set; } = "BPR-MF";

    /// <summary>Fits the model on a small synthetic log over the full catalog and prepares one request per user.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2718);
        var events = new List<Interaction>();
        _histories = new Interaction[Users][];
        _excluded = new int[Users][];
        for (int u = 0; u < Users; u++)
        {
            var history = new Interaction[HistoryLength];
            for (int k = 0; k < HistoryLength; k++)
            {
                // Baskets of four lines a week apart; items anywhere in the catalog.
                long ticks = TimeSpan.TicksPerDay * 7 * (k / 4) + k;
                history[k] = new Interaction(u, random.Next(Items), ticks, EventKind.Purchase, 1f, 2f, (u * 100) + (k / 4));
            }

            events.AddRange(history);
            _histories[u] = history;
            _excluded[u] = [.. history.Select(e => e.Item).Distinct().Order()];
        }

        events.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));
        _model = Model switch
        {
            "BPR-MF" => new BprMf(new BprMfOptions { Dimensions = 64, MaxEpochs = 0, UpdateEpochs = 0, ValidationUsers = 0 }),
            "GRU4Rec" => new Gru4Rec(new Gru4RecOptions { Dimensions = 64, HiddenSize = 64, MaxEpochs = 0, ValidationUsers = 0 }),
            "SASRec" => new SasRec(new SasRecOptions { Dimensions = 64, MaxEpochs = 0, ValidationUsers = 0 }),
            "PropensityMLP" => new PropensityMlp(new PropensityMlpOptions { MaxEpochs = 1, ValidationUsers = 0 }),
            _ => throw new InvalidOperationException($"Unknown model '{Model}'."),
        };
        _model.Fit(events, Users, Items);
        _top = [.. Enumerable.Range(0, Users).Select(_ => new int[10])];
        if (_model.Recommend(0, _histories[0], _top[0], _excluded[0]) != 10)
        {
            throw new InvalidOperationException($"{Model} did not recommend 10 items.");
        }
    }

    /// <summary><see cref="Calls"/> calls on the calling thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public int OneThread() => Run(0, Calls);

    /// <summary><see cref="Calls"/> calls, half on each of two threads at once.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int TwoThreads()
    {
        int total = 0;
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t => Interlocked.Add(ref total, Run(t * (Calls / 2), Calls / 2)));
        return total;
    }

    private int Run(int first, int count)
    {
        int found = 0;
        for (int i = first; i < first + count; i++)
        {
            int u = i % Users;
            // Each thread works on its own users' output buffers (first..first+count never overlap across threads).
            found += _model.Recommend(u, _histories[u], _top[i % Users], _excluded[u]);
        }

        return found;
    }
}

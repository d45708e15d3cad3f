using BenchmarkDotNet.Attributes;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// The tracker's default learner at the shape (64-d, 100,000 items; 10,000 users here): one
/// <see cref="RepeatExplore.Update"/> of a 1,000-event micro-batch (about 200 baskets of five lines), the same with
/// the snapshot the tracker publishes after it, a snapshot alone, and — for scale — what a snapshot would cost if
/// it copied the 100,000 × 65 output table. Events/s = 1,000 / the Update time. The micro-batches cycle over
/// pairs the model has already seen, so the Allocated column shows the steady state (0 B per step).
/// </summary>
[MemoryDiagnoser]
public class RepeatExploreBenchmarks
{
    private const int Users = 10_000, Items = 100_000, Dimensions = 64, BatchEvents = 1_000, Batches = 16;

    private RepeatExplore _model = null!;
    private List<Interaction>[] _batches = [];
    private float[] _table = [], _copy = [];
    private int _next;

    /// <summary>Fits the model on 200,000 warm-up events and replays every micro-batch once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2024);
        long ticks = new DateTime(2011, 1, 1).Ticks;
        int basket = 0;
        List<Interaction> Generate(int events)
        {
            var list = new List<Interaction>(events);
            while (list.Count < events)
            {
                // A basket of five lines from the user's own neighbourhood of the catalog, plus popular items.
                int user = random.Next(Users);
                int home = user * 37 % Items;
                ticks += TimeSpan.TicksPerMinute;
                for (int k = 0; k < 5 && list.Count < events; k++)
                {
                    int item = random.Next(3) == 0 ? random.Next(1_000) : (home + random.Next(200)) % Items;
                    list.Add(new Interaction(user, item, ticks, EventKind.Purchase, 1, 1, basket));
                }

                basket++;
            }

            return list;
        }

        _model = new RepeatExplore(new RepeatExploreOptions { Dimensions = Dimensions, Seed = 1 });
        _model.Fit(Generate(200_000), Users, Items);
        _batches = [.. Enumerable.Range(0, Batches).Select(_ => Generate(BatchEvents))];
        foreach (List<Interaction> batch in _batches)
        {
            _model.Update(batch, Users, Items);
        }

        _table = new float[Items * (Dimensions + 1)];
        _copy = new float[_table.Length];
    }

    /// <summary>One micro-batch of 1,000 events learned once each.</summary>
    [Benchmark(Baseline = true)]
    public void UpdateMicroBatch() => _model.Update(_batches[_next++ % Batches], Users, Items);

    /// <summary>One micro-batch, then the version the tracker publishes (the writer's copy-on-write copies included).</summary>
    [Benchmark]
    public IScorer UpdateAndPublish()
    {
        _model.Update(_batches[_next++ % Batches], Users, Items);
        return _model.CreateScorer();
    }

    /// <summary>A snapshot alone: the chunk directories and the gate's weights.</summary>
    [Benchmark]
    public IScorer Snapshot() => _model.CreateScorer();

    /// <summary>What a full copy of the output table (100,000 × 65 floats, 26 MB) would cost per version.</summary>
    [Benchmark]
    public void FullTableCopy() => _table.AsSpan().CopyTo(_copy);
}

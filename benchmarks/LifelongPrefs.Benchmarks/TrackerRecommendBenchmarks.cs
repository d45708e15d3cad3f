using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// <c>Recommend</c> top-10 of 100,000 items (64-d, the default learner) in its parts and through the facade: the
/// default learner's catalog pass as it was (feature by feature: a Gemv per 8-row chunk, the trend's exp and log per
/// item, a cleared co-occurrence buffer; the baseline), the fused fp32 pass that replaced it (over the version's
/// 256-row segments), and the int8 pass with its exact re-ranking of 200 candidates; then
/// <see cref="PreferenceTracker.RecommendInto"/> with each <see cref="ItemTablePrecision"/>; and what a version's
/// first call pays when none of its segments can be taken from the previous version's tables (a full build); and the
/// floors: each table streamed through its dot-product kernel with no other work. Per-call percentiles of the same rows,
/// interleaved in one process: <see cref="RecommendParts"/>.
/// </summary>
/// <remarks>
/// Two trackers are fed the same 60,000 purchases (2,000 users with 30 each over 100,000 registered items, half of
/// them from the first 1% of the catalog) and flushed, so every call reads one settled version; each invocation makes
/// <see cref="Calls"/> calls for different users. The per-version tables (the item terms, the int8 copy) are built by
/// the warm-up, as they are by the first call after each publish.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class TrackerRecommendBenchmarks
{
    private const int Calls = 32, Items = 100_000, Users = 2_000, EventsPerUser = 30, Dimensions = 64;

    private PreferenceTracker _exact = null!, _quantized = null!;
    private RepeatExploreScorer _scorer = null!;
    private string[] _userIds = [];
    private Interaction[][] _histories = [];
    private int[] _users = [];
    private readonly float[] _scores = new float[Items];
    private readonly Recommendation[] _buffer = new Recommendation[10];
    private readonly float[] _h = [.. Enumerable.Range(0, Dimensions).Select(j => MathF.Sin(j))];
    private readonly sbyte[] _levels = [.. Enumerable.Range(0, Dimensions).Select(j => (sbyte)((j * 37 % 255) - 127))];
    private readonly int[] _sums = new int[256];

    /// <summary>Gets the fp32 tracker (for <see cref="RecommendParts"/>, after <see cref="Setup"/>).</summary>
    internal PreferenceTracker Exact => _exact;

    /// <summary>Gets the int8 tracker.</summary>
    internal PreferenceTracker Quantized => _quantized;

    /// <summary>Gets the fp32 tracker's scorer.</summary>
    internal RepeatExploreScorer Scorer => _scorer;

    /// <summary>Gets the shop ids of the users the calls ask for.</summary>
    internal string[] UserIds => _userIds;

    /// <summary>Gets their dense indices.</summary>
    internal int[] DenseUsers => _users;

    /// <summary>Gets their histories as the tracker passes them.</summary>
    internal Interaction[][] Histories => _histories;

    /// <summary>Feeds both trackers and waits until they have learned everything.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var events = new List<InteractionEvent>(Users * EventsPerUser);
        var random = new Random(42);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int k = 0; k < EventsPerUser; k++)
        {
            for (int u = 0; u < Users; u++)
            {
                int item = random.Next(2) == 0 ? random.Next(Items / 100) : random.Next(Items);
                events.Add(new InteractionEvent(Id("c", u), Id("p", item), start.AddHours((k * Users) + u), EventKind.Purchase));
            }
        }

        _exact = Fed(ItemTablePrecision.Exact, events);
        _quantized = Fed(ItemTablePrecision.Quantized, events);
        _scorer = (RepeatExploreScorer)_exact.CurrentVersion.Scorer!;
        _userIds = [.. Enumerable.Range(0, Calls).Select(u => Id("c", u * 7))];
        _users = [.. _userIds.Select(id => _exact.Find(id).User)];
        _histories = [.. _userIds.Select(id => _exact.Find(id).Log!.Recent(_exact.Options.MaxHistoryPerUser).ToArray())];
        if (_scorer.ItemCount != Items || _exact.Recommend(_userIds[0]).IsColdStart)
        {
            throw new InvalidOperationException("The trackers did not learn the whole catalog.");
        }
    }

    /// <summary>Disposes the trackers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _exact.Dispose();
        _quantized.Dispose();
    }

    /// <summary>The catalog pass as it was: feature by feature.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public float ScoreFeatureByFeature()
    {
        for (int c = 0; c < Calls; c++)
        {
            _scorer.ScoreByFeatures(_users[c], _histories[c], _scores);
        }

        return _scores[0];
    }

    /// <summary>The fused fp32 pass (the same scores, bit for bit).</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public float ScoreFused()
    {
        for (int c = 0; c < Calls; c++)
        {
            _scorer.Score(_users[c], _histories[c], _scores);
        }

        return _scores[0];
    }

    /// <summary>The int8 pass with 200 candidates re-ranked exactly.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public float ScoreInt8()
    {
        for (int c = 0; c < Calls; c++)
        {
            _scorer.ScoreQuantized(_users[c], _histories[c], _scores, 200);
        }

        return _scores[0];
    }

    /// <summary>The fp32 floor: the version's segment table streamed through <see cref="Kernels.RowDots"/> alone (no other work).</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public float StreamFp32Table()
    {
        Fp32ItemTable table = _scorer.Fp32Table;
        for (int c = 0; c < Calls; c++)
        {
            for (int s = 0, at = 0; at < Items; s++, at += 256)
            {
                int m = Math.Min(256, Items - at);
                Kernels.RowDots(table.Weights[s].AsSpan(0, m * Dimensions), Dimensions, m, Dimensions, _h, _scores.AsSpan(at, m));
            }
        }

        return _scores[0];
    }

    /// <summary>The int8 floor: the version's int8 table streamed through <see cref="Kernels.Int8BlockDots"/> alone.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int StreamInt8Table()
    {
        Int8ItemTable table = _scorer.Int8Table;
        for (int c = 0; c < Calls; c++)
        {
            foreach (QuantizedSegment segment in table.Segments)
            {
                Kernels.Int8BlockDots(segment.Packed, _levels, Dimensions / 4, _sums.AsSpan(0, segment.Rows));
            }
        }

        return _sums[0];
    }

    /// <summary>A version's fp32 segment table built from scratch (nothing shared with a previous version).</summary>
    [Benchmark]
    public int BuildFp32Table() => Fp32ItemTable.Build(_scorer.Outputs, Items, Dimensions, new RepeatExploreOptions()).Weights.Length;

    /// <summary>A version's int8 table built from scratch (every chunk quantized).</summary>
    [Benchmark]
    public int BuildInt8Table() => Int8ItemTable.Build(_scorer.Outputs, Items, Dimensions, new RepeatExploreOptions()).Segments.Length;

    /// <summary>Top-10 through the facade, fp32.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int RecommendExact() => Recommend(_exact);

    /// <summary>Top-10 through the facade, int8 with exact re-ranking.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int RecommendQuantized() => Recommend(_quantized);

    private int Recommend(PreferenceTracker tracker)
    {
        int n = 0;
        foreach (string user in _userIds)
        {
            n += tracker.RecommendInto(user, _buffer).Count;
        }

        return n;
    }

    private static PreferenceTracker Fed(ItemTablePrecision precision, List<InteractionEvent> events)
    {
        var tracker = new PreferenceTracker(new TrackerOptions
        {
            Dimensions = Dimensions, Seed = 42, MicroBatchSize = 1_000, FlushInterval = Timeout.InfiniteTimeSpan, ItemTablePrecision = precision,
        });
        for (int i = 0; i < Items; i++)
        {
            tracker.RegisterItem(Id("p", i));
        }

        tracker.Observe(events);
        tracker.FlushAsync().GetAwaiter().GetResult();
        return tracker;
    }

    private static string Id(string prefix, int i) => prefix + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds percentile columns (over iterations) to the suite's configuration.</summary>
    private sealed class PercentileConfig : ManualConfig
    {
        public PercentileConfig() => AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.P100);
    }
}

using System.Diagnostics;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Per-call percentiles of <see cref="TrackerRecommendBenchmarks"/>' rows and of their parts, every row timed call by
/// call and the rows interleaved round by round in one process, so they see the same load on a shared machine:
/// <c>-- --recommend-parts [--rounds N] [--overlap] [--first-call]</c> (<c>--overlap</c>: first the int8 pass's top-10
/// agreement with the fp32 one over the shop's users, <see cref="TopTenOverlap"/>; <c>--first-call</c>: what a new
/// version's first call pays, after the timed rows). Besides the scoring passes and the facade it times the floors: one bare
/// pass of the fp32 segment table's row dots and one of the int8 table's block dots (no other work).
/// </summary>
internal static class RecommendParts
{
    internal const string Switch = "--recommend-parts";

    internal static int Run(string[] args)
    {
        int rounds = TrackerLoad.Arg(args, "--rounds", 40);
        var bench = new TrackerRecommendBenchmarks();
        bench.Setup();
        RepeatExploreScorer scorer = bench.Scorer;
        if (args.Contains("--overlap"))
        {
            TopTenOverlap.Print(scorer, ShopUsers(bench), [10, 25, 50, 100, 200]);
        }

        int items = scorer.ItemCount, d = scorer.Dimensions;
        var scores = new float[items];
        var buffer = new Recommendation[10];
        Fp32ItemTable fp32 = scorer.Fp32Table;
        Int8ItemTable int8 = scorer.Int8Table;
        var h = new float[d];
        var levels = new sbyte[d];
        var sums = new int[256];
        var top = new int[10];
        var topScores = new float[10];
        var random = new Random(7);
        for (int j = 0; j < d; j++)
        {
            h[j] = (float)(random.NextDouble() - 0.5);
            levels[j] = (sbyte)random.Next(-127, 128);
        }

        var big = new float[items * d];
        big.AsSpan().Fill(1f);
        int[] users = bench.DenseUsers;
        var coocBuffer = new float[items];
        var coocTouched = new int[items + 1];
        Interaction[][] histories = bench.Histories;
        string[] ids = bench.UserIds;
        (string Name, int Every, Action<int> Call)[] rows =
        [
            ("floor fp32 RowDots 100k x 64", 1, _ =>
            {
                for (int s = 0, at = 0; at < items; s++, at += 256)
                {
                    int m = Math.Min(256, items - at);
                    Kernels.RowDots(fp32.Weights[s].AsSpan(0, m * d), d, m, d, h, scores.AsSpan(at, m));
                }
            }),
            ("floor int8 BlockDots 100k x 64", 1, _ =>
            {
                foreach (QuantizedSegment segment in int8.Segments)
                {
                    Kernels.Int8BlockDots(segment.Packed, levels, d / 4, sums.AsSpan(0, segment.Rows));
                }
            }),
            ("read 25.6 MB contiguous", 1, _ => Read(big)),
            ("read 6.4 MB contiguous", 1, _ => Read(big.AsSpan(0, big.Length / 4))),
            ("int8 BlockDots, 1/8 of table x 8 (L2)", 1, _ =>
            {
                for (int rep = 0; rep < 8; rep++)
                {
                    for (int s = 0; s < int8.Segments.Length / 8; s++)
                    {
                        QuantizedSegment segment = int8.Segments[s];
                        Kernels.Int8BlockDots(segment.Packed, levels, d / 4, sums.AsSpan(0, segment.Rows));
                    }
                }
            }),
            ("fp32 RowDots, 1/16 of table x 16 (L2)", 1, _ =>
            {
                for (int rep = 0; rep < 16; rep++)
                {
                    for (int s = 0; s < fp32.Weights.Length / 16; s++)
                    {
                        Kernels.RowDots(fp32.Weights[s].AsSpan(0, 256 * d), d, 256, d, h, scores.AsSpan(0, 256));
                    }
                }
            }),
            ("cooc rows, compacted (after a 25.6 MB read)", 1, c => { Read(big); CoocRows(scorer.Cooccurrence, histories[c], coocBuffer, coocTouched, false); }),
            ("cooc rows, reference (after a 25.6 MB read)", 1, c => { Read(big); CoocRows(scorer.Cooccurrence, histories[c], coocBuffer, coocTouched, true); }),
            ("Score fp32, empty history", 1, c => scorer.Score(users[c], [], scores)),
            ("Score fp32", 1, c => scorer.Score(users[c], histories[c], scores)),
            ("ScoreQuantized(1), empty history", 1, c => scorer.ScoreQuantized(users[c], [], scores, 1)),
            ("ScoreQuantized(1)", 1, c => scorer.ScoreQuantized(users[c], histories[c], scores, 1)),
            ("ScoreQuantized(200)", 1, c => scorer.ScoreQuantized(users[c], histories[c], scores, 200)),
            ("ScoreQuantized(100)", 1, c => scorer.ScoreQuantized(users[c], histories[c], scores, 100)),
            ("TopK 10 of 100k", 1, c => Kernels.TopK(scores, top, topScores)),
            ("RecommendInto Exact", 1, c => bench.Exact.RecommendInto(ids[c], buffer)),
            ("RecommendInto Quantized", 1, c => bench.Quantized.RecommendInto(ids[c], buffer)),
            ("ScoreByFeatures (baseline)", 4, c => scorer.ScoreByFeatures(users[c], histories[c], scores)),
        ];

        foreach (var row in rows)
        {
            for (int c = 0; c < users.Length; c++)
            {
                row.Call(c); // warm-up: tables, pools, JIT
            }
        }

        foreach (var row in rows)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int c = 0; c < users.Length; c++)
            {
                row.Call(c);
            }

            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            if (bytes != 0)
            {
                Console.WriteLine($"{row.Name}: {bytes:N0} B allocated over {users.Length} warm calls");
            }
        }

        Console.WriteLine($"{rows.Length} rows x {rounds} rounds x {users.Length} calls; load before: {Load()}");
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var samples = rows.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int r = 0; r < rows.Length; r++)
            {
                int k = (r + round) % rows.Length; // rotate the order so no row always follows the same one
                if (round % rows[k].Every != 0)
                {
                    continue;
                }

                for (int c = 0; c < users.Length; c++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    rows[k].Call(c);
                    samples[k].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine($"load after: {Load()}; allocated during the timed rounds: {allocated:N0} B (the sample lists' growth included; rows that allocate when warm are listed above)");
        double baseline = Percentile(samples[^1], 0.5);
        Console.WriteLine($"{"row",-34} {"min",8} {"p50",8} {"p90",8} {"p99",8} {"mean",8} {"p50/base",9}  (ms per call)");
        for (int r = 0; r < rows.Length; r++)
        {
            List<double> s = samples[r];
            Console.WriteLine($"{rows[r].Name,-34} {s.Min(),8:F3} {Percentile(s, 0.5),8:F3} {Percentile(s, 0.9),8:F3} {Percentile(s, 0.99),8:F3} {s.Average(),8:F3} {Percentile(s, 0.5) / baseline,9:F3}");
        }

        if (args.Contains("--first-call"))
        {
            FirstCalls(bench); // last: it publishes new versions of the int8 tracker
        }

        bench.Cleanup();
        return 0;
    }

    /// <summary>Every user of the benchmark's shop with the history the tracker passes.</summary>
    private static IEnumerable<(int User, Interaction[] History)> ShopUsers(TrackerRecommendBenchmarks bench)
    {
        for (int u = 0; ; u++)
        {
            (int user, UserLog? log) = bench.Exact.Find("c" + u.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (user < 0)
            {
                yield break;
            }

            yield return (user, log!.Recent(bench.Exact.Options.MaxHistoryPerUser).ToArray());
        }
    }

    /// <summary>
    /// What the first call on a new version pays: 8 times, 1,000 more purchases are learned and published (one micro
    /// batch), then the int8 tracker's first <see cref="PreferenceTracker.RecommendInto"/> (which builds the version's
    /// item terms, int8 table from the chunks that changed, and constants) is timed against the next ones.
    /// </summary>
    private static void FirstCalls(TrackerRecommendBenchmarks bench)
    {
        PreferenceTracker tracker = bench.Quantized;
        var buffer = new Recommendation[10];
        var random = new Random(11);
        var start = new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero); // after the shop's 60,000 hours
        var events = new List<InteractionEvent>(1_000);
        for (int round = 0; round < 8; round++)
        {
            events.Clear();
            for (int e = 0; e < 1_000; e++)
            {
                int item = random.Next(2) == 0 ? random.Next(1_000) : random.Next(100_000);
                events.Add(new InteractionEvent(bench.UserIds[e % bench.UserIds.Length], "p" + item.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    start.AddMinutes((round * 1_000) + e), EventKind.Purchase));
            }

            tracker.Observe(events);
            tracker.FlushAsync().GetAwaiter().GetResult();
            long t0 = Stopwatch.GetTimestamp();
            tracker.RecommendInto(bench.UserIds[round], buffer);
            double first = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            t0 = Stopwatch.GetTimestamp();
            tracker.RecommendInto(bench.UserIds[round + 8], buffer);
            double second = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            Console.WriteLine($"version {tracker.ModelVersion}: first call {first:F3} ms, the next {second:F3} ms; load {Load()}");
        }
    }

    /// <summary>The co-occurrence rows of the user's last 50 distinct items added into a zero buffer (then cleared).</summary>
    private static void CoocRows(CoocView cooc, Interaction[] history, float[] buffer, int[] touched, bool reference)
    {
        int n = 0, rows = 0;
        for (int e = history.Length - 1; e >= 0 && rows < 50; e--, rows++)
        {
            if (reference)
            {
                cooc.AddRowToReference(history[e].Item, 0.5f, buffer, touched, ref n);
            }
            else
            {
                cooc.AddRowTo(history[e].Item, 0.5f, buffer, touched, ref n);
            }
        }

        foreach (int i in touched.AsSpan(0, n))
        {
            buffer[i] = 0f;
        }
    }

    /// <summary>Sums <paramref name="data"/> with four 512-bit accumulators: the machine's streaming-read floor.</summary>
    private static float Read(ReadOnlySpan<float> data)
    {
        ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data);
        System.Runtime.Intrinsics.Vector512<float> a = default, b = default, c = default, e = default;
        for (int i = 0; i + 64 <= data.Length; i += 64)
        {
            a += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref r, (nuint)i);
            b += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref r, (nuint)(i + 16));
            c += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref r, (nuint)(i + 32));
            e += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref r, (nuint)(i + 48));
        }

        return System.Runtime.Intrinsics.Vector512.Sum(a + b + c + e);
    }

    private static double Percentile(List<double> samples, double q)
    {
        double[] sorted = [.. samples.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
    }

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
}

using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The default learner's catalog-wide scoring passes: the fused fp32 pass against the feature-by-feature computation
/// (bit for bit) and the one-item full feature row, and the int8 pass with its exact re-ranking against the fp32 top 10,
/// plus the int8 table's reuse of the chunks a new version shares with the previous one.
/// </summary>
public class RepeatExploreScoringTests
{
    /// <summary>Baskets of two to four lines every few days: each user's own range of the catalog, popular items, returns.</summary>
    private static List<Interaction> Shopping(int users, int items, int days, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        int basket = 0;
        for (int day = 0; day < days; day++)
        {
            for (int u = 0; u < users; u++)
            {
                if (random.Next(3) != 0)
                {
                    continue;
                }

                long ticks = new DateTime(2011, 1, 1).AddDays(day).AddMinutes(u).Ticks;
                int lines = 2 + random.Next(3);
                for (int k = 0; k < lines; k++)
                {
                    int item = random.Next(5) == 0 ? random.Next(Math.Min(items, 30)) : ((u * 17) + random.Next(25)) % items;
                    EventKind kind = random.Next(30) == 0 ? EventKind.Return : EventKind.Purchase;
                    events.Add(new Interaction(u, item, ticks, kind, 1 + random.Next(3), 2f, basket));
                }

                basket++;
            }
        }

        return events;
    }

    private static RepeatExploreScorer Fitted(int users, int items, int d, int seed, out List<Interaction> events)
    {
        events = Shopping(users, items, 40, seed);
        var model = new RepeatExplore(new RepeatExploreOptions { Dimensions = d, Negatives = 16, OwnCandidates = 16, Seed = seed });
        model.Fit(events, users, items);
        return (RepeatExploreScorer)model.CreateScorer();
    }

    /// <summary>A model fitted on 30 days of shopping with few negatives, so one small basket changes only some chunks.</summary>
    private static RepeatExplore SmallModel(int users, int items, int d, int seed)
    {
        var model = new RepeatExplore(new RepeatExploreOptions { Dimensions = d, Negatives = 8, OwnCandidates = 8, Seed = seed });
        model.Fit(Shopping(users, items, 30, seed), users, items);
        return model;
    }

    private static Interaction[] HistoryOf(List<Interaction> events, int user) => [.. events.Where(e => e.User == user)];

    private static int[] Top(float[] scores, Interaction[] history, int k)
    {
        int[] excluded = [.. history.Where(e => (uint)e.Item < (uint)scores.Length).Select(e => e.Item).Distinct().Order()];
        var top = new int[k];
        int n = Kernels.TopK(scores, excluded, top, new float[k]);
        return top[..n];
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void The_fused_pass_gives_the_feature_by_feature_scores_bit_for_bit(int width)
    {
        // 203 items: the last chunk has 3 rows, so Gemv's one-row tail is covered too; d = 16 takes rows four at a time.
        const int Users = 40, Items = 203;
        RepeatExploreScorer scorer = Fitted(Users, Items, 16, 3, out List<Interaction> events);
        var fused = new float[Items];
        var reference = new float[Items];
        foreach (int user in new[] { 0, 1, 7, 39, Users + 5 })
        {
            Interaction[] history = user < Users ? HistoryOf(events, user) : [];
            SimdPaths.Run(width, () =>
            {
                scorer.Score(user, history, fused);
                scorer.ScoreByFeatures(user, history, reference);
            });
            Assert.Equal(reference, fused);
            Assert.Contains(fused, s => s != fused[0]);

            // The independent oracle: each item alone through the full feature row (its own dot product and co-occurrence sum).
            for (int item = 0; item < Items; item++)
            {
                float full = scorer.FullScore(user, history, item);
                Assert.True(Math.Abs(full - fused[item]) <= 1e-4f * (1 + Math.Abs(full)), $"user {user} item {item}: {fused[item]} vs {full}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_int8_pass_keeps_the_fp32_top_10_with_exact_scores(int seed)
    {
        // Seeded embedding tables (initial rows plus what 40 days of shopping taught them), 2,003 items, d = 32.
        const int Users = 120, Items = 2003, K = 10;
        RepeatExploreScorer scorer = Fitted(Users, Items, 32, seed, out List<Interaction> events);
        var exact = new float[Items];
        var quantized = new float[Items];
        int kept = 0, total = 0;
        foreach ((int width, int candidates) in new[] { (0, 200), (512, 200), (0, 50), (512, 50) }) // the tracker's filtered and unfiltered depths for k = 10
        {
            for (int user = 0; user < Users; user++)
            {
                Interaction[] history = HistoryOf(events, user);
                SimdPaths.Run(width, () =>
                {
                    scorer.Score(user, history, exact);
                    scorer.ScoreQuantized(user, history, quantized, candidates);
                });
                int[] expected = Top(exact, history, K), actual = Top(quantized, history, K);
                kept += actual.Intersect(expected).Count();
                total += expected.Length;
                foreach (int item in actual)
                {
                    Assert.Equal(exact[item], quantized[item]); // re-ranked exactly: the fp32 bits
                }

                foreach (Interaction e in history.Where(e => e.Kind == EventKind.Purchase))
                {
                    Assert.Equal(exact[e.Item], quantized[e.Item]); // bought items are always exact
                }
            }
        }

        Assert.True(kept >= 0.99 * total, $"kept {kept} of {total} of the fp32 top-{K}");
    }

    [Fact]
    public void The_approximate_scores_track_the_exact_ones()
    {
        // Without re-ranking (one candidate), every never-bought item holds the int8 approximation: close to fp32.
        const int Users = 30, Items = 400;
        RepeatExploreScorer scorer = Fitted(Users, Items, 64, 5, out List<Interaction> events);
        var exact = new float[Items];
        var quantized = new float[Items];
        Interaction[] history = HistoryOf(events, 4);
        scorer.Score(4, history, exact);
        scorer.ScoreQuantized(4, history, quantized, 1);
        float spread = exact.Max() - exact.Min();
        Assert.True(spread > 0f);
        for (int i = 0; i < Items; i++)
        {
            Assert.True(Math.Abs(exact[i] - quantized[i]) <= 0.02f * spread, $"item {i}: {quantized[i]} vs {exact[i]} (spread {spread})");
        }
    }

    [Fact]
    public void A_new_version_reuses_the_int8_chunks_it_shares_and_equals_a_fresh_build()
    {
        const int Users = 30, Items = 800, D = 16;
        RepeatExplore model = SmallModel(Users, Items, D, 9);
        Int8ItemTable first = ((RepeatExploreScorer)model.CreateScorer()).Int8Table;

        // One small basket: the writer copies only the chunks of the rows it touches (targets, negatives).
        model.Update([new Interaction(2, 5, new DateTime(2011, 3, 1).Ticks, EventKind.Purchase, 1, 1, 10_000)], Users, Items);
        var second = (RepeatExploreScorer)model.CreateScorer();
        Int8ItemTable table = second.Int8Table;
        Assert.True(table.Reused > 0 && table.Reused < table.ChunkCount, $"reused {table.Reused} of {table.ChunkCount}");
        Assert.NotSame(first, table);

        // A build with no previous table to borrow from holds the same levels, scales and biases.
        Int8ItemTable fresh = Int8ItemTable.Build(second.Outputs, Items, D, new RepeatExploreOptions());
        Assert.Equal(0, fresh.Reused);
        Assert.Equal(fresh.Segments.Length, table.Segments.Length);
        for (int c = 0; c < table.Segments.Length; c++)
        {
            Assert.Equal(fresh.Segments[c].Packed, table.Segments[c].Packed);
            Assert.Equal(fresh.Segments[c].Scales, table.Segments[c].Scales);
            Assert.Equal(fresh.Segments[c].Biases, table.Segments[c].Biases);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(13)] // a last group of 4 values only partly used: its padding must stand for 0
    public void The_int8_segments_hold_each_output_row_quantized_as_a_plain_loop_does(int d)
    {
        const int Users = 30, Items = 803;
        RepeatExplore model = SmallModel(Users, Items, d, 4);
        var scorer = (RepeatExploreScorer)model.CreateScorer();
        Int8ItemTable table = scorer.Int8Table;
        int groups = (d + 3) / 4, perSegment = ItemSegments.Chunks * scorer.Outputs.ChunkRows;
        for (int i = 0; i < Items; i++)
        {
            ReadOnlySpan<float> row = scorer.Outputs.Row(i);
            QuantizedSegment segment = table.Segments[i / perSegment];
            int r = i % perSegment;
            float max = 0f;
            for (int j = 0; j < d; j++)
            {
                max = Math.Max(max, Math.Abs(row[j]));
            }

            Assert.Equal(max / 127f, segment.Scales[r]);
            Assert.Equal(row[d], segment.Biases[r]);
            for (int j = 0; j < groups * 4; j++)
            {
                int expected = j < d ? Math.Clamp((int)MathF.Round(row[j] * (127f / max)), -127, 127) + 128 : 128;
                Assert.Equal(expected, segment.Packed[(((r / 8 * groups) + (j / 4)) * 32) + (r % 8 * 4) + (j % 4)]);
            }
        }
    }

    [Fact]
    public void The_fp32_segments_hold_the_output_rows_and_a_new_version_shares_the_unchanged_ones()
    {
        // 803 items: four segments of 256 rows, the last one partial (its last chunk too).
        const int Users = 30, Items = 803, D = 16;
        RepeatExplore model = SmallModel(Users, Items, D, 11);
        var scorer = (RepeatExploreScorer)model.CreateScorer();
        Fp32ItemTable first = scorer.Fp32Table;

        // A version with no write in between takes every segment whole.
        Fp32ItemTable again = ((RepeatExploreScorer)model.CreateScorer()).Fp32Table;
        Assert.Equal((Items + 7) / 8, again.Reused);
        Assert.Same(first.Weights[^1], again.Weights[^1]);

        // After a write, every segment holds the version's rows: weights (stride d) and biases, row for row.
        model.Update([new Interaction(2, 5, new DateTime(2011, 3, 1).Ticks, EventKind.Purchase, 1, 1, 10_000)], Users, Items);
        var second = (RepeatExploreScorer)model.CreateScorer();
        Fp32ItemTable table = second.Fp32Table;
        Assert.Equal(4, table.Weights.Length);
        for (int item = 0; item < Items; item++)
        {
            ReadOnlySpan<float> row = second.Outputs.Row(item);
            Assert.Equal(row[..D].ToArray(), table.Weights[item / 256].AsSpan((item % 256) * D, D).ToArray());
            Assert.Equal(row[D], table.Biases[item / 256][item % 256]);
        }

        // The written rows are in the new table, not in the old one: segments were copied, never written.
        ReadOnlySpan<float> before = scorer.Outputs.Row(5);
        Assert.Equal(before[..D].ToArray(), first.Weights[0].AsSpan(5 * D, D).ToArray());
    }
}

using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Issue 8's agreement measure (untimed), shared by <see cref="RecommendParts"/> and <see cref="TrackerLoad"/>: for each
/// user, the fp32 top 10 of never-bought items (<see cref="RepeatExploreScorer.Score"/>) against the int8 pass's top 10
/// with each number of exactly re-ranked candidates.
/// </summary>
internal static class TopTenOverlap
{
    /// <summary>Prints the share of the fp32 top-10 entries each depth keeps, and how many of its top-10 scores are not the fp32 bits.</summary>
    internal static void Print(RepeatExploreScorer scorer, IEnumerable<(int User, Interaction[] History)> users, int[] depths)
    {
        int items = scorer.ItemCount, count = 0;
        var exact = new float[items];
        var quantized = new float[items];
        var expected = new int[10];
        var actual = new int[10];
        var values = new float[10];
        var kept = new long[depths.Length];
        var inexact = new long[depths.Length];
        long total = 0;
        foreach ((int user, Interaction[] history) in users)
        {
            int[] bought = [.. history.Where(e => e.Kind == EventKind.Purchase && e.Item < items).Select(e => e.Item).Distinct().Order()];
            scorer.Score(user, history, exact);
            int n = Kernels.TopK(exact, bought, expected, values);
            total += n;
            count++;
            for (int d = 0; d < depths.Length; d++)
            {
                scorer.ScoreQuantized(user, history, quantized, depths[d]);
                int m = Kernels.TopK(quantized, bought, actual, values);
                kept[d] += actual[..m].Intersect(expected[..n]).Count();
                for (int i = 0; i < m; i++)
                {
                    inexact[d] += quantized[actual[i]].Equals(exact[actual[i]]) ? 0 : 1;
                }
            }
        }

        Console.WriteLine($"top-10 overlap, int8 against fp32, over {count:N0} users ({total:N0} fp32 top-10 entries):");
        for (int d = 0; d < depths.Length; d++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {depths[d],4} re-ranked: kept {kept[d]:N0} ({100.0 * kept[d] / total:F2}%), {inexact[d]:N0} returned scores not the fp32 bits"));
        }
    }
}

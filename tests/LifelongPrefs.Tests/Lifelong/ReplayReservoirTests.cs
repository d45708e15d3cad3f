using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>The replay reservoir's inclusion probabilities against their exact values, over many seeds.</summary>
public class ReplayReservoirTests
{
    /// <summary>How often each of <paramref name="weights"/>' elements is kept, over <paramref name="runs"/> seeds.</summary>
    private static int[] Inclusions(double[] weights, int capacity, int runs)
    {
        var counts = new int[weights.Length];
        for (int seed = 0; seed < runs; seed++)
        {
            var reservoir = new ReplayReservoir<int>(capacity, seed);
            for (int i = 0; i < weights.Length; i++)
            {
                reservoir.Offer(i, weights[i]);
            }

            foreach (int kept in reservoir.Items)
            {
                counts[kept]++;
            }
        }

        return counts;
    }

    /// <summary>Asserts each count lies within five binomial standard deviations of <paramref name="probabilities"/>·runs.</summary>
    private static void AssertClose(int[] counts, double[] probabilities, int runs)
    {
        for (int i = 0; i < counts.Length; i++)
        {
            double expected = probabilities[i] * runs, sd = Math.Sqrt(runs * probabilities[i] * (1 - probabilities[i]));
            Assert.True(Math.Abs(counts[i] - expected) <= (5 * sd) + 1, $"element {i}: kept {counts[i]} times, expected {expected:F0} ± {5 * sd:F0}");
        }
    }

    [Fact]
    public void Equal_weights_keep_every_element_with_probability_capacity_over_n()
    {
        const int n = 20, capacity = 5, runs = 4_000;
        int[] counts = Inclusions([.. Enumerable.Repeat(1.0, n)], capacity, runs);
        AssertClose(counts, [.. Enumerable.Repeat((double)capacity / n, n)], runs);
        Assert.Equal(capacity * runs, counts.Sum());
    }

    [Fact]
    public void With_capacity_one_an_element_is_kept_in_proportion_to_its_weight()
    {
        double[] weights = [1, 2, 3, 4];
        AssertClose(Inclusions(weights, 1, 10_000), [.. weights.Select(w => w / weights.Sum())], 10_000);
    }

    [Fact]
    public void Two_of_three_are_kept_as_successive_weighted_draws_without_replacement()
    {
        // Two of three kept ⇔ one left out, the one drawn last: P(i out) = Σ_{j≠i} (w_j/W)·(w_k/(W − w_j)), k the third.
        double[] w = [1, 3, 6];
        double total = w.Sum();
        var kept = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double out_ = 0;
            for (int j = 0; j < 3; j++)
            {
                int k = 3 - i - j;
                if (j != i)
                {
                    out_ += w[j] / total * (w[k] / (total - w[j]));
                }
            }

            kept[i] = 1 - out_;
        }

        AssertClose(Inclusions(w, 2, 10_000), kept, 10_000);
    }

    [Fact]
    public void Same_seed_same_sample_and_a_rejected_offer_changes_nothing()
    {
        static int[] Run(int seed)
        {
            var reservoir = new ReplayReservoir<int>(50, seed);
            for (int i = 0; i < 1_000; i++)
            {
                reservoir.Offer(i, 1 + (i % 7));
            }

            return [.. reservoir.Items.ToArray().Order()];
        }

        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));

        var reservoir = new ReplayReservoir<int>(2, 1);
        reservoir.Offer(10);
        foreach (double bad in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            Assert.Equal("weight", Assert.Throws<ArgumentOutOfRangeException>(() => reservoir.Offer(11, bad)).ParamName);
        }

        Assert.Equal((1, 1L), (reservoir.Count, reservoir.Offered));
        Assert.Equal([10], reservoir.Items.ToArray());
        Assert.Equal("capacity", Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayReservoir<int>(0, 1)).ParamName);
    }

    [Fact]
    public void Samples_come_from_the_kept_elements_and_offers_allocate_nothing_once_full()
    {
        var reservoir = new ReplayReservoir<long>(64, 9);
        Assert.Equal(0, reservoir.Sample(new long[4], new Random(1)));
        long next = 0;
        Assert.Equal(0, Allocations.Measure(() => reservoir.Offer(next++), warmUps: 200, calls: 1_000));
        Assert.Equal(64, reservoir.Count);
        var draws = new long[256];
        Assert.Equal(256, reservoir.Sample(draws, new Random(2)));
        long[] kept = reservoir.Items.ToArray();
        Assert.All(draws, d => Assert.Contains(d, kept));
    }
}

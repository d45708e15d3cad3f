using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Tests.Nn.Sampling;

/// <summary>Statistical and allocation checks shared by the sampler tests.</summary>
internal static class SamplerAssertions
{
    /// <summary>
    /// Draws <paramref name="draws"/> samples and checks them against <paramref name="probabilities"/>:
    /// every item's count lies within 5 standard deviations of its binomial mean (a false alarm has probability
    /// below 6e-7 per item), an item of probability 0 is never drawn, and Pearson's chi-square over the items with
    /// positive probability stays below df + 5·√(2·df) (its mean is df and its standard deviation √(2·df)).
    /// The seed is fixed, so the outcome is deterministic; the bounds say why it is not luck.
    /// </summary>
    internal static void FrequenciesMatch(INegativeSampler sampler, ReadOnlySpan<double> probabilities, int draws = 200_000)
    {
        var counts = new long[probabilities.Length];
        Span<int> batch = stackalloc int[1000];
        for (int done = 0; done < draws; done += batch.Length)
        {
            sampler.Sample(batch);
            foreach (int item in batch)
            {
                Assert.InRange(item, 0, probabilities.Length - 1);
                counts[item]++;
            }
        }

        double chiSquare = 0;
        int df = -1;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = probabilities[i];
            if (p == 0)
            {
                Assert.True(counts[i] == 0, $"item {i} has probability 0 but was drawn {counts[i]} times");
                continue;
            }

            double mean = draws * p;
            double sd = Math.Sqrt(draws * p * (1 - p));
            Assert.True(Math.Abs(counts[i] - mean) <= 5 * sd,
                $"item {i}: {counts[i]} draws, expected {mean:F1} ± {sd:F1}");
            chiSquare += (counts[i] - mean) * (counts[i] - mean) / mean;
            df++;
        }

        if (df > 0)
        {
            Assert.True(chiSquare <= df + (5 * Math.Sqrt(2.0 * df)), $"chi-square {chiSquare:F1} with {df} degrees of freedom");
        }
    }

    /// <summary>Asserts Σ_i exp(LogProbability(i)) = 1 and that LogProbabilities agrees with LogProbability.</summary>
    internal static void LogProbabilitiesSumToOne(INegativeSampler sampler)
    {
        double sum = 0;
        int[] items = new int[sampler.ItemCount];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = i;
            sum += Math.Exp(sampler.LogProbability(i));
        }

        Assert.Equal(1.0, sum, 1e-5);
        float[] batch = new float[items.Length];
        sampler.LogProbabilities(items, batch);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal(sampler.LogProbability(i), batch[i]);
        }
    }

    /// <summary>Asserts two samplers built from the same seed produce the same sequence.</summary>
    internal static void SameSeedSameSequence(Func<Random, INegativeSampler> create)
    {
        int[] a = new int[500], b = new int[500], c = new int[500];
        create(new Random(123)).Sample(a);
        create(new Random(123)).Sample(b);
        create(new Random(124)).Sample(c);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    /// <summary>Warms up, then asserts further Sample and NextItem calls allocate 0 bytes.</summary>
    internal static void SamplingAllocatesNothing(INegativeSampler sampler)
    {
        int[] buffer = new int[4096];
        Assert.Equal(0, Allocations.Measure(() =>
        {
            sampler.Sample(buffer);
            sampler.NextItem();
        }));
    }
}

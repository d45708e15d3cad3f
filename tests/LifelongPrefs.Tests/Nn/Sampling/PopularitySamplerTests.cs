using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Tests.Nn.Sampling;

public class PopularitySamplerTests
{
    /// <summary>word2vec-style weights count^0.75 over Zipf-like counts, with a few items never seen (weight 0).</summary>
    private static float[] PopularityWeights(int count)
    {
        var weights = new float[count];
        for (int i = 0; i < count; i++)
        {
            weights[i] = i % 7 == 3 ? 0f : MathF.Pow(1000f / (i + 1), 0.75f);
        }

        return weights;
    }

    private static double[] Normalise(ReadOnlySpan<float> weights)
    {
        double total = 0;
        foreach (float w in weights)
        {
            total += w;
        }

        var p = new double[weights.Length];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = weights[i] / total;
        }

        return p;
    }

    /// <summary>The alias table, read back as a distribution, equals weights / Σ weights up to double rounding.</summary>
    private static void AssertTableExact(PopularitySampler sampler, ReadOnlySpan<float> weights)
    {
        double[] expected = Normalise(weights);
        var actual = new double[sampler.ItemCount];
        sampler.TableProbabilities(actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12, $"item {i}: table {actual[i]:R} vs {expected[i]:R}");
        }
    }

    [Fact]
    public void Same_seed_gives_same_sequence() =>
        SamplerAssertions.SameSeedSameSequence(random => new PopularitySampler(PopularityWeights(500), random));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(40)]
    [InlineData(1000)]
    public void Alias_table_encodes_the_weights_exactly(int count)
    {
        float[] weights = PopularityWeights(count);
        weights[0] = 1f;
        AssertTableExact(new PopularitySampler(weights, new Random(1)), weights);
    }

    [Fact]
    public void Alias_table_is_exact_for_extremely_skewed_weights()
    {
        float[] weights = [1e-6f, 1f, 1e6f, 0f, 3e-3f];
        AssertTableExact(new PopularitySampler(weights, new Random(2)), weights);
    }

    [Fact]
    public void Frequencies_match_the_weights_and_zero_weight_items_are_never_drawn()
    {
        float[] weights = PopularityWeights(40);
        SamplerAssertions.FrequenciesMatch(new PopularitySampler(weights, new Random(3)), Normalise(weights));
    }

    [Fact]
    public void Log_probability_is_exact_and_sums_to_one()
    {
        float[] weights = PopularityWeights(300);
        var sampler = new PopularitySampler(weights, new Random(4));
        double total = 0;
        foreach (float w in weights)
        {
            total += w;
        }

        Assert.Equal((float)Math.Log(weights[10] / total), sampler.LogProbability(10), 1e-6f);
        Assert.Equal(float.NegativeInfinity, sampler.LogProbability(3));
        SamplerAssertions.LogProbabilitiesSumToOne(sampler);
    }

    [Fact]
    public void Grow_keeps_old_ratios_and_draws_new_items()
    {
        float[] weights = PopularityWeights(30);
        var sampler = new PopularitySampler(weights, new Random(5));
        float ratio = sampler.LogProbability(1) - sampler.LogProbability(2);

        sampler.Grow(50, 2f);

        Assert.Equal(50, sampler.ItemCount);
        Assert.Equal(ratio, sampler.LogProbability(1) - sampler.LogProbability(2), 1e-5f);
        float[] grown = [.. weights, .. Enumerable.Repeat(2f, 20)];
        Assert.Equal(grown, sampler.Weights.ToArray());
        AssertTableExact(sampler, grown);
        SamplerAssertions.LogProbabilitiesSumToOne(sampler);
        SamplerAssertions.FrequenciesMatch(sampler, Normalise(grown));
    }

    [Fact]
    public void Rebuild_refreshes_and_grows_the_catalog()
    {
        var sampler = new PopularitySampler([1f, 1f, 2f], new Random(6));
        float[] refreshed = [4f, 0f, 2f, 1f, 1f];
        sampler.Rebuild(refreshed);
        Assert.Equal(5, sampler.ItemCount);
        Assert.Equal((float)Math.Log(0.5), sampler.LogProbability(0), 1e-6f);
        AssertTableExact(sampler, refreshed);
        SamplerAssertions.FrequenciesMatch(sampler, Normalise(refreshed));
    }

    [Fact]
    public void Rejected_weights_leave_the_sampler_unchanged()
    {
        var sampler = new PopularitySampler([1f, 3f, 4f], new Random(7));
        float before = sampler.LogProbability(1);
        Assert.Equal("weights", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Rebuild([1f, -1f, 1f])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Rebuild([1f, float.NaN, 1f])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Rebuild([1f, float.PositiveInfinity, 1f])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => sampler.Rebuild([0f, 0f, 0f, 0f])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => sampler.Rebuild([1f, 1f])).ParamName);
        Assert.Equal("newItemCount", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Grow(2, 1f)).ParamName);
        Assert.Equal("newItemWeight", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Grow(5, -1f)).ParamName);
        Assert.Equal(3, sampler.ItemCount);
        Assert.Equal(before, sampler.LogProbability(1));
        AssertTableExact(sampler, [1f, 3f, 4f]);

        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => new PopularitySampler([], new Random(8))).ParamName);
        Assert.Throws<ArgumentNullException>(() => new PopularitySampler([1f], null!));
        Assert.Equal("item", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.LogProbability(3)).ParamName);
    }

    [Fact]
    public void Sampling_and_same_size_rebuild_allocate_nothing()
    {
        float[] weights = PopularityWeights(10_000);
        var sampler = new PopularitySampler(weights, new Random(9));
        SamplerAssertions.SamplingAllocatesNothing(sampler);
        Assert.Equal(0, Allocations.Measure(() => sampler.Rebuild(weights), warmUps: 0));
    }
}

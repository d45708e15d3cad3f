using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Tests.Nn.Sampling;

public class UniformSamplerTests
{
    private static double[] Uniform(int count)
    {
        var p = new double[count];
        Array.Fill(p, 1.0 / count);
        return p;
    }

    [Fact]
    public void Same_seed_gives_same_sequence() =>
        SamplerAssertions.SameSeedSameSequence(random => new UniformSampler(1000, random));

    [Fact]
    public void Frequencies_are_uniform() =>
        SamplerAssertions.FrequenciesMatch(new UniformSampler(50, new Random(1)), Uniform(50));

    [Fact]
    public void Log_probability_is_minus_log_n_and_sums_to_one()
    {
        var sampler = new UniformSampler(37, new Random(2));
        Assert.Equal((float)-Math.Log(37), sampler.LogProbability(0));
        SamplerAssertions.LogProbabilitiesSumToOne(sampler);
    }

    [Fact]
    public void Grow_spreads_probability_over_the_new_catalog()
    {
        var sampler = new UniformSampler(20, new Random(3));
        sampler.Grow(20);
        Assert.Equal(20, sampler.ItemCount);
        sampler.Grow(60);
        Assert.Equal(60, sampler.ItemCount);
        Assert.Equal((float)-Math.Log(60), sampler.LogProbability(5));
        Assert.Equal(sampler.LogProbability(5), sampler.LogProbability(59));
        SamplerAssertions.LogProbabilitiesSumToOne(sampler);
        SamplerAssertions.FrequenciesMatch(sampler, Uniform(60));
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        Assert.Equal("itemCount", Assert.Throws<ArgumentOutOfRangeException>(() => new UniformSampler(0, new Random(4))).ParamName);
        Assert.Throws<ArgumentNullException>(() => new UniformSampler(3, null!));
        var sampler = new UniformSampler(10, new Random(5));
        Assert.Equal("newItemCount", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Grow(9)).ParamName);
        Assert.Equal(10, sampler.ItemCount);
        Assert.Equal("item", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.LogProbability(10)).ParamName);
        Assert.Equal("item", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.LogProbability(-1)).ParamName);
        float[] destination = [42f, 42f];
        Assert.Equal("items", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.LogProbabilities([1, 10], destination)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => sampler.LogProbabilities([1], destination)).ParamName);
        Assert.Equal([42f, 42f], destination);
    }

    [Fact]
    public void Sampling_allocates_nothing_after_warm_up() =>
        SamplerAssertions.SamplingAllocatesNothing(new UniformSampler(10_000, new Random(6)));
}

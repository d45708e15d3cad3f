using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// Initialisers: each draws from the documented distribution (sample moments within statistical bounds), and
/// the same seed gives the same weights.
/// </summary>
public class InitTests
{
    private const int N = 200_000;

    private static (double Mean, double Std, double MaxAbs) Moments(float[] x)
    {
        double mean = x.Average(v => (double)v);
        double variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return (mean, Math.Sqrt(variance), x.Max(v => Math.Abs((double)v)));
    }

    /// <summary>
    /// Bounds: the sample mean has standard error σ/√N and the sample standard deviation about σ/√(2N); we allow
    /// 5 standard errors, so a correct initialiser fails with probability below 1e-6 while a wrong scale (for
    /// example √(1/fan) instead of √(2/fan), a 29% change) fails by hundreds of standard errors.
    /// </summary>
    private static void AssertMoments(float[] x, double expectedStd, string what)
    {
        var (mean, std, _) = Moments(x);
        Assert.True(Math.Abs(mean) <= 5 * expectedStd / Math.Sqrt(N), $"{what}: mean {mean:G4}");
        Assert.True(Math.Abs(std - expectedStd) <= 5 * expectedStd / Math.Sqrt(2.0 * N), $"{what}: std {std:G6}, expected {expectedStd:G6}");
    }

    [Fact]
    public void Xavier_and_He_have_the_documented_scales_and_ranges()
    {
        var x = new float[N];
        Init.XavierUniform(x, 100, 300, new Random(1));
        double a = Math.Sqrt(6.0 / 400);
        AssertMoments(x, a / Math.Sqrt(3), "XavierUniform");        // U(-a, a) has σ = a/√3
        Assert.True(Moments(x).MaxAbs <= a);

        Init.XavierNormal(x, 100, 300, new Random(2), gain: 2f);
        AssertMoments(x, 2 * Math.Sqrt(2.0 / 400), "XavierNormal");

        Init.HeUniform(x, 64, new Random(3));
        AssertMoments(x, Math.Sqrt(6.0 / 64) / Math.Sqrt(3), "HeUniform");
        Assert.True(Moments(x).MaxAbs <= Math.Sqrt(6.0 / 64));

        Init.HeNormal(x, 64, new Random(4));
        AssertMoments(x, Math.Sqrt(2.0 / 64), "HeNormal");
    }

    [Fact]
    public void Truncated_normal_stays_within_its_bound_and_matches_the_truncated_variance()
    {
        var x = new float[N];
        Init.TruncatedNormal(x, 0.02f, new Random(5), mean: 0f, bound: 2f);
        Assert.True(Moments(x).MaxAbs <= 0.04 + 1e-7);
        // Var of N(0,1) truncated to [-2, 2] is 1 - 2·2·φ(2)/(Φ(2) - Φ(-2)) = 0.7737 (σ ratio 0.8796).
        AssertMoments(x, 0.02 * 0.87963, "TruncatedNormal");
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        float[] first = new float[1000], second = new float[1000], other = new float[1000];
        Init.XavierUniform(first, 10, 20, new Random(42));
        Init.XavierUniform(second, 10, 20, new Random(42));
        Init.XavierUniform(other, 10, 20, new Random(43));
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var x = new float[4];
        Assert.Equal("fanIn", Assert.Throws<ArgumentOutOfRangeException>(() => Init.XavierUniform(x, 0, 3, new Random(1))).ParamName);
        Assert.Equal("fanOut", Assert.Throws<ArgumentOutOfRangeException>(() => Init.XavierNormal(x, 3, -1, new Random(1))).ParamName);
        Assert.Equal("gain", Assert.Throws<ArgumentOutOfRangeException>(() => Init.XavierUniform(x, 3, 3, new Random(1), float.NaN)).ParamName);
        Assert.Equal("standardDeviation", Assert.Throws<ArgumentOutOfRangeException>(() => Init.TruncatedNormal(x, 0f, new Random(1))).ParamName);
        Assert.Equal("limit", Assert.Throws<ArgumentOutOfRangeException>(() => Init.Uniform(x, -1f, new Random(1))).ParamName);
        Assert.Throws<ArgumentNullException>(() => Init.HeNormal(x, 3, null!));
    }
}

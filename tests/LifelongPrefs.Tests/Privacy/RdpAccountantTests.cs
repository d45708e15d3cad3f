using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Privacy;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>The accountant against published ε values, closed forms, a numerical integral and monotonicity properties.</summary>
public class RdpAccountantTests
{
    private static readonly double[] IntegerOrders = [.. Enumerable.Range(2, 63).Select(o => (double)o)];

    [Fact]
    public void Abadi_et_al_2016_moments_accountant_example()
    {
        // Abadi et al., "Deep Learning with Differential Privacy" (CCS 2016), §3.1: q = 0.01, σ = 4, δ = 1e-5 and
        // T = 10,000 steps give ε ≈ 1.26 with the moments accountant. At integer orders λ + 1 the moments accountant's
        // bound ε = min (α(λ) + log(1/δ))/λ is the classic RDP conversion; its log-moment α(λ) was an upper bound, so
        // the exact RDP may only come out at or a little below 1.26.
        double eps = RdpAccountant.EpsilonFor(0.01, 4, 10_000, 1e-5, RdpConversion.Classic, IntegerOrders);
        Assert.InRange(eps, 1.15, 1.265);
    }

    [Fact]
    public void Tf_privacy_mnist_tutorial_example()
    {
        // tensorflow/privacy tutorials/README.md: "compute_dp_sgd_privacy.py --N=60000 --batch_size=256
        // --noise_multiplier=1.1 --epochs=60 --delta=1e-5 ... satisfies differential privacy with eps = 3.01". That script
        // (compute_dp_sgd_privacy_lib.py of the same era) uses the orders of DefaultOrders, steps = ceil(epochs·N/batch)
        // and rdp_accountant.get_privacy_spent, whose conversion was then the classic one (eps = rdp − log δ/(α − 1)).
        long steps = (long)Math.Ceiling(60 * 60000 / 256.0);
        double eps = RdpAccountant.EpsilonFor(256 / 60000.0, 1.1, steps, 1e-5, RdpConversion.Classic);
        Assert.Equal(3.01, Math.Round(eps, 2));

        // The tight conversion can only lower it.
        double tight = RdpAccountant.EpsilonFor(256 / 60000.0, 1.1, steps, 1e-5, RdpConversion.Tight);
        Assert.InRange(tight, 2.0, eps);
    }

    [Theory]
    [InlineData(0.5, 2)]
    [InlineData(2.0, 1.5)]
    [InlineData(4.0, 7)]
    [InlineData(1.0, 32.5)]
    public void Without_sampling_the_rdp_is_the_gaussian_mechanisms(double sigma, double order)
    {
        Assert.Equal(order / (2 * sigma * sigma), RdpAccountant.SampledGaussianRdp(1, sigma, order), 12);
        var accountant = new RdpAccountant([order]);
        accountant.Compose(1, sigma, 10);
        Assert.Equal(10 * order / (2 * sigma * sigma), accountant.RdpAt(0), 10);
        Assert.Equal(0, RdpAccountant.SampledGaussianRdp(0, sigma, order));
    }

    [Theory]
    [InlineData(0.01, 1.0, 2)]
    [InlineData(0.01, 1.0, 2.5)]
    [InlineData(0.05, 0.8, 3.25)]
    [InlineData(0.2, 2.0, 6)]
    [InlineData(0.1, 1.5, 1.75)]
    public void The_rdp_equals_the_numerical_integral_of_its_definition(double q, double sigma, double order)
    {
        // A_α = ∫ μ₀(z)·((1 − q) + q·μ₁(z)/μ₀(z))^α dz, μ₀ = N(0, σ²), μ₁ = N(1, σ²): a trapezoid rule on a fine grid,
        // independent of both series.
        double a = 0, h = sigma * 1e-3;
        for (double z = -30 * sigma; z <= 30 * sigma + 1; z += h)
        {
            double mu0 = Math.Exp(-z * z / (2 * sigma * sigma)) / (sigma * Math.Sqrt(2 * Math.PI));
            double ratio = Math.Exp((2 * z - 1) / (2 * sigma * sigma));
            a += h * mu0 * Math.Pow(1 - q + q * ratio, order);
        }

        double expected = Math.Log(a) / (order - 1);
        Assert.Equal(expected, RdpAccountant.SampledGaussianRdp(q, sigma, order), 1e-7 + 1e-5 * expected);
    }

    [Theory]
    [InlineData(0.01, 1.1, 3)]
    [InlineData(0.1, 0.7, 5)]
    [InlineData(0.004, 4, 12)]
    public void Fractional_orders_meet_the_integer_sum_at_an_integer(double q, double sigma, int order)
    {
        double exact = RdpAccountant.SampledGaussianRdp(q, sigma, order);
        Assert.Equal(exact, RdpAccountant.SampledGaussianRdp(q, sigma, order - 1e-9), 1e-6 * exact);
        Assert.Equal(exact, RdpAccountant.SampledGaussianRdp(q, sigma, order + 1e-9), 1e-6 * exact);
    }

    [Fact]
    public void The_tight_conversion_never_exceeds_the_classic_one()
    {
        var accountant = new RdpAccountant();
        accountant.Compose(0.02, 1.3, 5000);
        Assert.True(accountant.Epsilon(1e-6, RdpConversion.Tight) < accountant.Epsilon(1e-6, RdpConversion.Classic));
        Assert.Equal(0, new RdpAccountant().Epsilon(1e-5));
    }

    [Theory]
    [InlineData(1.0, 1e-5, 0.01, 1000)]
    [InlineData(4.0, 1e-5, 0.004, 14063)]
    [InlineData(8.0, 1e-6, 1.0, 10)]
    public void The_noise_multiplier_for_a_target_spends_the_target(double target, double delta, double q, long steps)
    {
        double sigma = RdpAccountant.NoiseMultiplierFor(target, delta, q, steps);
        Assert.True(RdpAccountant.EpsilonFor(q, sigma, steps, delta) <= target);
        Assert.True(RdpAccountant.EpsilonFor(q, sigma * 0.999, steps, delta) > target, "a smaller σ would still meet the target");
    }

    [Fact]
    public void Bad_arguments_are_rejected_by_name_and_value()
    {
        var accountant = new RdpAccountant();
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(1.5, 1));
        Assert.Equal("samplingRate", e1.ParamName);
        Assert.Contains("1.5", e1.Message, StringComparison.Ordinal);
        Assert.Equal("noiseMultiplier", Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(0.1, double.NaN)).ParamName);
        Assert.Equal("noiseMultiplier", Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(0.1, 0)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(0.1, 1, -1)).ParamName);
        Assert.Equal(0, accountant.Steps);
        Assert.Equal(0, accountant.RdpAt(0));
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Epsilon(0));
        Assert.Equal("delta", e2.ParamName);
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Epsilon(1)).ParamName);
        Assert.Equal("conversion", Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Epsilon(1e-5, (RdpConversion)7)).ParamName);
        Assert.Contains("0.5", Assert.Throws<ArgumentException>(() => new RdpAccountant([2, 0.5])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RdpAccountant([]));
        Assert.Equal("order", Assert.Throws<ArgumentOutOfRangeException>(() => RdpAccountant.SampledGaussianRdp(0.1, 1, 1)).ParamName);
        Assert.Equal("targetEpsilon", Assert.Throws<ArgumentOutOfRangeException>(() => RdpAccountant.NoiseMultiplierFor(-1, 1e-5, 0.1, 10)).ParamName);
        Assert.Equal("samplingRate", Assert.Throws<ArgumentOutOfRangeException>(() => RdpAccountant.NoiseMultiplierFor(1, 1e-5, 0, 10)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => RdpAccountant.NoiseMultiplierFor(1, 1e-5, 0.1, 0)).ParamName);
    }

    [Fact]
    public void Extreme_settings_stay_finite_or_infinite_never_nan()
    {
        foreach (double sigma in new[] { 1e-3, 0.05, 1, 1e4 })
        {
            foreach (double q in new[] { 1e-9, 0.5, 0.999999 })
            {
                double eps = RdpAccountant.EpsilonFor(q, sigma, 1_000_000, 1e-9);
                Assert.False(double.IsNaN(eps), $"σ = {sigma}, q = {q}");
                Assert.True(eps >= 0);
            }
        }
    }

    /// <summary>A rate, a noise multiplier and a step count in useful ranges from three generated integers.</summary>
    private static (double Q, double Sigma, long Steps) Setting(int a, int b, int c) =>
        (1e-4 + (Math.Abs(a) % 1000) / 1000.0 * 0.5, 0.5 + (Math.Abs(b) % 1000) / 100.0, 1 + Math.Abs(c) % 5000);

    [Property(MaxTest = 60)]
    public void Epsilon_grows_with_the_steps(int a, int b, int c, PositiveInt more)
    {
        (double q, double sigma, long steps) = Setting(a, b, c);
        double before = RdpAccountant.EpsilonFor(q, sigma, steps, 1e-5);
        double after = RdpAccountant.EpsilonFor(q, sigma, steps + more.Get % 1000 + 1, 1e-5);
        Assert.True(after >= before, $"{before} then {after}");
    }

    [Property(MaxTest = 60)]
    public void Epsilon_grows_with_the_sampling_rate(int a, int b, int c, PositiveInt more)
    {
        (double q, double sigma, long steps) = Setting(a, b, c);
        double higher = Math.Min(1, q * (1 + (more.Get % 100 + 1) / 50.0));
        Assert.True(RdpAccountant.EpsilonFor(higher, sigma, steps, 1e-5) >= RdpAccountant.EpsilonFor(q, sigma, steps, 1e-5));
    }

    [Property(MaxTest = 60)]
    public void Epsilon_falls_with_the_noise(int a, int b, int c, PositiveInt more)
    {
        (double q, double sigma, long steps) = Setting(a, b, c);
        double louder = sigma * (1 + (more.Get % 100 + 1) / 50.0);
        Assert.True(RdpAccountant.EpsilonFor(q, louder, steps, 1e-5) <= RdpAccountant.EpsilonFor(q, sigma, steps, 1e-5));
    }
}

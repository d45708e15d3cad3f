using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// ADWIN and Page-Hinkley: the window's statistics against a naive recomputation, detection delay against the bound
/// each test's maths gives, false alarms on stationary streams, bad input and allocation.
/// </summary>
public class DriftDetectorTests(ITestOutputHelper output)
{
    private const int Before = 5_000;

    /// <summary>Bernoulli(p) values, then Bernoulli(q) from <paramref name="change"/> on.</summary>
    private static double[] Stream(int seed, int length, double p, int change = int.MaxValue, double q = 0)
    {
        var random = new Random(seed);
        var values = new double[length];
        for (int t = 0; t < length; t++)
        {
            values[t] = random.NextDouble() < (t < change ? p : q) ? 1 : 0;
        }

        return values;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 32)]
    [InlineData(3, 7)]
    public void Adwins_window_is_always_a_suffix_of_the_stream_with_exact_mean_and_variance(int seed, int checkInterval)
    {
        // Gaussian noise around a mean that jumps twice: whatever ADWIN cuts, its window must be the newest Count values.
        var random = new Random(seed);
        var adwin = new Adwin(delta: 0.01, bucketsPerLevel: 3, checkInterval: checkInterval);
        var seen = new List<double>();
        for (int t = 0; t < 3_000; t++)
        {
            double level = t < 1_000 ? 0 : t < 2_000 ? 3 : -1;
            double value = level + (Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            seen.Add(value);
            adwin.Add(value);
            if (t % 37 == 0 || t == 2_999)
            {
                Assert.InRange(adwin.Count, 1, seen.Count);
                double[] window = [.. seen.Skip(seen.Count - (int)adwin.Count)];
                double mean = window.Average();
                Assert.Equal(mean, adwin.Mean, 1e-9);
                Assert.Equal(window.Sum(x => (x - mean) * (x - mean)) / window.Length, adwin.Variance, 1e-9);
            }
        }

        Assert.True(adwin.Detections >= 2, $"two jumps of 3 and 4 standard deviations, {adwin.Detections} detections");
        // The last jump was 1,000 values ago: the window should start near it (cut points lie on bucket boundaries).
        Assert.True(adwin.Count is > 800 and < 1_100, $"the window should hold about the last level's 1,000 values, it holds {adwin.Count}");
    }

    [Fact]
    public void Adwin_detects_a_jump_within_the_delay_its_bound_guarantees()
    {
        // Bernoulli 0.2 → 0.6 after 5,000 values (Δ = 0.4). The paper's guarantee: once some split's true means differ by
        // more than 2·ε_cut, the window is cut (w.p. ≥ 1 − δ). With the older part the 5,000 values before the change and
        // the newer part n₁ values after it, find the first n₁ where 2·ε_cut(5000, n₁, σ²) < Δ (σ² the window's true
        // variance); cuts are tested only every 32 values and at bucket boundaries, which can hold up to n₁/(M − 1) of
        // the newest values, so the delay bound is n₁·M/(M − 1) + 32.
        const double p = 0.2, q = 0.6, delta = 0.002;
        const int perLevel = 5, interval = 32;
        int guaranteed = 1;
        while (2 * Adwin.Threshold(Before, guaranteed, MixtureVariance(Before, guaranteed, p, q), delta) >= q - p)
        {
            guaranteed++;
        }

        int bound = (guaranteed * perLevel / (perLevel - 1)) + interval;
        var delays = new List<int>();
        for (int seed = 0; seed < 20; seed++)
        {
            var adwin = new Adwin(delta, perLevel, interval);
            double[] values = Stream(seed, Before + 2_000, p, Before, q);
            int detected = -1;
            for (int t = 0; t < values.Length && detected < 0; t++)
            {
                if (adwin.Add(values[t]) && t >= Before)
                {
                    detected = t - Before + 1;
                }
            }

            Assert.True(detected > 0, $"seed {seed}: no detection within 2,000 values (bound {bound})");
            delays.Add(detected);
        }

        output.WriteLine($"ADWIN delays after a 0.2 → 0.6 jump: min {delays.Min()}, median {delays.Order().ElementAt(10)}, max {delays.Max()}; guarantee n₁* = {guaranteed}, bound {bound}");
        Assert.True(delays.Max() <= bound, $"delays {string.Join(", ", delays)}; the guarantee's bound is {bound} (n₁* = {guaranteed})");
    }

    [Fact]
    public void Adwin_false_alarms_on_stationary_streams_stay_under_the_union_bound()
    {
        // Each test has false-alarm probability at most δ, and there is one test per 32 values: at most δ·n/32 per stream
        // in expectation. Twenty streams of 10,000 values allow 20 · 0.002 · 312.5 = 12.5; a wrong threshold gives hundreds.
        int alarms = 0;
        for (int seed = 100; seed < 120; seed++)
        {
            var adwin = new Adwin();
            foreach (double value in Stream(seed, 10_000, 0.3))
            {
                alarms += adwin.Add(value) ? 1 : 0;
            }
        }

        Assert.InRange(alarms, 0, 12);
    }

    [Fact]
    public void Page_Hinkley_detects_an_increase_within_the_delay_of_its_expected_drift_and_ignores_a_decrease()
    {
        // After a jump of Δ the increments are about Δ·n₀/(n₀ + k) − δ (the running mean absorbs the new values), so the
        // statistic's expected rise after K values is Σ_k that; K* is where it first exceeds λ. Noise may delay it: allow 2·K*.
        const double p = 0.2, q = 0.6, delta = 0.005, lambda = 100;
        double rise = 0;
        int expected = 0;
        while (rise <= lambda)
        {
            expected++;
            rise += ((q - p) * Before / (Before + expected)) - delta;
        }

        var delays = new List<int>();
        for (int seed = 0; seed < 20; seed++)
        {
            var test = new PageHinkley(delta, lambda);
            double[] values = Stream(seed, Before + 1_000, p, Before, q);
            int detected = -1;
            for (int t = 0; t < values.Length && detected < 0; t++)
            {
                if (test.Add(values[t]))
                {
                    Assert.True(t >= Before, $"seed {seed}: a false alarm at {t}, before the change");
                    detected = t - Before + 1;
                }
            }

            Assert.InRange(detected, 1, 2 * expected);
            delays.Add(detected);

            // A fall of the mean drives the sum down, away from the threshold: no alarm after it.
            var falling = new PageHinkley(delta, lambda);
            double[] fall = Stream(seed, Before + 1_000, q, Before, p);
            int[] alarms = [.. Enumerable.Range(0, fall.Length).Where(t => falling.Add(fall[t]))];
            Assert.DoesNotContain(alarms, t => t >= Before);
        }

        output.WriteLine($"Page-Hinkley delays after a 0.2 → 0.6 jump: min {delays.Min()}, median {delays.Order().ElementAt(10)}, max {delays.Max()}; expected drift reaches λ at K* = {expected}");
    }

    [Fact]
    public void Page_Hinkley_is_quiet_on_stationary_streams_and_restarts_after_a_detection()
    {
        // With drift −δ per step and per-step variance σ² = 0.21, an excursion of λ has probability about exp(−2δλ/σ²)
        // = exp(−2.4) per excursion; with λ = 100 it is exp(−4.8), and 20 streams of 10,000 values see at most a few.
        int alarms = 0;
        for (int seed = 200; seed < 220; seed++)
        {
            var test = new PageHinkley(delta: 0.005, lambda: 100);
            alarms += Stream(seed, 10_000, 0.3).Count(test.Add);
        }

        Assert.InRange(alarms, 0, 3);

        var detector = new PageHinkley(lambda: 5, minValues: 1);
        double[] jump = [.. Enumerable.Repeat(0.0, 50), .. Enumerable.Repeat(1.0, 50)];
        int at = Array.FindIndex(jump, detector.Add);
        Assert.InRange(at, 50, 60);
        Assert.Equal(0, detector.Count);   // it starts over at the detection
        Assert.Equal(1, detector.Detections);
    }

    [Fact]
    public void Same_stream_same_detections_and_reset_forgets_everything()
    {
        double[] values = Stream(7, 12_000, 0.1, 6_000, 0.5);
        foreach (Func<IDriftDetector> create in new Func<IDriftDetector>[] { () => new Adwin(), () => new PageHinkley() })
        {
            IDriftDetector first = create(), second = create();
            int[] a = [.. Enumerable.Range(0, values.Length).Where(t => first.Add(values[t]))];
            first.Reset();
            Assert.Equal((0L, 0.0, 0), (first.Count, first.Mean, first.Detections));
            int[] b = [.. Enumerable.Range(0, values.Length).Where(t => second.Add(values[t]))];
            int[] c = [.. Enumerable.Range(0, values.Length).Where(t => first.Add(values[t]))];
            Assert.NotEmpty(a);
            Assert.Equal(a, b);
            Assert.Equal(a, c);
        }
    }

    [Fact]
    public void Bad_values_and_options_are_rejected_by_name_and_change_nothing()
    {
        foreach (IDriftDetector detector in new IDriftDetector[] { new Adwin(), new PageHinkley() })
        {
            foreach (double value in Stream(3, 100, 0.5))
            {
                detector.Add(value);
            }

            (long, double, int) before = (detector.Count, detector.Mean, detector.Detections);
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => detector.Add(bad));
                Assert.Equal("value", error.ParamName);
            }

            Assert.Equal(before, (detector.Count, detector.Mean, detector.Detections));
        }

        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => new Adwin(delta: 0)).ParamName);
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => new Adwin(delta: double.NaN)).ParamName);
        Assert.Equal("bucketsPerLevel", Assert.Throws<ArgumentOutOfRangeException>(() => new Adwin(bucketsPerLevel: 1)).ParamName);
        Assert.Equal("checkInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new Adwin(checkInterval: 0)).ParamName);
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(delta: -1)).ParamName);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(lambda: 0)).ParamName);
        Assert.Equal("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(alpha: 1.5)).ParamName);
        Assert.Equal("minValues", Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(minValues: 0)).ParamName);
    }

    [Fact]
    public void Adding_a_value_allocates_nothing()
    {
        var adwin = new Adwin(checkInterval: 1);
        var test = new PageHinkley();
        double[] values = Stream(5, 4_096, 0.4, 2_048, 0.8);
        int t = 0;
        Assert.Equal(0, Allocations.Measure(() =>
        {
            adwin.Add(values[t % values.Length]);
            test.Add(values[t++ % values.Length]);
        }, warmUps: 2_000, calls: 1_000));
    }

    /// <summary>The variance of n₀ Bernoulli(p) values followed by n₁ Bernoulli(q) values (within parts plus between them).</summary>
    private static double MixtureVariance(int n0, int n1, double p, double q)
    {
        double w = (double)n0 / (n0 + n1), mean = (w * p) + ((1 - w) * q);
        return (w * p * (1 - p)) + ((1 - w) * q * (1 - q)) + (w * (p - mean) * (p - mean)) + ((1 - w) * (q - mean) * (q - mean));
    }
}

using System.Globalization;
using MathNet.Numerics;

namespace LifelongPrefs.Privacy;

/// <summary>How an RDP curve becomes an (ε, δ) guarantee (<see cref="RdpAccountant.Epsilon"/>).</summary>
public enum RdpConversion
{
    /// <summary>
    /// Mironov 2017, Proposition 3: <c>ε = RDP(α) + log(1/δ)/(α − 1)</c>, minimised over the orders. The conversion of
    /// TF-Privacy's original <c>rdp_accountant</c>, and (at integer orders) of Abadi et al.'s moments accountant.
    /// </summary>
    Classic = 0,

    /// <summary>
    /// Canonne, Kamath and Steinke 2020 (Proposition 12; Balle et al. 2020, Theorem 21, is the same bound):
    /// <c>ε = RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1)</c>, minimised over the orders and never above
    /// <see cref="Classic"/>. The conversion of Google's current <c>dp_accounting</c>.
    /// </summary>
    Tight = 1,
}

/// <summary>
/// Rényi differential privacy accountant of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019, "Rényi
/// Differential Privacy of the Sampled Gaussian Mechanism"): each step includes every record independently with
/// probability q (Poisson sampling), sums the records' contributions clipped to L2 norm C and adds N(0, σ²C²) noise.
/// Steps compose by adding their RDP at every order; the total converts to (ε, δ) by <see cref="RdpConversion"/>.
/// </summary>
/// <remarks>
/// <para>
/// Integer orders use the exact binomial sum <c>A_α = Σ_k C(α,k)(1−q)^(α−k) q^k exp((k²−k)/(2σ²))</c> in log space;
/// fractional orders the two-series formula of Mironov et al. §3.3 (series summed until their terms fall below e⁻³⁰).
/// The RDP of one step at order α is <c>log A_α / (α − 1)</c>; with q = 1 it is the Gaussian mechanism's α/(2σ²).
/// The guarantee is for add/remove-one-record neighbours and holds only if the sampling really is Poisson at rate q.
/// </para>
/// <para>Not thread-safe: <see cref="Compose"/> writes; the static members may run on any threads at once.</para>
/// </remarks>
public sealed class RdpAccountant
{
    // TF-Privacy's compute_dp_sgd_privacy orders (tensorflow/privacy, compute_dp_sgd_privacy_lib.py).
    private static readonly double[] Default =
        [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, .. Enumerable.Range(5, 59).Select(o => (double)o), 128, 256, 512];

    private readonly double[] _orders;
    private readonly double[] _rdp;

    /// <summary>Creates an accountant that has spent nothing.</summary>
    /// <param name="orders">The Rényi orders α to track, each finite and above 1; null for <see cref="DefaultOrders"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="orders"/> is empty or holds an order that is not finite and above 1.</exception>
    public RdpAccountant(IReadOnlyList<double>? orders = null)
    {
        _orders = orders is null ? [.. Default] : CheckOrders(orders);
        _rdp = new double[_orders.Length];
    }

    /// <summary>Gets the default orders: 1.25 … 4.5 in quarter and half steps, every integer 5 … 63, and 128, 256, 512 (TF-Privacy's).</summary>
    public static IReadOnlyList<double> DefaultOrders => Default;

    /// <summary>Gets the orders tracked.</summary>
    public IReadOnlyList<double> Orders => _orders;

    /// <summary>Gets the number of steps composed so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Adds <paramref name="steps"/> steps of the sampled Gaussian mechanism.</summary>
    /// <param name="samplingRate">q in [0, 1].</param>
    /// <param name="noiseMultiplier">σ (noise standard deviation over the clipping norm), positive and finite.</param>
    /// <param name="steps">How many steps, non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (nothing changes).</exception>
    public void Compose(double samplingRate, double noiseMultiplier, long steps = 1)
    {
        CheckMechanism(samplingRate, noiseMultiplier);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var step = new double[_orders.Length];
        for (int k = 0; k < _orders.Length; k++)
        {
            step[k] = SampledGaussianRdp(samplingRate, noiseMultiplier, _orders[k]) * steps;
        }

        for (int k = 0; k < _orders.Length; k++)
        {
            _rdp[k] += step[k];
        }

        Steps += steps;
    }

    /// <summary>The RDP spent so far at the order of index <paramref name="index"/> in <see cref="Orders"/>.</summary>
    /// <param name="index">An index into <see cref="Orders"/>.</param>
    /// <returns>The composed RDP at that order (may be +∞).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public double RdpAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _orders.Length);
        return _rdp[index];
    }

    /// <summary>The ε of the steps composed so far at <paramref name="delta"/>.</summary>
    /// <param name="delta">δ in (0, 1).</param>
    /// <param name="conversion">The RDP-to-DP conversion.</param>
    /// <returns>ε ≥ 0 (0 before any step; +∞ when no order gives a finite bound).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> or <paramref name="conversion"/> is out of range.</exception>
    public double Epsilon(double delta, RdpConversion conversion = RdpConversion.Tight) => EpsilonAndOrder(delta, conversion).Epsilon;

    /// <summary>The ε of the steps composed so far at <paramref name="delta"/>, with the order that attains it.</summary>
    /// <param name="delta">δ in (0, 1).</param>
    /// <param name="conversion">The RDP-to-DP conversion.</param>
    /// <returns>ε and the minimising order (NaN when ε is infinite or nothing was composed).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> or <paramref name="conversion"/> is out of range.</exception>
    public (double Epsilon, double Order) EpsilonAndOrder(double delta, RdpConversion conversion = RdpConversion.Tight)
    {
        (double eps, double order) = ToEpsilon(_orders, _rdp, delta, conversion);

        // Nothing released yet: no loss at all (the tight conversion's bound would be a small positive number).
        return Steps == 0 ? (0, double.NaN) : (eps, order);
    }

    /// <summary>ε of <paramref name="steps"/> steps at rate <paramref name="samplingRate"/> and noise <paramref name="noiseMultiplier"/>.</summary>
    /// <param name="samplingRate">q in [0, 1].</param>
    /// <param name="noiseMultiplier">σ, positive and finite.</param>
    /// <param name="steps">The number of steps, non-negative.</param>
    /// <param name="delta">δ in (0, 1).</param>
    /// <param name="conversion">The RDP-to-DP conversion.</param>
    /// <param name="orders">The orders; null for <see cref="DefaultOrders"/>.</param>
    /// <returns>ε ≥ 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="orders"/> is empty or holds an order that is not finite and above 1.</exception>
    public static double EpsilonFor(double samplingRate, double noiseMultiplier, long steps, double delta,
        RdpConversion conversion = RdpConversion.Tight, IReadOnlyList<double>? orders = null)
    {
        CheckDelta(delta);
        var accountant = new RdpAccountant(orders);
        accountant.Compose(samplingRate, noiseMultiplier, steps);
        return accountant.Epsilon(delta, conversion);
    }

    /// <summary>
    /// The smallest noise multiplier σ (to a relative 10⁻⁶, by bisection) for which <paramref name="steps"/> steps at rate
    /// <paramref name="samplingRate"/> spend at most <paramref name="targetEpsilon"/> at <paramref name="delta"/>.
    /// </summary>
    /// <param name="targetEpsilon">ε, positive and finite.</param>
    /// <param name="delta">δ in (0, 1).</param>
    /// <param name="samplingRate">q in (0, 1].</param>
    /// <param name="steps">The number of steps, positive.</param>
    /// <param name="conversion">The RDP-to-DP conversion.</param>
    /// <returns>σ with <c>EpsilonFor(q, σ, steps, δ) ≤ targetEpsilon</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or no σ up to 10⁶ reaches the target.</exception>
    public static double NoiseMultiplierFor(double targetEpsilon, double delta, double samplingRate, long steps,
        RdpConversion conversion = RdpConversion.Tight)
    {
        if (!(targetEpsilon > 0 && double.IsFinite(targetEpsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, Invariant($"The target ε is {targetEpsilon}; it must be positive and finite."));
        }

        CheckDelta(delta);
        if (!(samplingRate > 0 && samplingRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, Invariant($"The sampling rate is {samplingRate}; it must lie in (0, 1]."));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        CheckConversion(conversion);
        double Spent(double sigma) => EpsilonFor(samplingRate, sigma, steps, delta, conversion);

        // ε falls as σ grows: double an upper end until it meets the target, then bisect.
        double low = 0, high = 0.5;
        while (Spent(high) > targetEpsilon)
        {
            low = high;
            high *= 2;
            if (high > 1e6)
            {
                throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon,
                    Invariant($"No noise multiplier up to 1e6 reaches ε = {targetEpsilon} at δ = {delta} over {steps} steps at q = {samplingRate}."));
            }
        }

        while (high - low > 1e-6 * high)
        {
            double mid = 0.5 * (low + high);
            if (Spent(mid) > targetEpsilon)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return high;
    }

    /// <summary>The RDP of one step of the sampled Gaussian mechanism at order <paramref name="order"/>.</summary>
    /// <param name="samplingRate">q in [0, 1].</param>
    /// <param name="noiseMultiplier">σ, positive and finite.</param>
    /// <param name="order">α, finite and above 1.</param>
    /// <returns>RDP(α) ≥ 0 (+∞ if it overflows).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static double SampledGaussianRdp(double samplingRate, double noiseMultiplier, double order)
    {
        CheckMechanism(samplingRate, noiseMultiplier);
        CheckOrder(order, nameof(order));
        if (samplingRate == 0)
        {
            return 0;
        }

        if (samplingRate == 1)
        {
            return order / (2 * noiseMultiplier * noiseMultiplier);
        }

        double logA = order == Math.Floor(order)
            ? LogAInteger(samplingRate, noiseMultiplier, (int)Math.Min(order, int.MaxValue))
            : LogAFractional(samplingRate, noiseMultiplier, order);
        return Math.Max(0, logA / (order - 1));
    }

    /// <summary>log A_α for integer α: the binomial expansion of E_{z∼μ₀}[(μ(z)/μ₀(z))^α], every term in log space.</summary>
    private static double LogAInteger(double q, double sigma, int alpha)
    {
        double logQ = Math.Log(q), log1mQ = double.LogP1(-q), twoSigma2 = 2 * sigma * sigma;
        double sum = double.NegativeInfinity;
        for (int k = 0; k <= alpha; k++)
        {
            double term = SpecialFunctions.BinomialLn(alpha, k) + k * logQ + (alpha - k) * log1mQ + ((double)k * k - k) / twoSigma2;
            sum = LogAdd(sum, term);
        }

        return sum;
    }

    /// <summary>log A_α for fractional α: the two series of Mironov et al. §3.3, split at z₀ = σ²·log(1/q − 1) + 1/2.</summary>
    private static double LogAFractional(double q, double sigma, double alpha)
    {
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        double z0 = sigma * sigma * Math.Log(1 / q - 1) + 0.5;
        double logQ = Math.Log(q), log1mQ = double.LogP1(-q), twoSigma2 = 2 * sigma * sigma, sqrt2Sigma = Math.Sqrt(2) * sigma;

        // The generalised binomial coefficient C(α, i) by its ratio C(α, i+1)/C(α, i) = (α − i)/(i + 1): its sign
        // alternates once i passes α, so it is carried as a log magnitude and a sign.
        double logCoef = 0;
        bool positive = true;
        for (int i = 0; i < 100_000; i++)
        {
            double j = alpha - i;
            double logT0 = logCoef + i * logQ + j * log1mQ;
            double logT1 = logCoef + j * logQ + i * log1mQ;
            double logE0 = Math.Log(0.5) + LogErfc((i - z0) / sqrt2Sigma);
            double logE1 = Math.Log(0.5) + LogErfc((z0 - j) / sqrt2Sigma);
            double logS0 = logT0 + ((double)i * i - i) / twoSigma2 + logE0;
            double logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
            if (positive)
            {
                (logA0, logA1) = (LogAdd(logA0, logS0), LogAdd(logA1, logS1));
            }
            else
            {
                (logA0, logA1) = (LogSub(logA0, logS0), LogSub(logA1, logS1));
            }

            if (i > alpha && Math.Max(logS0, logS1) < -30)
            {
                break;
            }

            double ratio = alpha - i;
            logCoef += Math.Log(Math.Abs(ratio)) - Math.Log(i + 1);
            positive ^= ratio < 0;
        }

        return LogAdd(logA0, logA1);
    }

    /// <summary>log erfc(x), finite far into the tail where erfc itself underflows.</summary>
    private static double LogErfc(double x)
    {
        if (x < 20)
        {
            return Math.Log(SpecialFunctions.Erfc(x));
        }

        // erfc(x) ~ exp(−x²)/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶)) (Abramowitz and Stegun 7.1.23); at x ≥ 20 the
        // omitted terms are below 1e-9 relative.
        double r = 1 / (x * x);
        return -x * x - Math.Log(x) - 0.5 * Math.Log(Math.PI) + Math.Log(1 - r / 2 + 3 * r * r / 4 - 15 * r * r * r / 8);
    }

    /// <summary>log(eᵃ + eᵇ) without overflow.</summary>
    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        double high = Math.Max(a, b), low = Math.Min(a, b);
        return high + double.LogP1(Math.Exp(low - high));
    }

    /// <summary>log(eᵃ − eᵇ) for a ≥ b (−∞ when equal); a series term larger than its running sum cannot occur for these series.</summary>
    private static double LogSub(double a, double b)
    {
        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        if (b >= a)
        {
            return double.NegativeInfinity;
        }

        return a + Math.Log(-double.ExpM1(b - a));
    }

    private static (double Epsilon, double Order) ToEpsilon(double[] orders, double[] rdp, double delta, RdpConversion conversion)
    {
        CheckDelta(delta);
        CheckConversion(conversion);
        double best = double.PositiveInfinity, bestOrder = double.NaN, logDelta = Math.Log(delta);
        for (int k = 0; k < orders.Length; k++)
        {
            double a = orders[k];
            double eps = conversion == RdpConversion.Classic
                ? rdp[k] - logDelta / (a - 1)
                : rdp[k] + double.LogP1(-1 / a) - (logDelta + Math.Log(a)) / (a - 1);
            if (eps < best)
            {
                (best, bestOrder) = (eps, a);
            }
        }

        return (Math.Max(0, best), bestOrder);
    }

    private static double[] CheckOrders(IReadOnlyList<double> orders)
    {
        if (orders.Count == 0)
        {
            throw new ArgumentException("The list of Rényi orders is empty.", nameof(orders));
        }

        double[] copy = [.. orders];
        for (int k = 0; k < copy.Length; k++)
        {
            if (!(copy[k] > 1 && double.IsFinite(copy[k])))
            {
                throw new ArgumentException(Invariant($"Rényi order {k} is {copy[k]}; every order must be finite and above 1."), nameof(orders));
            }
        }

        return copy;
    }

    private static void CheckOrder(double order, string name)
    {
        if (!(order > 1 && double.IsFinite(order)))
        {
            throw new ArgumentOutOfRangeException(name, order, Invariant($"The Rényi order is {order}; it must be finite and above 1."));
        }
    }

    private static void CheckMechanism(double samplingRate, double noiseMultiplier)
    {
        if (!(samplingRate >= 0 && samplingRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, Invariant($"The sampling rate is {samplingRate}; it must lie in [0, 1]."));
        }

        if (!(noiseMultiplier > 0 && double.IsFinite(noiseMultiplier)))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier,
                Invariant($"The noise multiplier is {noiseMultiplier}; it must be positive and finite."));
        }
    }

    private static void CheckDelta(double delta)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, Invariant($"δ is {delta}; it must lie in (0, 1)."));
        }
    }

    private static void CheckConversion(RdpConversion conversion)
    {
        if (conversion is not (RdpConversion.Classic or RdpConversion.Tight))
        {
            throw new ArgumentOutOfRangeException(nameof(conversion), conversion, Invariant($"The conversion {(int)conversion} is not defined."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

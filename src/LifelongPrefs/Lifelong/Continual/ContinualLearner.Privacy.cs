using LifelongPrefs.Privacy;

namespace LifelongPrefs.Lifelong;

/// <summary>Differentially private updates (<see cref="ContinualOptions.DifferentialPrivacy"/>) and the privacy they spent.</summary>
public sealed partial class ContinualLearner
{
    // Mixed into the learner's seed so the noise stream is not the replay stream.
    private const int NoiseSeedSalt = 0x0D9_5EED;

    private readonly PrivateSettings? _dp;
    private long _privateSteps;

    /// <summary>The resolved DP settings of a learner: the options' copy, σ and the steps of one update.</summary>
    private sealed record PrivateSettings(DpOptions Options, double NoiseMultiplier, int StepsPerUpdate, SeededRandom Generator);

    /// <summary>Gets whether updates are differentially private.</summary>
    public bool IsPrivate => _dp is not null;

    /// <summary>Gets the noise multiplier σ private updates use (resolved from the target ε when one was set); NaN when updates are not private.</summary>
    public double NoiseMultiplier => _dp?.NoiseMultiplier ?? double.NaN;

    /// <summary>Gets the number of private (DP-SGD) steps run so far. Thread-safe.</summary>
    public long PrivateSteps => Interlocked.Read(ref _privateSteps);

    /// <summary>
    /// The ε spent so far by the private updates at <paramref name="delta"/>: the sampled Gaussian mechanism at rate
    /// <see cref="DpOptions.SamplingRate"/> and σ = <see cref="NoiseMultiplier"/>, composed over every private step the
    /// learner ran (a user present in only some updates has spent less), converted by <see cref="DpOptions.Conversion"/>.
    /// </summary>
    /// <param name="delta">δ in (0, 1).</param>
    /// <returns>ε ≥ 0; +∞ when updates are not private (no guarantee at all).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not in (0, 1).</exception>
    /// <remarks>Thread-safe: may run alongside <see cref="Update"/> (it reads a step count that only grows).</remarks>
    public double PrivacySpent(double delta)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"δ is {delta}; it must lie in (0, 1)."));
        }

        if (_dp is null)
        {
            return double.PositiveInfinity;
        }

        return RdpAccountant.EpsilonFor(_dp.Options.SamplingRate, _dp.NoiseMultiplier, PrivateSteps, delta, _dp.Options.Conversion);
    }

    /// <summary>The resolved settings, or null when updates are not private.</summary>
    private PrivateSettings? PreparePrivacy(IContinualModel model)
    {
        if (_options.DifferentialPrivacy is not { Enabled: true } given)
        {
            return null;
        }

        DpOptions options = given.Clone();
        int steps = (int)Math.Min(Math.Ceiling(model.UpdateEpochs / options.SamplingRate), int.MaxValue);
        double sigma = options.TargetEpsilon > 0
            ? RdpAccountant.NoiseMultiplierFor(options.TargetEpsilon, options.Delta, options.SamplingRate,
                (long)options.PlannedUpdates * steps, options.Conversion)
            : options.NoiseMultiplier;
        return new PrivateSettings(options, sigma, steps, new SeededRandom(_options.Seed ^ NoiseSeedSalt));
    }

    /// <summary>One update's DP-SGD steps, counted for the accountant whether or not a user was sampled.</summary>
    private void TrainPrivately(List<(int User, int Item)> pairs, float[] weights)
    {
        PrivateSettings dp = _dp!;
        float noise = (float)Math.Min(dp.NoiseMultiplier * dp.Options.ClipNorm, float.MaxValue);
        _model.TrainPairsPrivately(pairs, weights, new PrivateUpdatePlan(dp.Options.ClipNorm, noise, dp.Options.SamplingRate, dp.StepsPerUpdate, dp.Generator));
        Interlocked.Add(ref _privateSteps, dp.StepsPerUpdate);
    }
}

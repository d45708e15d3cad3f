namespace LifelongPrefs.Training;

/// <summary>
/// Weight initialisation schemes. All randomness comes from the <see cref="Random"/> the caller passes,
/// which should be created with a seed (<c>new Random(seed)</c>, or <see cref="SeededRandom"/> when its state must
/// go into a checkpoint): the same seed then gives the same model.
/// </summary>
/// <remarks>
/// Fan-in and fan-out follow the usual convention for a weight of shape (fanIn, fanOut) or its transpose:
/// the number of inputs and outputs of the unit. Normal samples use the Box–Muller transform.
/// </remarks>
public static class Init
{
    /// <summary>Glorot/Xavier uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)) (Glorot &amp; Bengio, 2010).</summary>
    /// <param name="destination">The weights to fill.</param>
    /// <param name="fanIn">Inputs per unit; positive.</param>
    /// <param name="fanOut">Outputs per unit; positive.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <param name="gain">Scale for the activation that follows (1 for linear/sigmoid/tanh-ish use).</param>
    /// <exception cref="ArgumentOutOfRangeException">A fan is not positive or <paramref name="gain"/> is not positive and finite.</exception>
    public static void XavierUniform(Span<float> destination, int fanIn, int fanOut, Random random, float gain = 1f)
    {
        ValidateFans(fanIn, fanOut, gain);
        Uniform(destination, gain * MathF.Sqrt(6f / (fanIn + fanOut)), random);
    }

    /// <summary>Glorot/Xavier normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).</summary>
    /// <param name="destination">The weights to fill.</param>
    /// <param name="fanIn">Inputs per unit; positive.</param>
    /// <param name="fanOut">Outputs per unit; positive.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <param name="gain">Scale for the activation that follows.</param>
    /// <exception cref="ArgumentOutOfRangeException">A fan is not positive or <paramref name="gain"/> is not positive and finite.</exception>
    public static void XavierNormal(Span<float> destination, int fanIn, int fanOut, Random random, float gain = 1f)
    {
        ValidateFans(fanIn, fanOut, gain);
        Normal(destination, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)), random);
    }

    /// <summary>He/Kaiming uniform for ReLU networks: U(−a, a) with a = √(6 / fanIn) (He et al., 2015).</summary>
    /// <param name="destination">The weights to fill.</param>
    /// <param name="fanIn">Inputs per unit; positive.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void HeUniform(Span<float> destination, int fanIn, Random random)
    {
        ValidateFans(fanIn, 1, 1f);
        Uniform(destination, MathF.Sqrt(6f / fanIn), random);
    }

    /// <summary>He/Kaiming normal for ReLU networks: N(0, σ²) with σ = √(2 / fanIn).</summary>
    /// <param name="destination">The weights to fill.</param>
    /// <param name="fanIn">Inputs per unit; positive.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void HeNormal(Span<float> destination, int fanIn, Random random)
    {
        ValidateFans(fanIn, 1, 1f);
        Normal(destination, 0f, MathF.Sqrt(2f / fanIn), random);
    }

    /// <summary>
    /// Truncated normal: N(mean, σ²) conditioned on lying within <paramref name="bound"/> standard deviations of
    /// the mean (samples outside are redrawn), as used for Transformer and embedding weights.
    /// </summary>
    /// <param name="destination">The weights to fill.</param>
    /// <param name="standardDeviation">σ; positive and finite.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <param name="mean">The mean.</param>
    /// <param name="bound">The cut-off in standard deviations; positive (2 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">σ or the bound is not positive and finite.</exception>
    public static void TruncatedNormal(Span<float> destination, float standardDeviation, Random random, float mean = 0f, float bound = 2f)
    {
        ArgumentNullException.ThrowIfNull(random);
        RequirePositiveFinite(standardDeviation, nameof(standardDeviation));
        RequirePositiveFinite(bound, nameof(bound));
        for (int i = 0; i < destination.Length; i++)
        {
            double z;
            do
            {
                z = StandardNormal(random);
            }
            while (Math.Abs(z) > bound);

            destination[i] = (float)(mean + standardDeviation * z);
        }
    }

    /// <summary>Uniform U(−limit, limit).</summary>
    /// <param name="destination">The values to fill.</param>
    /// <param name="limit">Half-width; non-negative and finite.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative or not finite.</exception>
    public static void Uniform(Span<float> destination, float limit, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!(limit >= 0f) || !float.IsFinite(limit))
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"'{nameof(limit)}' must be non-negative and finite but was {limit}.");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        }
    }

    /// <summary>Normal N(mean, σ²).</summary>
    /// <param name="destination">The values to fill.</param>
    /// <param name="mean">The mean.</param>
    /// <param name="standardDeviation">σ; non-negative and finite.</param>
    /// <param name="random">The seeded source of randomness.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative or not finite.</exception>
    public static void Normal(Span<float> destination, float mean, float standardDeviation, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!(standardDeviation >= 0f) || !float.IsFinite(standardDeviation))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation,
                $"'{nameof(standardDeviation)}' must be non-negative and finite but was {standardDeviation}.");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)(mean + standardDeviation * StandardNormal(random));
        }
    }

    /// <summary>One N(0, 1) sample by Box–Muller (the cosine branch; the sine branch is discarded for simplicity).</summary>
    /// <param name="random">The seeded source of randomness.</param>
    /// <returns>A standard normal sample.</returns>
    public static double StandardNormal(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        // 1 - NextDouble() lies in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static void ValidateFans(int fanIn, int fanOut, float gain)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanOut);
        RequirePositiveFinite(gain, nameof(gain));
    }

    private static void RequirePositiveFinite(float value, string name)
    {
        if (!(value > 0f) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be positive and finite but was {value}.");
        }
    }
}

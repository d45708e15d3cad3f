using System.Buffers;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Writes an optional extra forecast distribution for a user (the slot for a sequence model's category forecast).
/// </summary>
/// <param name="user">The user index.</param>
/// <param name="history">The user's events before <paramref name="asOfTicks"/>, oldest first.</param>
/// <param name="asOfTicks">The forecast's time.</param>
/// <param name="destination">Receives a distribution over the categories.</param>
/// <returns>Whether a distribution was written (false: the slot counts as absent for this user).</returns>
internal delegate bool ExtraDistribution(int user, ReadOnlySpan<Interaction> history, long asOfTicks, Span<float> destination);

/// <summary>
/// Forecasts the category distribution a user will engage with over the next horizon: a log-linear blend
/// (a product of experts) of five smoothed distributions — the long-term profile, the recent profile, the
/// trajectory's trend, the global prior and an optional extra one — whose five exponents are fitted on the past by
/// minimising log-loss (<see cref="Fit"/>). Immutable after construction, so thread-safe.
/// </summary>
/// <remarks>
/// <para><c>p_c ∝ Π_k S̃_k,c^θ_k</c>, i.e. <c>p = softmax(Σ_k θ_k · ln S̃_k)</c>, where each component is mixed with the
/// smoothed prior, <c>S̃_k = (1 − η)·S_k + η·π̃</c>, η = <see cref="ComponentSmoothing"/>, so every log is finite. A
/// log-linear blend can sharpen (θ &gt; 1) or flatten a component, which a linear mixture cannot, and its log-loss is
/// convex in θ, so Newton's method finds the one minimum without any random start.</para>
/// <para>The output is finally mixed with the uniform distribution, <c>(1 − ε)·p + ε/C</c> with
/// ε = <see cref="OutputSmoothing"/> — the same smoothing the evaluation applies to its baselines — so no
/// probability is zero and log-loss stays finite.</para>
/// </remarks>
internal sealed partial class InterestForecaster
{
    /// <summary>The number of blended components.</summary>
    internal const int FeatureCount = 5;

    /// <summary>Component index of the long-term profile.</summary>
    internal const int LongTerm = 0;

    /// <summary>Component index of the recent profile.</summary>
    internal const int Recent = 1;

    /// <summary>Component index of the trajectory's trend.</summary>
    internal const int Trend = 2;

    /// <summary>Component index of the global prior.</summary>
    internal const int Prior = 3;

    /// <summary>Component index of the optional extra distribution.</summary>
    internal const int Extra = 4;

    /// <summary>η: each component's share of the prior before its logarithm is taken.</summary>
    internal const float ComponentSmoothing = 0.05f;

    /// <summary>ε: the uniform share mixed into every forecast (and into the evaluation's baselines).</summary>
    internal const float OutputSmoothing = 0.01f;

    /// <summary>How many calendar months before the forecast's time the trend is fitted on.</summary>
    internal const int TrendMonths = 6;

    private const double AverageMonthTicks = 365.2425 / 12 * TimeSpan.TicksPerDay;

    private readonly double[] _weights;

    /// <summary>Creates a forecaster with fixed exponents.</summary>
    /// <param name="weights">The <see cref="FeatureCount"/> exponents θ (finite).</param>
    /// <exception cref="ArgumentException">The count is wrong or an exponent is not finite.</exception>
    internal InterestForecaster(ReadOnlySpan<double> weights)
    {
        if (weights.Length != FeatureCount)
        {
            throw new ArgumentException($"'{nameof(weights)}' must hold {FeatureCount} exponents but holds {weights.Length}.", nameof(weights));
        }

        foreach (double w in weights)
        {
            if (!double.IsFinite(w))
            {
                throw new ArgumentException($"'{nameof(weights)}' holds {w}; every exponent must be finite.", nameof(weights));
            }
        }

        _weights = weights.ToArray();
    }

    /// <summary>Gets the unfitted forecaster: the geometric mean of the long-term and the recent profile (θ = ½, ½, 0, 0, 0).</summary>
    internal static InterestForecaster Default { get; } = new([0.5, 0.5, 0, 0, 0]);

    /// <summary>Gets the exponents θ, by component index.</summary>
    internal ReadOnlySpan<double> Weights => _weights;

    /// <summary>
    /// Writes the forecast's <see cref="FeatureCount"/> × C feature rows (<c>ln S̃_k,c</c>) for one user as of
    /// <paramref name="asOfTicks"/>; only events before that time are read.
    /// </summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="asOfTicks">The forecast's time.</param>
    /// <param name="horizon">How far ahead it looks (the trend is extrapolated to the horizon's middle).</param>
    /// <param name="options">Weights and half-lives.</param>
    /// <param name="prior">The global prior (a distribution over the categories).</param>
    /// <param name="extra">An extra distribution, or empty for none (its row is then all zeros, so θ_extra has no effect).</param>
    /// <param name="features">Receives <see cref="FeatureCount"/> × C values.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, the prior or the extra distribution is not a distribution, or the horizon is not positive.</exception>
    internal static void Features(ReadOnlySpan<Interaction> history, ItemCategories categories, long asOfTicks, TimeSpan horizon,
        ProfileOptions options, ReadOnlySpan<float> prior, ReadOnlySpan<float> extra, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(options);
        int c = categories.Count;
        if (prior.IsEmpty)
        {
            throw new ArgumentException($"'{nameof(prior)}' must be a distribution over the {c} categories.", nameof(prior));
        }

        InterestProfiles.CheckDistribution(prior, c, nameof(prior));
        InterestProfiles.CheckDistribution(extra, c, nameof(extra));

        if (features.Length != FeatureCount * c)
        {
            throw new ArgumentException($"'{nameof(features)}' must hold {FeatureCount} × {c} values but holds {features.Length}.", nameof(features));
        }

        if (horizon <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"'{nameof(horizon)}' must be positive but was {horizon}.");
        }

        // Only the past: events at the forecast's instant belong to the horizon.
        ReadOnlySpan<Interaction> past = history[..InterestProfiles.FirstAtOrAfter(history, asOfTicks)];
        Span<float> smoothedPrior = features.Slice(Prior * c, c);
        prior.CopyTo(smoothedPrior);
        InterestProfiles.Smooth(smoothedPrior, OutputSmoothing);

        Span<float> longTerm = features.Slice(LongTerm * c, c);
        Span<float> recent = features.Slice(Recent * c, c);
        InterestProfiles.Compute(past, categories, asOfTicks, options, longTerm, recent, smoothedPrior);
        TrendOf(past, categories, asOfTicks, horizon, options, features.Slice(Trend * c, c), longTerm);
        if (extra.IsEmpty)
        {
            features.Slice(Extra * c, c).Clear();
        }
        else
        {
            extra.CopyTo(features.Slice(Extra * c, c));
        }

        for (int k = 0; k < FeatureCount; k++)
        {
            if (k == Extra && extra.IsEmpty)
            {
                continue;
            }

            Span<float> row = features.Slice(k * c, c);
            for (int j = 0; j < c; j++)
            {
                row[j] = MathF.Log((1f - ComponentSmoothing) * row[j] + ComponentSmoothing * smoothedPrior[j]);
            }
        }
    }

    /// <summary>Writes the forecast distribution for one example's features: softmax of θ · features, then the output smoothing.</summary>
    /// <param name="features">The <see cref="FeatureCount"/> × C rows from <see cref="Features"/>.</param>
    /// <param name="destination">Receives C probabilities (each ≥ ε/C, summing to 1).</param>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    internal void Predict(ReadOnlySpan<float> features, Span<float> destination)
    {
        if (destination.IsEmpty || features.Length != FeatureCount * destination.Length)
        {
            throw new ArgumentException($"'{nameof(features)}' must hold {FeatureCount} × {destination.Length} values but holds {features.Length}.", nameof(features));
        }

        Blend(_weights, features, destination);
        InterestProfiles.Smooth(destination, OutputSmoothing);
    }

    /// <summary>Forecasts one user's category distribution over the horizon after <paramref name="asOfTicks"/>.</summary>
    /// <param name="history">The user's events, oldest first (later ones are ignored).</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="asOfTicks">The forecast's time.</param>
    /// <param name="horizon">How far ahead.</param>
    /// <param name="options">Weights and half-lives.</param>
    /// <param name="prior">The global prior.</param>
    /// <param name="extra">An extra distribution, or empty.</param>
    /// <param name="destination">Receives C probabilities.</param>
    /// <exception cref="ArgumentException">As for <see cref="Features"/> and <see cref="Predict(ReadOnlySpan{float}, Span{float})"/>.</exception>
    internal void Predict(ReadOnlySpan<Interaction> history, ItemCategories categories, long asOfTicks, TimeSpan horizon,
        ProfileOptions options, ReadOnlySpan<float> prior, ReadOnlySpan<float> extra, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(categories);
        if (destination.Length != categories.Count)
        {
            throw new ArgumentException($"'{nameof(destination)}' must hold {categories.Count} entries but holds {destination.Length}.", nameof(destination));
        }

        int length = FeatureCount * categories.Count;
        float[] features = ArrayPool<float>.Shared.Rent(length);
        try
        {
            Features(history, categories, asOfTicks, horizon, options, prior, extra, features.AsSpan(0, length));
            Predict(features.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
        }
    }

    /// <summary>
    /// The global prior as of <paramref name="asOfTicks"/>: every user's events before that time, decayed with the
    /// recent half-life (so a season's surge shows), as a distribution over the categories (uniform without events).
    /// </summary>
    /// <param name="histories">Every user's history.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="asOfTicks">The prior's time.</param>
    /// <param name="options">Weights and the recent half-life.</param>
    /// <param name="destination">Receives C probabilities.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    internal static void GlobalPrior(UserHistories histories, ItemCategories categories, long asOfTicks, ProfileOptions options, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(options);
        if (destination.Length != categories.Count)
        {
            throw new ArgumentException($"'{nameof(destination)}' must hold {categories.Count} entries but holds {destination.Length}.", nameof(destination));
        }

        double[] sums = new double[categories.Count];
        float[] user = new float[categories.Count];
        double total = 0;
        for (int u = 0; u < histories.UserCount; u++)
        {
            ReadOnlySpan<Interaction> h = histories.EventsOf(u);
            ReadOnlySpan<Interaction> past = h[..InterestProfiles.FirstAtOrAfter(h, asOfTicks)];
            total += InterestProfiles.Accumulate(past, categories, asOfTicks, options.RecentHalfLife, options, user, out _);
            for (int j = 0; j < user.Length; j++)
            {
                sums[j] += user[j];
            }
        }

        for (int j = 0; j < destination.Length; j++)
        {
            destination[j] = total > 0 ? (float)(sums[j] / total) : 1f / destination.Length;
        }
    }

    /// <summary>
    /// The trend: a per-category weighted least-squares line through the monthly shares of the last
    /// <see cref="TrendMonths"/> months (weights: each month's mass), evaluated at the horizon's middle, clipped at 0 and
    /// renormalised. With fewer than two months with events it is <paramref name="fallback"/>.
    /// </summary>
    private static void TrendOf(ReadOnlySpan<Interaction> past, ItemCategories categories, long asOfTicks, TimeSpan horizon,
        ProfileOptions options, Span<float> destination, ReadOnlySpan<float> fallback)
    {
        int c = categories.Count;
        float[] shares = ArrayPool<float>.Shared.Rent(TrendMonths * c);
        try
        {
            Span<double> mass = stackalloc double[TrendMonths];
            Span<double> x = stackalloc double[TrendMonths];
            int used = 0;

            // Slots back from the forecast's time: the begun part of its own month (if any), then whole months.
            long end = asOfTicks;
            long start = InterestProfiles.MonthStart(asOfTicks);
            if (start == end)
            {
                start = new DateTime(start, DateTimeKind.Utc).AddMonths(-1).Ticks;
            }

            for (int slot = 0; slot < TrendMonths; slot++)
            {
                Span<float> row = shares.AsSpan(used * c, c);
                double w = InterestProfiles.Window(past, categories, start, end, options, row);
                if (w > 0)
                {
                    InterestProfiles.Normalise(row, w, default);
                    mass[used] = w;

                    // The slot's middle in months relative to the forecast's time (negative: the past).
                    x[used] = ((start + end) / 2.0 - asOfTicks) / AverageMonthTicks;
                    used++;
                }

                end = start;
                start = new DateTime(start, DateTimeKind.Utc).AddMonths(-1).Ticks;
            }

            if (used < 2)
            {
                fallback.CopyTo(destination);
                return;
            }

            double target = horizon.Ticks / 2.0 / AverageMonthTicks;
            double sw = 0, sx = 0, sxx = 0;
            for (int i = 0; i < used; i++)
            {
                sw += mass[i];
                sx += mass[i] * x[i];
                sxx += mass[i] * x[i] * x[i];
            }

            double meanX = sx / sw;
            double varX = sxx / sw - meanX * meanX;
            double total = 0;
            for (int j = 0; j < c; j++)
            {
                double sy = 0, sxy = 0;
                for (int i = 0; i < used; i++)
                {
                    double y = shares[i * c + j];
                    sy += mass[i] * y;
                    sxy += mass[i] * x[i] * y;
                }

                double meanY = sy / sw;
                double slope = varX > 1e-12 ? (sxy / sw - meanX * meanY) / varX : 0;
                double value = Math.Max(0, meanY + slope * (target - meanX));
                destination[j] = (float)value;
                total += value;
            }

            InterestProfiles.Normalise(destination, total, fallback);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(shares);
        }
    }

    /// <summary>p = softmax(Σ_k θ_k · features_k).</summary>
    private static void Blend(ReadOnlySpan<double> theta, ReadOnlySpan<float> features, Span<float> destination)
    {
        int c = destination.Length;
        Span<double> scores = c <= 512 ? stackalloc double[c] : new double[c];
        double logSum = LogSumExp(theta, features, scores);
        for (int j = 0; j < c; j++)
        {
            destination[j] = (float)Math.Exp(scores[j] - logSum);
        }
    }
}

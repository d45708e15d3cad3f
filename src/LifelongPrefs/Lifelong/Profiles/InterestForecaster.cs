using System.Buffers;
using System.Runtime.InteropServices;
using LifelongPrefs.Data;

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
internal sealed class InterestForecaster
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
    /// Fits the exponents on <paramref name="examples"/> by Newton's method on the mean log-loss
    /// <c>−Σ_c q_c ln p_c</c> with a small ridge <c>(λ/2)·|θ|²</c> (which keeps the Hessian invertible when a
    /// component never varies, e.g. an absent extra slot, and leaves its exponent at 0); each step is halved until the
    /// loss decreases. Deterministic: no random choice.
    /// </summary>
    /// <param name="examples">The training examples (features and target distributions).</param>
    /// <param name="ridge">λ ≥ 0. <value>Default 1e-3.</value></param>
    /// <param name="maxIterations">The Newton step cap. <value>Default 50.</value></param>
    /// <returns>The fitted forecaster, or <see cref="Default"/> when there are no examples.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="examples"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ridge"/> is negative or not finite, or <paramref name="maxIterations"/> is below 1.</exception>
    internal static InterestForecaster Fit(ForecastExamples examples, double ridge = 1e-3, int maxIterations = 50)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (!double.IsFinite(ridge) || ridge < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ridge), ridge, $"'{nameof(ridge)}' must be finite and non-negative but was {ridge}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        if (examples.Count == 0)
        {
            return Default;
        }

        double[] theta = [.. Default._weights];
        double loss = Loss(examples, theta, ridge);
        var gradient = new double[FeatureCount];
        var hessian = new double[FeatureCount * FeatureCount];
        var step = new double[FeatureCount];
        var trial = new double[FeatureCount];
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            Derivatives(examples, theta, ridge, gradient, hessian);
            if (!Solve(hessian, gradient, step))
            {
                break;
            }

            double scale = 1;
            double next = double.PositiveInfinity;
            for (int halving = 0; halving < 30; halving++)
            {
                for (int k = 0; k < FeatureCount; k++)
                {
                    trial[k] = theta[k] - scale * step[k];
                }

                next = Loss(examples, trial, ridge);
                if (next <= loss)
                {
                    break;
                }

                scale *= 0.5;
            }

            if (!(next <= loss))
            {
                break;
            }

            trial.CopyTo(theta, 0);
            bool done = loss - next < 1e-10;
            loss = next;
            if (done)
            {
                break;
            }
        }

        return new InterestForecaster(theta);
    }

    /// <summary>Fits a forecaster on the past: <see cref="Fit"/> over <see cref="Examples"/> with the default ridge.</summary>
    /// <param name="histories">Every user's history.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="untilTicks">No target event at or after this instant is read (e.g. the current time).</param>
    /// <param name="months">How many past months to learn from. <value>Default 6.</value></param>
    /// <param name="options">Weights and half-lives; null for <see cref="ProfileOptions.Default"/>.</param>
    /// <param name="extra">The extra slot, or null.</param>
    /// <returns>The fitted forecaster (<see cref="Default"/> when the past has no complete month with users).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="histories"/> or <paramref name="categories"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="months"/> is below 1, or an option is out of range.</exception>
    internal static InterestForecaster FitOnHistories(UserHistories histories, ItemCategories categories, long untilTicks, int months = 6,
        ProfileOptions? options = null, ExtraDistribution? extra = null)
    {
        options ??= ProfileOptions.Default;
        options.Validate();
        return Fit(Examples(histories, categories, untilTicks, months, options, extra));
    }

    /// <summary>
    /// Builds the training examples of the latest <paramref name="months"/> calendar months that end at or before
    /// <paramref name="untilTicks"/>: for each such month (forecast time = its start, horizon one month), every user
    /// with an event before it and a counted event in it gives one example (features as of the month's start, target =
    /// the month's category distribution). The global prior of each month is <see cref="GlobalPrior"/> at its start.
    /// </summary>
    /// <param name="histories">Every user's history.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="untilTicks">No target event at or after this instant is read.</param>
    /// <param name="months">How many months to take at most (≥ 1).</param>
    /// <param name="options">Weights and half-lives.</param>
    /// <param name="extra">The extra slot, or null.</param>
    /// <returns>The examples (possibly none).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="histories"/>, <paramref name="categories"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="months"/> is below 1.</exception>
    internal static ForecastExamples Examples(UserHistories histories, ItemCategories categories, long untilTicks, int months,
        ProfileOptions options, ExtraDistribution? extra = null)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(months, 1);
        var examples = new ForecastExamples(categories.Count);
        long first = long.MaxValue;
        for (int u = 0; u < histories.UserCount; u++)
        {
            ReadOnlySpan<Interaction> h = histories.EventsOf(u);
            if (!h.IsEmpty)
            {
                first = Math.Min(first, h[0].Ticks);
            }
        }

        if (first == long.MaxValue)
        {
            return examples;
        }

        // The latest month that ends by untilTicks, then back; a month needs some history before it.
        long start = InterestProfiles.MonthStart(Math.Min(untilTicks, DateTime.MaxValue.Ticks));
        if (InterestProfiles.NextMonth(start) > untilTicks)
        {
            start = new DateTime(start, DateTimeKind.Utc).AddMonths(-1).Ticks;
        }

        int c = categories.Count;
        var prior = new float[c];
        var features = new float[FeatureCount * c];
        var target = new float[c];
        var extraRow = new float[c];
        for (int m = 0; m < months && start > first; m++)
        {
            long end = InterestProfiles.NextMonth(start);
            GlobalPrior(histories, categories, start, options, prior);
            for (int u = 0; u < histories.UserCount; u++)
            {
                if (!TryMonthTarget(histories.EventsOf(u), categories, start, end, options, target, out ReadOnlySpan<Interaction> past))
                {
                    continue;
                }

                bool hasExtra = extra is not null && extra(u, past, start, extraRow);
                Features(past, categories, start, TimeSpan.FromTicks(end - start), options, prior, hasExtra ? extraRow : default, features);
                examples.Add(features, target);
            }

            start = new DateTime(start, DateTimeKind.Utc).AddMonths(-1).Ticks;
        }

        return examples;
    }

    /// <summary>
    /// Whether a user takes part in the month [<paramref name="start"/>, <paramref name="end"/>): an event before it
    /// and a counted event in it. If so, writes the month's category distribution and returns the events before it.
    /// </summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="start">The month's first instant.</param>
    /// <param name="end">The next month's first instant.</param>
    /// <param name="options">The event weights.</param>
    /// <param name="target">Receives the month's distribution (C entries).</param>
    /// <param name="past">The events before <paramref name="start"/>.</param>
    /// <returns>Whether the user takes part.</returns>
    internal static bool TryMonthTarget(ReadOnlySpan<Interaction> history, ItemCategories categories, long start, long end,
        ProfileOptions options, Span<float> target, out ReadOnlySpan<Interaction> past)
    {
        past = default;
        if (history.IsEmpty || history[0].Ticks >= start)
        {
            return false;
        }

        double mass = InterestProfiles.Window(history, categories, start, end, options, target);
        if (mass <= 0)
        {
            return false;
        }

        InterestProfiles.Normalise(target, mass, default);
        past = history[..InterestProfiles.FirstAtOrAfter(history, start)];
        return true;
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

    /// <summary>Mean log-loss of the unsmoothed blend plus the ridge term.</summary>
    private static double Loss(ForecastExamples examples, ReadOnlySpan<double> theta, double ridge)
    {
        int c = examples.CategoryCount;
        Span<double> scores = c <= 512 ? stackalloc double[c] : new double[c];
        double loss = 0;
        for (int n = 0; n < examples.Count; n++)
        {
            ReadOnlySpan<float> x = examples.FeaturesOf(n);
            ReadOnlySpan<float> q = examples.TargetOf(n);
            double logSum = LogSumExp(theta, x, scores);
            for (int j = 0; j < c; j++)
            {
                if (q[j] > 0)
                {
                    loss -= q[j] * (scores[j] - logSum);
                }
            }
        }

        double penalty = 0;
        foreach (double t in theta)
        {
            penalty += t * t;
        }

        return loss / examples.Count + 0.5 * ridge * penalty;
    }

    /// <summary>The mean loss's gradient and Hessian in θ (the Hessian of a softmax log-loss is the covariance of the features under p).</summary>
    private static void Derivatives(ForecastExamples examples, ReadOnlySpan<double> theta, double ridge, Span<double> gradient, Span<double> hessian)
    {
        int c = examples.CategoryCount;
        Span<double> p = c <= 512 ? stackalloc double[c] : new double[c];
        Span<double> mean = stackalloc double[FeatureCount];
        gradient.Clear();
        hessian.Clear();
        for (int n = 0; n < examples.Count; n++)
        {
            ReadOnlySpan<float> x = examples.FeaturesOf(n);
            ReadOnlySpan<float> q = examples.TargetOf(n);
            double logSum = LogSumExp(theta, x, p);
            mean.Clear();
            for (int j = 0; j < c; j++)
            {
                p[j] = Math.Exp(p[j] - logSum);
                double r = p[j] - q[j];
                for (int a = 0; a < FeatureCount; a++)
                {
                    double xa = x[a * c + j];
                    gradient[a] += r * xa;
                    mean[a] += p[j] * xa;
                    for (int b = 0; b <= a; b++)
                    {
                        hessian[a * FeatureCount + b] += p[j] * xa * x[b * c + j];
                    }
                }
            }

            for (int a = 0; a < FeatureCount; a++)
            {
                for (int b = 0; b <= a; b++)
                {
                    hessian[a * FeatureCount + b] -= mean[a] * mean[b];
                }
            }
        }

        double inverse = 1.0 / examples.Count;
        for (int a = 0; a < FeatureCount; a++)
        {
            gradient[a] = gradient[a] * inverse + ridge * theta[a];
            for (int b = 0; b <= a; b++)
            {
                double h = hessian[a * FeatureCount + b] * inverse + (a == b ? ridge : 0);
                hessian[a * FeatureCount + b] = h;
                hessian[b * FeatureCount + a] = h;
            }
        }
    }

    /// <summary>Writes θ · x per category and returns ln Σ exp of them (stable: the maximum is taken out before exp).</summary>
    private static double LogSumExp(ReadOnlySpan<double> theta, ReadOnlySpan<float> x, Span<double> scores)
    {
        int c = scores.Length;
        double max = double.NegativeInfinity;
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int k = 0; k < FeatureCount; k++)
            {
                s += theta[k] * x[k * c + j];
            }

            scores[j] = s;
            max = Math.Max(max, s);
        }

        double sum = 0;
        for (int j = 0; j < c; j++)
        {
            sum += Math.Exp(scores[j] - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>Solves H·s = g by Gaussian elimination with partial pivoting (H is small and symmetric positive semi-definite plus the ridge); false if singular.</summary>
    private static bool Solve(ReadOnlySpan<double> h, ReadOnlySpan<double> g, Span<double> s)
    {
        const int n = FeatureCount;
        Span<double> a = stackalloc double[n * (n + 1)];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                a[i * (n + 1) + j] = h[i * n + j];
            }

            a[i * (n + 1) + n] = g[i];
        }

        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r * (n + 1) + col]) > Math.Abs(a[pivot * (n + 1) + col]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(a[pivot * (n + 1) + col]) < 1e-300)
            {
                // A component that never varies and no ridge: leave its exponent where it is.
                a[col * (n + 1) + col] = 1;
                for (int j = col + 1; j <= n; j++)
                {
                    a[col * (n + 1) + j] = 0;
                }

                continue;
            }

            if (pivot != col)
            {
                for (int j = 0; j <= n; j++)
                {
                    (a[col * (n + 1) + j], a[pivot * (n + 1) + j]) = (a[pivot * (n + 1) + j], a[col * (n + 1) + j]);
                }
            }

            for (int r = 0; r < n; r++)
            {
                if (r == col)
                {
                    continue;
                }

                double f = a[r * (n + 1) + col] / a[col * (n + 1) + col];
                for (int j = col; j <= n; j++)
                {
                    a[r * (n + 1) + j] -= f * a[col * (n + 1) + j];
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            s[i] = a[i * (n + 1) + n] / a[i * (n + 1) + i];
            if (!double.IsFinite(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Training examples for <see cref="InterestForecaster.Fit"/>: feature rows and target distributions, stored flat.</summary>
/// <param name="categoryCount">The number of categories C.</param>
internal sealed class ForecastExamples(int categoryCount)
{
    private readonly List<float> _features = [];
    private readonly List<float> _targets = [];

    /// <summary>Gets the number of categories.</summary>
    internal int CategoryCount { get; } = categoryCount > 0 ? categoryCount : throw new ArgumentOutOfRangeException(nameof(categoryCount), categoryCount, $"'{nameof(categoryCount)}' must be at least 1 but was {categoryCount}.");

    /// <summary>Gets the number of examples.</summary>
    internal int Count { get; private set; }

    /// <summary>Adds one example (both spans are copied).</summary>
    /// <param name="features">The <see cref="InterestForecaster.FeatureCount"/> × C rows from <see cref="InterestForecaster.Features"/>.</param>
    /// <param name="target">The distribution the user engaged with over the horizon.</param>
    /// <exception cref="ArgumentException">A length is wrong, or a value is not finite.</exception>
    internal void Add(ReadOnlySpan<float> features, ReadOnlySpan<float> target)
    {
        if (features.Length != InterestForecaster.FeatureCount * CategoryCount)
        {
            throw new ArgumentException($"'{nameof(features)}' must hold {InterestForecaster.FeatureCount} × {CategoryCount} values but holds {features.Length}.", nameof(features));
        }

        if (target.Length != CategoryCount)
        {
            throw new ArgumentException($"'{nameof(target)}' must hold {CategoryCount} values but holds {target.Length}.", nameof(target));
        }

        foreach (float f in features)
        {
            if (!float.IsFinite(f))
            {
                throw new ArgumentException($"'{nameof(features)}' holds {f}; every value must be finite.", nameof(features));
            }
        }

        InterestProfiles.CheckDistribution(target, CategoryCount, nameof(target));
        _features.AddRange(features);
        _targets.AddRange(target);
        Count++;
    }

    /// <summary>Gets example n's feature rows (valid until the next <see cref="Add"/>).</summary>
    /// <param name="n">The example index.</param>
    /// <returns>The rows.</returns>
    internal ReadOnlySpan<float> FeaturesOf(int n)
    {
        int width = InterestForecaster.FeatureCount * CategoryCount;
        return CollectionsMarshal.AsSpan(_features).Slice(n * width, width);
    }

    /// <summary>Gets example n's target distribution (valid until the next <see cref="Add"/>).</summary>
    /// <param name="n">The example index.</param>
    /// <returns>The target.</returns>
    internal ReadOnlySpan<float> TargetOf(int n) => CollectionsMarshal.AsSpan(_targets).Slice(n * CategoryCount, CategoryCount);
}

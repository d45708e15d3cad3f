using System.Buffers;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Lifelong;

/// <summary>Fitting the forecaster: the training examples from past months, and Newton's method on their log-loss.</summary>
internal sealed partial class InterestForecaster
{
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

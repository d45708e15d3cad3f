namespace LifelongPrefs.Lifelong;

/// <summary>Log-loss and NDCG@5 of one interest forecast, averaged over a month's users (or over months).</summary>
/// <param name="LogLoss">Mean cross-entropy <c>−Σ_c q_c ln p_c</c> in nats (lower is better).</param>
/// <param name="Ndcg">Mean NDCG@5 over categories with graded gains q_c (higher is better).</param>
public readonly record struct ForecastScores(double LogLoss, double Ndcg);

/// <summary>One evaluated month.</summary>
/// <param name="MonthStartTicks">The month's first instant (UTC ticks); the forecasts are made at it.</param>
/// <param name="Users">Users scored: active in the month (a counted event in it) with at least one event before it.</param>
/// <param name="TrainingExamples">The user-months the forecaster was fitted on (all before this month).</param>
/// <param name="Weights">The fitted exponents θ (by <see cref="InterestForecaster"/> component index).</param>
/// <param name="Forecast">The forecaster's scores.</param>
/// <param name="LongTerm">The long-term profile's scores.</param>
/// <param name="Last30Days">The last-30-days distribution's scores.</param>
internal sealed record InterestForecastMonth(long MonthStartTicks, int Users, int TrainingExamples, double[] Weights,
    ForecastScores Forecast, ForecastScores LongTerm, ForecastScores Last30Days);

/// <summary>The whole evaluation: every month, and the means over months.</summary>
/// <param name="Months">The evaluated months, in the order asked (months without users are left out).</param>
/// <param name="Forecast">The forecaster's means over months.</param>
/// <param name="LongTerm">The long-term baseline's means over months.</param>
/// <param name="Last30Days">The last-30-days baseline's means over months.</param>
internal sealed record InterestForecastReport(IReadOnlyList<InterestForecastMonth> Months, ForecastScores Forecast, ForecastScores LongTerm, ForecastScores Last30Days);

/// <summary>
/// The interest-forecast protocol (issue 8, "Quality goals"): for each month m+1 asked for, the forecaster is
/// fitted on the months before it (targets strictly before m+1's start) and, for every user active in m+1 with an
/// earlier event, the forecast made at m+1's start from everything before it is compared with the user's long-term
/// profile and with the distribution of the user's last 30 days, on log-loss and NDCG@5 over categories.
/// </summary>
/// <remarks>
/// <para>Target: the user's undecayed category distribution q of m+1 (event weights from <see cref="ProfileOptions"/>).
/// Log-loss: <c>−Σ_c q_c ln p_c</c>, nats. NDCG@5: the categories ranked by p (ties: lower index), gain q_c at rank
/// i discounted by 1/log2(i + 2), divided by the best possible DCG (q sorted).</para>
/// <para>All three distributions get the same final smoothing, <c>(1 − ε)·p + ε/C</c> with
/// ε = <see cref="InterestForecaster.OutputSmoothing"/>, so log-loss is finite. A user without a counted event in the
/// 30 days before m+1 gets the long-term profile as the last-30-days baseline (an empty window would otherwise be
/// uniform, a straw man). Results are averaged over users, then over months. Lives in Lifelong/ because it uses the
/// tracker's profile types; it reads only <see cref="UserHistories"/>, so it is safe beside readers of the same store.</para>
/// </remarks>
internal static class InterestForecastEvaluation
{
    /// <summary>The ranking cutoff of NDCG.</summary>
    internal const int NdcgCutoff = 5;

    /// <summary>The window of the last-days baseline.</summary>
    internal static readonly TimeSpan LastDays = TimeSpan.FromDays(30);

    /// <summary>Runs the protocol on the given months.</summary>
    /// <param name="histories">Every user's history (the whole log; each month reads only what it may).</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="monthStarts">The evaluated months' first instants (each is a UTC month start).</param>
    /// <param name="options">Weights and half-lives; null for <see cref="ProfileOptions.Default"/>.</param>
    /// <param name="trainingMonths">How many months before each evaluated one the forecaster is fitted on. <value>Default 6.</value></param>
    /// <param name="extra">The forecaster's optional extra distribution, or null.</param>
    /// <returns>The per-month scores and their means.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A month start is not the first instant of a UTC month.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingMonths"/> is below 1.</exception>
    internal static InterestForecastReport Run(UserHistories histories, ItemCategories categories, IReadOnlyList<long> monthStarts,
        ProfileOptions? options = null, int trainingMonths = 6, ExtraDistribution? extra = null)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(monthStarts);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingMonths, 1);
        options ??= ProfileOptions.Default;
        options.Validate();
        foreach (long start in monthStarts)
        {
            if (start < 0 || start > DateTime.MaxValue.Ticks || InterestProfiles.MonthStart(start) != start)
            {
                throw new ArgumentException($"'{nameof(monthStarts)}' holds {start} ticks, which is not the first instant of a UTC month.", nameof(monthStarts));
            }
        }

        int c = categories.Count;
        var months = new List<InterestForecastMonth>();
        var prior = new float[c];
        var target = new float[c];
        var forecast = new float[c];
        var longTerm = new float[c];
        var recent = new float[c];
        var window = new float[c];
        var extraRow = new float[c];
        foreach (long start in monthStarts)
        {
            long end = InterestProfiles.NextMonth(start);
            ForecastExamples examples = InterestForecaster.Examples(histories, categories, start, trainingMonths, options, extra);
            InterestForecaster model = InterestForecaster.Fit(examples);
            InterestForecaster.GlobalPrior(histories, categories, start, options, prior);
            var sums = new double[6];
            int users = 0;
            for (int u = 0; u < histories.UserCount; u++)
            {
                if (!InterestForecaster.TryMonthTarget(histories.EventsOf(u), categories, start, end, options, target, out ReadOnlySpan<Interaction> past))
                {
                    continue;
                }

                bool hasExtra = extra is not null && extra(u, past, start, extraRow);
                model.Predict(past, categories, start, TimeSpan.FromTicks(end - start), options, prior, hasExtra ? extraRow : default, forecast);

                InterestProfiles.Compute(past, categories, start, options, longTerm, recent);
                double last = InterestProfiles.Window(past, categories, start - LastDays.Ticks, start, options, window);
                if (last > 0)
                {
                    InterestProfiles.Normalise(window, last, default);
                }
                else
                {
                    longTerm.CopyTo(window, 0);
                }

                InterestProfiles.Smooth(longTerm, InterestForecaster.OutputSmoothing);
                InterestProfiles.Smooth(window, InterestForecaster.OutputSmoothing);
                sums[0] += LogLoss(forecast, target);
                sums[1] += Ndcg(forecast, target, NdcgCutoff);
                sums[2] += LogLoss(longTerm, target);
                sums[3] += Ndcg(longTerm, target, NdcgCutoff);
                sums[4] += LogLoss(window, target);
                sums[5] += Ndcg(window, target, NdcgCutoff);
                users++;
            }

            if (users > 0)
            {
                months.Add(new InterestForecastMonth(start, users, examples.Count, model.Weights.ToArray(),
                    new ForecastScores(sums[0] / users, sums[1] / users),
                    new ForecastScores(sums[2] / users, sums[3] / users),
                    new ForecastScores(sums[4] / users, sums[5] / users)));
            }
        }

        return new InterestForecastReport(months, Mean(months, m => m.Forecast), Mean(months, m => m.LongTerm), Mean(months, m => m.Last30Days));
    }

    /// <summary>Cross-entropy of <paramref name="predicted"/> against the target distribution, in nats.</summary>
    /// <param name="predicted">Probabilities (positive wherever the target is).</param>
    /// <param name="target">The engaged distribution q.</param>
    /// <returns><c>−Σ_c q_c ln p_c</c> (∞ if a target category has probability 0).</returns>
    internal static double LogLoss(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target)
    {
        double loss = 0;
        for (int j = 0; j < target.Length; j++)
        {
            if (target[j] > 0)
            {
                loss -= target[j] * Math.Log(predicted[j]);
            }
        }

        return loss;
    }

    /// <summary>NDCG@k of the categories ranked by <paramref name="predicted"/>, graded by the target's shares.</summary>
    /// <param name="predicted">Scores per category (higher ranks first; ties: lower index).</param>
    /// <param name="target">Gains per category (the engaged distribution).</param>
    /// <param name="k">The cutoff (≥ 1).</param>
    /// <returns>A value in [0, 1] (0 when the target has no gain).</returns>
    internal static double Ndcg(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target, int k)
    {
        int n = Math.Min(k, predicted.Length);
        Span<bool> used = predicted.Length <= 1024 ? stackalloc bool[predicted.Length] : new bool[predicted.Length];
        Span<bool> usedIdeal = predicted.Length <= 1024 ? stackalloc bool[predicted.Length] : new bool[predicted.Length];
        double dcg = 0, ideal = 0;
        for (int i = 0; i < n; i++)
        {
            double discount = 1.0 / Math.Log2(i + 2);
            dcg += target[Pick(predicted, used)] * discount;
            ideal += target[Pick(target, usedIdeal)] * discount;
        }

        return ideal > 0 ? dcg / ideal : 0;
    }

    /// <summary>The unused index of the largest value (ties: the lowest index), marked used.</summary>
    private static int Pick(ReadOnlySpan<float> values, Span<bool> used)
    {
        int best = -1;
        for (int j = 0; j < values.Length; j++)
        {
            if (!used[j] && (best < 0 || values[j] > values[best]))
            {
                best = j;
            }
        }

        used[best] = true;
        return best;
    }

    private static ForecastScores Mean(List<InterestForecastMonth> months, Func<InterestForecastMonth, ForecastScores> select) =>
        months.Count == 0
            ? new ForecastScores(double.NaN, double.NaN)
            : new ForecastScores(months.Average(m => select(m).LogLoss), months.Average(m => select(m).Ndcg));
}

using System.Buffers;

namespace LifelongPrefs.Lifelong;

/// <summary>The decayed masses behind one profile (in event-weight units; 0 means the profile fell back to the prior).</summary>
/// <param name="LongTerm">The long-term profile's total decayed weight.</param>
/// <param name="Recent">The recent profile's total decayed weight.</param>
/// <param name="Events">How many events at or before the profile's time counted (weight above 0, item with a category).</param>
internal readonly record struct ProfileMass(double LongTerm, double Recent, int Events);

/// <summary>One month of a user's trajectory.</summary>
/// <param name="StartTicks">The month's first instant, UTC ticks.</param>
/// <param name="Events">The user's events in the month (all kinds, returns included).</param>
/// <param name="Mass">The undecayed weight of the month's counted events (0: the month's distribution row is all zeros).</param>
internal readonly record struct MonthProfile(long StartTicks, int Events, float Mass);

/// <summary>
/// The interest-profile maths, as pure functions of one user's history (oldest first) and an item → category map:
/// decayed category weights (long-term and recent), drift, top items and the monthly trajectory. The decayed sums
/// skip any event after the profile's time wherever it stands; the windows, the trajectory and the cuts at a time
/// (<see cref="FirstAtOrAfter"/>) binary-search and so assume time order, which <see cref="UserHistories"/> gives
/// whenever every basket's events share one time stamp (the loaders' case). Nothing is stored,
/// so any number of threads may call them at once; the only scratch is rented from <see cref="ArrayPool{T}"/>
/// (<see cref="TopItems"/>) and returned before the call ends. Formulas and defaults: <c>Profiles/README.md</c>.
/// </summary>
internal static class InterestProfiles
{
    /// <summary>
    /// Computes the long-term and the recent category distribution as of <paramref name="asOfTicks"/>: each
    /// category's sum over the user's events at or before that time of <c>weight(e) · 2^(−age/halfLife)</c>, divided
    /// by the total. With no counted event the distribution is <paramref name="prior"/> (uniform when empty).
    /// </summary>
    /// <param name="history">The user's events, oldest first (events after <paramref name="asOfTicks"/> are ignored).</param>
    /// <param name="categories">The item → category map (events on unmapped items are ignored).</param>
    /// <param name="asOfTicks">The profile's time, UTC ticks.</param>
    /// <param name="options">Weights and half-lives.</param>
    /// <param name="longTerm">Receives the long-term distribution; one entry per category.</param>
    /// <param name="recent">Receives the recent distribution; one entry per category.</param>
    /// <param name="prior">The fallback distribution, one entry per category, or empty for uniform.</param>
    /// <returns>The masses (0 when the fallback was used).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="categories"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">A destination or the prior has the wrong length, or the prior is not a distribution.</exception>
    internal static ProfileMass Compute(ReadOnlySpan<Interaction> history, ItemCategories categories, long asOfTicks, ProfileOptions options,
        Span<float> longTerm, Span<float> recent, ReadOnlySpan<float> prior = default)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(options);
        CheckLength(longTerm.Length, categories.Count, nameof(longTerm));
        CheckLength(recent.Length, categories.Count, nameof(recent));
        CheckDistribution(prior, categories.Count, nameof(prior));
        double longMass = Accumulate(history, categories, asOfTicks, options.LongTermHalfLife, options, longTerm, out int events);
        double recentMass = Accumulate(history, categories, asOfTicks, options.RecentHalfLife, options, recent, out _);
        Normalise(longTerm, longMass, prior);
        Normalise(recent, recentMass, prior);
        return new ProfileMass(longMass, recentMass, events);
    }

    /// <summary>
    /// Writes each category's decayed weight <c>Σ weight(e) · 2^(−(asOf − t_e)/halfLife)</c> over the events at or
    /// before <paramref name="asOfTicks"/> into <paramref name="weights"/> (overwritten) and returns the total.
    /// </summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="asOfTicks">The time the ages are measured from.</param>
    /// <param name="halfLife">The half-life (positive).</param>
    /// <param name="options">The event weights.</param>
    /// <param name="weights">Receives one weight per category.</param>
    /// <param name="events">The number of events that counted.</param>
    /// <returns>The total decayed weight.</returns>
    internal static double Accumulate(ReadOnlySpan<Interaction> history, ItemCategories categories, long asOfTicks, TimeSpan halfLife,
        ProfileOptions options, Span<float> weights, out int events)
    {
        weights.Clear();
        events = 0;
        double total = 0;
        double perTick = 1.0 / halfLife.Ticks;
        foreach (ref readonly Interaction e in history)
        {
            // Skip rather than stop: a basket that spans time can put a later event before an earlier one's basket.
            if (e.Ticks > asOfTicks)
            {
                continue;
            }

            int c = categories.CategoryOf(e.Item);
            float w = options.Weigh(e);
            if (c < 0 || w <= 0f)
            {
                continue;
            }

            double decayed = w * Math.Pow(2.0, -(asOfTicks - e.Ticks) * perTick);
            weights[c] += (float)decayed;
            total += decayed;
            events++;
        }

        return total;
    }

    /// <summary>The undecayed weight per category of the events in [<paramref name="fromTicks"/>, <paramref name="toTicks"/>), and its total.</summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="fromTicks">The window's first instant.</param>
    /// <param name="toTicks">The instant after the window.</param>
    /// <param name="options">The event weights.</param>
    /// <param name="weights">Receives one weight per category (overwritten).</param>
    /// <returns>The total weight.</returns>
    /// <exception cref="ArgumentException"><paramref name="weights"/> has the wrong length.</exception>
    internal static double Window(ReadOnlySpan<Interaction> history, ItemCategories categories, long fromTicks, long toTicks,
        ProfileOptions options, Span<float> weights)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(options);
        CheckLength(weights.Length, categories.Count, nameof(weights));
        weights.Clear();
        double total = 0;
        for (int i = FirstAtOrAfter(history, fromTicks); i < history.Length && history[i].Ticks < toTicks; i++)
        {
            int c = categories.CategoryOf(history[i].Item);
            float w = options.Weigh(history[i]);
            if (c >= 0 && w > 0f)
            {
                weights[c] += w;
                total += w;
            }
        }

        return total;
    }

    /// <summary>Divides <paramref name="weights"/> by <paramref name="mass"/>, or writes the prior (uniform when empty) when the mass is not positive.</summary>
    /// <param name="weights">The weights, overwritten by the distribution.</param>
    /// <param name="mass">Their total.</param>
    /// <param name="prior">The fallback, or empty for uniform.</param>
    internal static void Normalise(Span<float> weights, double mass, ReadOnlySpan<float> prior)
    {
        if (mass > 0)
        {
            float scale = (float)(1.0 / mass);
            for (int c = 0; c < weights.Length; c++)
            {
                weights[c] *= scale;
            }
        }
        else if (prior.IsEmpty)
        {
            weights.Fill(1f / weights.Length);
        }
        else
        {
            prior.CopyTo(weights);
        }
    }

    /// <summary>Mixes a distribution with the uniform one, in place: <c>p ← (1 − ε)·p + ε/C</c>, so no entry is zero.</summary>
    /// <param name="distribution">The distribution.</param>
    /// <param name="epsilon">The uniform share, in (0, 1].</param>
    internal static void Smooth(Span<float> distribution, float epsilon)
    {
        float floor = epsilon / distribution.Length;
        for (int c = 0; c < distribution.Length; c++)
        {
            distribution[c] = (1f - epsilon) * distribution[c] + floor;
        }
    }

    /// <summary>
    /// The drift between two distributions: their Jensen–Shannon divergence in bits,
    /// <c>½·KL(p‖m) + ½·KL(q‖m)</c> with <c>m = (p + q)/2</c> and base-2 logarithms — 0 for identical distributions,
    /// 1 for distributions on disjoint categories, symmetric, and finite even where one of them is zero.
    /// </summary>
    /// <param name="recent">One distribution (the recent profile).</param>
    /// <param name="longTerm">The other (the long-term profile).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    internal static double Drift(ReadOnlySpan<float> recent, ReadOnlySpan<float> longTerm)
    {
        CheckLength(longTerm.Length, recent.Length, nameof(longTerm));
        double js = 0;
        for (int c = 0; c < recent.Length; c++)
        {
            double p = recent[c], q = longTerm[c], m = 0.5 * (p + q);
            if (p > 0)
            {
                js += 0.5 * p * Math.Log2(p / m);
            }

            if (q > 0)
            {
                js += 0.5 * q * Math.Log2(q / m);
            }
        }

        return Math.Clamp(js, 0.0, 1.0);
    }

    /// <summary>
    /// The user's top items by decayed frequency: each item's <c>Σ weight(e) · 2^(−age/LongTermHalfLife)</c> over its
    /// events at or before <paramref name="asOfTicks"/>, highest first (ties: lower item index).
    /// </summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="asOfTicks">The time the ages are measured from.</param>
    /// <param name="options">Weights and the long-term half-life.</param>
    /// <param name="items">Receives the items; its length is how many are wanted.</param>
    /// <param name="weights">Receives their decayed weights; the same length as <paramref name="items"/>.</param>
    /// <returns>How many were written (at most the number of distinct items with weight).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The two destinations differ in length.</exception>
    internal static int TopItems(ReadOnlySpan<Interaction> history, long asOfTicks, ProfileOptions options, Span<int> items, Span<float> weights)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckLength(weights.Length, items.Length, nameof(weights));
        if (items.IsEmpty || history.IsEmpty)
        {
            return 0;
        }

        int[] keys = ArrayPool<int>.Shared.Rent(history.Length);
        float[] values = ArrayPool<float>.Shared.Rent(history.Length);
        int[] picked = ArrayPool<int>.Shared.Rent(items.Length);
        float[] pickedValues = ArrayPool<float>.Shared.Rent(items.Length);
        try
        {
            int n = 0;
            double perTick = 1.0 / options.LongTermHalfLife.Ticks;
            foreach (ref readonly Interaction e in history)
            {
                if (e.Ticks > asOfTicks)
                {
                    continue;
                }

                float w = options.Weigh(e);
                if (w > 0f)
                {
                    keys[n] = e.Item;
                    values[n++] = (float)(w * Math.Pow(2.0, -(asOfTicks - e.Ticks) * perTick));
                }
            }

            // Group by item: sort the (item, weight) pairs by item and merge runs in place.
            Array.Sort(keys, values, 0, n);
            int distinct = 0;
            for (int i = 0; i < n; i++)
            {
                if (distinct > 0 && keys[distinct - 1] == keys[i])
                {
                    values[distinct - 1] += values[i];
                }
                else
                {
                    keys[distinct] = keys[i];
                    values[distinct++] = values[i];
                }
            }

            int wanted = Math.Min(items.Length, distinct);
            int written = Kernels.TopK(values.AsSpan(0, distinct), picked.AsSpan(0, wanted), pickedValues.AsSpan(0, wanted));
            for (int i = 0; i < written; i++)
            {
                items[i] = keys[picked[i]];
                weights[i] = pickedValues[i];
            }

            return written;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(values);
            ArrayPool<int>.Shared.Return(picked);
            ArrayPool<float>.Shared.Return(pickedValues);
        }
    }

    /// <summary>The first instant of the UTC calendar month that holds <paramref name="ticks"/>.</summary>
    /// <param name="ticks">UTC ticks.</param>
    /// <returns>The month start, UTC ticks.</returns>
    internal static long MonthStart(long ticks)
    {
        var t = new DateTime(ticks, DateTimeKind.Utc);
        return new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    }

    /// <summary>The first instant of the month after the one that starts at <paramref name="monthStartTicks"/>.</summary>
    /// <param name="monthStartTicks">A month start, UTC ticks.</param>
    /// <returns>The next month's start.</returns>
    internal static long NextMonth(long monthStartTicks) => new DateTime(monthStartTicks, DateTimeKind.Utc).AddMonths(1).Ticks;

    /// <summary>How many months <see cref="Trajectory"/> writes for this history and time.</summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="asOfTicks">Events after this are ignored.</param>
    /// <param name="options">The month bound.</param>
    /// <returns>The number of calendar months from the first to the last event at or before the time, at most <see cref="ProfileOptions.TrajectoryMonths"/>; 0 without events.</returns>
    internal static int MonthCount(ReadOnlySpan<Interaction> history, long asOfTicks, ProfileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int last = FirstAfter(history, asOfTicks) - 1;
        if (last < 0)
        {
            return 0;
        }

        int span = MonthIndex(history[last].Ticks) - MonthIndex(history[0].Ticks) + 1;
        return Math.Min(span, options.TrajectoryMonths);
    }

    /// <summary>
    /// The user's trajectory: one profile per UTC calendar month, from the month of the first event to that of the
    /// last event at or before <paramref name="asOfTicks"/> (the latest <see cref="ProfileOptions.TrajectoryMonths"/>
    /// of them), months without events included. Each month's row is the undecayed category distribution of its
    /// counted events (all zeros when it has none).
    /// </summary>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="categories">The item → category map.</param>
    /// <param name="asOfTicks">Events after this are ignored.</param>
    /// <param name="options">Weights and the month bound.</param>
    /// <param name="months">Receives the months, oldest first; at least <see cref="MonthCount"/> long.</param>
    /// <param name="distributions">Receives one row of category count entries per month, row-major.</param>
    /// <returns>The number of months written (<see cref="MonthCount"/>).</returns>
    /// <exception cref="ArgumentException">A destination is too short.</exception>
    internal static int Trajectory(ReadOnlySpan<Interaction> history, ItemCategories categories, long asOfTicks, ProfileOptions options,
        Span<MonthProfile> months, Span<float> distributions)
    {
        ArgumentNullException.ThrowIfNull(categories);
        int count = MonthCount(history, asOfTicks, options);
        int c = categories.Count;
        if (months.Length < count)
        {
            throw new ArgumentException($"'{nameof(months)}' must hold at least {count} months but holds {months.Length}.", nameof(months));
        }

        if (distributions.Length < (long)count * c)
        {
            throw new ArgumentException($"'{nameof(distributions)}' must hold at least {count} × {c} values but holds {distributions.Length}.", nameof(distributions));
        }

        if (count == 0)
        {
            return 0;
        }

        int end = FirstAfter(history, asOfTicks);
        int lastMonth = MonthIndex(history[end - 1].Ticks);
        int firstMonth = lastMonth - count + 1;
        distributions[..(count * c)].Clear();
        int[] events = ArrayPool<int>.Shared.Rent(count);
        double[] mass = ArrayPool<double>.Shared.Rent(count);
        try
        {
            events.AsSpan(0, count).Clear();
            mass.AsSpan(0, count).Clear();
            for (int i = 0; i < end; i++)
            {
                int m = MonthIndex(history[i].Ticks) - firstMonth;
                if (m < 0)
                {
                    continue;
                }

                events[m]++;
                int category = categories.CategoryOf(history[i].Item);
                float w = options.Weigh(history[i]);
                if (category >= 0 && w > 0f)
                {
                    distributions[m * c + category] += w;
                    mass[m] += w;
                }
            }

            for (int m = 0; m < count; m++)
            {
                int index = firstMonth + m;
                long start = new DateTime(index / 12, index % 12 + 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
                months[m] = new MonthProfile(start, events[m], (float)mass[m]);
                if (mass[m] > 0)
                {
                    Normalise(distributions.Slice(m * c, c), mass[m], default);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(events);
            ArrayPool<double>.Shared.Return(mass);
        }

        return count;
    }

    /// <summary>The index of the first event at or after <paramref name="ticks"/> (binary search; the history is oldest first).</summary>
    /// <param name="history">The events, oldest first.</param>
    /// <param name="ticks">The instant.</param>
    /// <returns>An index in [0, history length].</returns>
    internal static int FirstAtOrAfter(ReadOnlySpan<Interaction> history, long ticks) => Timestamps.FirstAtOrAfter(history, ticks);

    /// <summary>The index of the first event after <paramref name="ticks"/>.</summary>
    private static int FirstAfter(ReadOnlySpan<Interaction> history, long ticks) =>
        ticks == long.MaxValue ? history.Length : FirstAtOrAfter(history, ticks + 1);

    /// <summary>A month's number: year · 12 + month − 1.</summary>
    private static int MonthIndex(long ticks)
    {
        var t = new DateTime(Math.Clamp(ticks, 0, DateTime.MaxValue.Ticks), DateTimeKind.Utc);
        return t.Year * 12 + t.Month - 1;
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"'{name}' must hold {expected} entries but holds {actual}.", name);
        }
    }

    /// <summary>Checks that <paramref name="distribution"/> is empty or a distribution over the categories (finite, non-negative, sum 1 ± 1e-3).</summary>
    /// <param name="distribution">The values.</param>
    /// <param name="categoryCount">The number of categories.</param>
    /// <param name="name">The argument's name, for the message.</param>
    /// <exception cref="ArgumentException">It is not.</exception>
    internal static void CheckDistribution(ReadOnlySpan<float> distribution, int categoryCount, string name)
    {
        if (distribution.IsEmpty)
        {
            return;
        }

        CheckLength(distribution.Length, categoryCount, name);
        double sum = 0;
        foreach (float p in distribution)
        {
            if (!float.IsFinite(p) || p < 0f)
            {
                throw new ArgumentException($"'{name}' holds {p}; every entry must be finite and non-negative.", name);
            }

            sum += p;
        }

        if (Math.Abs(sum - 1.0) > 1e-3)
        {
            throw new ArgumentException($"'{name}' must sum to 1 but sums to {sum}.", name);
        }
    }
}

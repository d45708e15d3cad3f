namespace LifelongPrefs.Data;

/// <summary>
/// Recency, frequency and monetary value (RFM) per user at a cutoff time, from the events strictly before it
/// (the classic customer-segmentation features; Chen, Sain and Guo 2012 used them on this very data).
/// </summary>
/// <remarks>
/// Recency is in days from the user's last purchase to the cutoff. Frequency counts distinct baskets with a
/// purchase (by <see cref="Interaction.BasketKey"/>: a user's purchases without a basket id at one time stamp are one
/// basket). Monetary is the net spend: Σ quantity × value
/// over purchases and returns (returns carry negative quantities, so they subtract). A user with no purchase
/// before the cutoff gets frequency 0, monetary net of any returns, and recency equal to the days from the log's first
/// event to the cutoff (the longest recency observable), so the features stay finite for scalers.
/// </remarks>
internal sealed class RfmFeatures
{
    private RfmFeatures(float[] recency, float[] frequency, float[] monetary)
    {
        RecencyDays = recency;
        Frequency = frequency;
        Monetary = monetary;
    }

    /// <summary>Gets the number of features per user (3: recency, frequency, monetary).</summary>
    public const int Width = 3;

    /// <summary>Gets the days since each user's last purchase, by dense user index.</summary>
    public IReadOnlyList<float> RecencyDays { get; }

    /// <summary>Gets each user's number of distinct purchase baskets.</summary>
    public IReadOnlyList<float> Frequency { get; }

    /// <summary>Gets each user's net spend (quantity × value over purchases and returns).</summary>
    public IReadOnlyList<float> Monetary { get; }

    /// <summary>Computes the features of every user of the log from the events strictly before <paramref name="cutoff"/>.</summary>
    /// <param name="log">The log.</param>
    /// <param name="cutoff">The cutoff; events at or after it are ignored.</param>
    /// <returns>The features, one entry per user in <see cref="InteractionLog.Users"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public static RfmFeatures Compute(InteractionLog log, DateTimeOffset cutoff)
    {
        ArgumentNullException.ThrowIfNull(log);
        long cut = cutoff.UtcTicks;
        int users = log.Users.Count;
        var last = new long[users];
        Array.Fill(last, long.MinValue);
        var frequency = new float[users];
        var monetary = new double[users];
        var baskets = new HashSet<(int User, long Key)>();
        long first = long.MaxValue;
        foreach (Interaction e in log.Events)
        {
            if (e.Ticks >= cut)
            {
                continue;
            }

            first = Math.Min(first, e.Ticks);
            if (e.Kind == EventKind.Return)
            {
                monetary[e.User] += (double)e.Quantity * e.Value;
            }
            else if (e.Kind == EventKind.Purchase)
            {
                monetary[e.User] += (double)e.Quantity * e.Value;
                last[e.User] = Math.Max(last[e.User], e.Ticks);
                if (baskets.Add((e.User, e.BasketKey)))
                {
                    frequency[e.User]++;
                }
            }
        }

        double longest = first == long.MaxValue ? 0 : TimeSpan.FromTicks(cut - first).TotalDays;
        var recency = new float[users];
        var money = new float[users];
        for (int u = 0; u < users; u++)
        {
            recency[u] = (float)(last[u] == long.MinValue ? longest : TimeSpan.FromTicks(cut - last[u]).TotalDays);
            money[u] = (float)monetary[u];
        }

        return new RfmFeatures(recency, frequency, money);
    }

    /// <summary>Returns the features as a row-major (users, 3) matrix: recency, frequency, monetary.</summary>
    /// <returns>A new array of length users × <see cref="Width"/>.</returns>
    public float[] ToMatrix()
    {
        var matrix = new float[RecencyDays.Count * Width];
        for (int u = 0; u < RecencyDays.Count; u++)
        {
            matrix[(u * Width) + 0] = RecencyDays[u];
            matrix[(u * Width) + 1] = Frequency[u];
            matrix[(u * Width) + 2] = Monetary[u];
        }

        return matrix;
    }
}

/// <summary>
/// Item popularity at a cutoff time, from the purchase events strictly before it: total purchase events, distinct
/// buyers, and purchase events within a recent window.
/// </summary>
internal sealed class ItemPopularity
{
    private ItemPopularity(float[] count, float[] users, float[] recent)
    {
        Count = count;
        UserCount = users;
        RecentCount = recent;
    }

    /// <summary>Gets the number of features per item (3: count, distinct users, recent count).</summary>
    public const int Width = 3;

    /// <summary>Gets each item's purchase events before the cutoff, by dense item index.</summary>
    public IReadOnlyList<float> Count { get; }

    /// <summary>Gets each item's distinct buyers before the cutoff.</summary>
    public IReadOnlyList<float> UserCount { get; }

    /// <summary>Gets each item's purchase events in [cutoff − window, cutoff).</summary>
    public IReadOnlyList<float> RecentCount { get; }

    /// <summary>Computes the popularity of every item of the log.</summary>
    /// <param name="log">The log.</param>
    /// <param name="cutoff">The cutoff; events at or after it are ignored.</param>
    /// <param name="recentWindow">The length of the recent window; positive.</param>
    /// <returns>The features, one entry per item in <see cref="InteractionLog.Items"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="recentWindow"/> is not positive.</exception>
    public static ItemPopularity Compute(InteractionLog log, DateTimeOffset cutoff, TimeSpan recentWindow)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(recentWindow, TimeSpan.Zero);
        long cut = cutoff.UtcTicks;
        long recentStart = cut - recentWindow.Ticks;
        int items = log.Items.Count;
        var count = new float[items];
        var users = new float[items];
        var recent = new float[items];
        var pairs = new HashSet<long>();
        foreach (Interaction e in log.Events)
        {
            if (e.Ticks >= cut || e.Kind != EventKind.Purchase)
            {
                continue;
            }

            count[e.Item]++;
            if (pairs.Add(((long)e.Item << 32) | (uint)e.User))
            {
                users[e.Item]++;
            }

            if (e.Ticks >= recentStart)
            {
                recent[e.Item]++;
            }
        }

        return new ItemPopularity(count, users, recent);
    }

    /// <summary>Returns the features as a row-major (items, 3) matrix: count, distinct users, recent count.</summary>
    /// <returns>A new array of length items × <see cref="Width"/>.</returns>
    public float[] ToMatrix()
    {
        var matrix = new float[Count.Count * Width];
        for (int i = 0; i < Count.Count; i++)
        {
            matrix[(i * Width) + 0] = Count[i];
            matrix[(i * Width) + 1] = UserCount[i];
            matrix[(i * Width) + 2] = RecentCount[i];
        }

        return matrix;
    }
}

namespace LifelongPrefs.Data;

/// <summary>
/// Padded item sequences ready for the engine: <see cref="Ids"/> and <see cref="Mask"/> are row-major (Rows, Length)
/// with real items right-aligned (LEFT padding, so the most recent item is always in the last column, where a causal
/// model reads its prediction).
/// </summary>
internal sealed class SequenceBatch
{
    internal SequenceBatch(int rows, int length, int[] ids, float[] mask, int[] targets, int[] sources)
    {
        Rows = rows;
        Length = length;
        Ids = ids;
        Mask = mask;
        Targets = targets;
        Sources = sources;
    }

    /// <summary>Gets the number of rows (B).</summary>
    public int Rows { get; }

    /// <summary>Gets the padded sequence length (T).</summary>
    public int Length { get; }

    /// <summary>Gets the input item ids: (B, T), the padding id where <see cref="Mask"/> is 0.</summary>
    public int[] Ids { get; }

    /// <summary>Gets the mask: (B, T), 1 for a real item and 0 for padding.</summary>
    public float[] Mask { get; }

    /// <summary>
    /// Gets the targets: (B, T) next items for <see cref="SequenceBuilder.NextItem"/> (-1, the loss's ignore index, at
    /// padding), or (B) one target per row for <see cref="SequenceBuilder.LastPosition"/> (-1 when none was given).
    /// </summary>
    public int[] Targets { get; }

    /// <summary>Gets, for each row, the index of the input sequence it came from.</summary>
    public int[] Sources { get; }
}

/// <summary>Builds <see cref="SequenceBatch"/>es from per-user item sequences.</summary>
internal static class SequenceBuilder
{
    /// <summary>
    /// Each user's purchase sequence: baskets in time order, flattened (distinct items within a basket, first
    /// occurrence first), by dense user index.
    /// </summary>
    /// <param name="log">The log.</param>
    /// <param name="kind">Which events count (purchases by default).</param>
    /// <returns>One array per user (empty for users without such events).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is null.</exception>
    public static int[][] UserSequences(InteractionLog log, EventKind kind = EventKind.Purchase)
    {
        IReadOnlyList<Basket>[] baskets = UserBaskets.Build(log, kind);
        var sequences = new int[baskets.Length][];
        for (int u = 0; u < baskets.Length; u++)
        {
            sequences[u] = UserBaskets.Flatten(baskets[u]);
        }

        return sequences;
    }

    /// <summary>
    /// Next-item training rows: for a sequence s of length n ≥ 2, inputs are the last min(T, n − 1) items of
    /// s[0..n−2] and the target at each position is the item that follows it; shorter rows are left-padded (padding id,
    /// mask 0, target -1). Sequences with fewer than 2 items give no row (see <see cref="SequenceBatch.Sources"/>).
    /// </summary>
    /// <param name="sequences">Item sequences; items non-negative and different from <paramref name="paddingId"/>.</param>
    /// <param name="maxLength">T, at least 1.</param>
    /// <param name="paddingId">The id written at padded positions (e.g. the item count, or 0 with items shifted by one).</param>
    /// <returns>The batch; <see cref="SequenceBatch.Targets"/> is (B, T).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sequences"/> or one of its sequences is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">An item is negative or equals <paramref name="paddingId"/>.</exception>
    public static SequenceBatch NextItem(IReadOnlyList<int[]> sequences, int maxLength, int paddingId)
    {
        Validate(sequences, maxLength, paddingId);
        var sources = new List<int>();
        for (int i = 0; i < sequences.Count; i++)
        {
            if (sequences[i].Length >= 2)
            {
                sources.Add(i);
            }
        }

        int rows = sources.Count, t = maxLength;
        var ids = new int[rows * t];
        var mask = new float[rows * t];
        var targets = new int[rows * t];
        Array.Fill(ids, paddingId);
        Array.Fill(targets, -1);
        for (int r = 0; r < rows; r++)
        {
            int[] s = sequences[sources[r]];
            int used = Math.Min(t, s.Length - 1);

            // Right-align the last `used` transitions (s[k] -> s[k+1]).
            int firstInput = s.Length - 1 - used;
            for (int j = 0; j < used; j++)
            {
                int column = t - used + j;
                ids[(r * t) + column] = s[firstInput + j];
                targets[(r * t) + column] = s[firstInput + j + 1];
                mask[(r * t) + column] = 1f;
            }
        }

        return new SequenceBatch(rows, t, ids, mask, targets, sources.ToArray());
    }

    /// <summary>
    /// Prediction rows: one row per history holding its last min(T, n) items, left-padded, with one target per row
    /// (the held-out next item) — the input of a full-ranking evaluation. Empty histories give all-padding rows.
    /// </summary>
    /// <param name="histories">Item histories; items non-negative and different from <paramref name="paddingId"/>.</param>
    /// <param name="targets">The held-out item of each row, or <see langword="null"/> for none (-1).</param>
    /// <param name="maxLength">T, at least 1.</param>
    /// <param name="paddingId">The id written at padded positions.</param>
    /// <returns>The batch; <see cref="SequenceBatch.Targets"/> is (B).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="histories"/> or one of its histories is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">An item is negative or equals <paramref name="paddingId"/>, or <paramref name="targets"/> has a different count.</exception>
    public static SequenceBatch LastPosition(IReadOnlyList<int[]> histories, IReadOnlyList<int>? targets, int maxLength, int paddingId)
    {
        Validate(histories, maxLength, paddingId);
        if (targets is not null && targets.Count != histories.Count)
        {
            throw new ArgumentException($"'{nameof(targets)}' has {targets.Count} entries but there are {histories.Count} histories.", nameof(targets));
        }

        int rows = histories.Count, t = maxLength;
        var ids = new int[rows * t];
        var mask = new float[rows * t];
        var rowTargets = new int[rows];
        var sources = new int[rows];
        Array.Fill(ids, paddingId);
        for (int r = 0; r < rows; r++)
        {
            int[] s = histories[r];
            int used = Math.Min(t, s.Length);
            for (int j = 0; j < used; j++)
            {
                ids[(r * t) + t - used + j] = s[s.Length - used + j];
                mask[(r * t) + t - used + j] = 1f;
            }

            rowTargets[r] = targets is null ? -1 : targets[r];
            sources[r] = r;
        }

        return new SequenceBatch(rows, t, ids, mask, rowTargets, sources);
    }

    private static void Validate(IReadOnlyList<int[]> sequences, int maxLength, int paddingId)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        for (int i = 0; i < sequences.Count; i++)
        {
            int[]? s = sequences[i] ?? throw new ArgumentNullException(nameof(sequences), $"Sequence {i} is null.");
            for (int j = 0; j < s.Length; j++)
            {
                if (s[j] < 0 || s[j] == paddingId)
                {
                    throw new ArgumentException($"Sequence {i} position {j} holds item {s[j]}; items must be non-negative and differ from the padding id {paddingId}.", nameof(sequences));
                }
            }
        }
    }
}

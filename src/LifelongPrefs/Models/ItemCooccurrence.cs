namespace LifelongPrefs.Models;

/// <summary>
/// A symmetric, sparse item × item count matrix (how many users bought both items), growing with the catalog.
/// Memory is proportional to the non-zero pairs, so a 100,000-item catalog costs what its pairs cost, not
/// 10¹⁰ cells; counts are whole numbers held in floats, exact up to 2²⁴ per pair.
/// </summary>
/// <remarks>
/// Each row is an open-addressing hash table of (column, count) slots, probed linearly: one table serves both the
/// O(1) increment of <see cref="Increment"/> and the cache-friendly scan of <see cref="AddRowTo"/>. The diagonal is
/// never stored. Not thread-safe for writes; concurrent <see cref="AddRowTo"/>/<see cref="Get"/> calls are safe
/// while no write runs.
/// </remarks>
internal sealed class ItemCooccurrence
{
    private const int Empty = -1;
    private const int MinimumCapacity = 4;

    private Row[] _rows = [];

    /// <summary>Gets the number of items (rows and columns).</summary>
    internal int ItemCount { get; private set; }

    /// <summary>Gets the number of stored (ordered) non-zero pairs; each unordered pair counts twice.</summary>
    internal long NonZeroCount { get; private set; }

    /// <summary>Grows the matrix to <paramref name="itemCount"/> items; existing counts are kept.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is below the current one.</exception>
    internal void Grow(int itemCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, ItemCount);
        if (itemCount > _rows.Length)
        {
            Array.Resize(ref _rows, Math.Max(itemCount, (int)Math.Min(Array.MaxLength, 2L * _rows.Length)));
        }

        ItemCount = itemCount;
    }

    /// <summary>Returns a deep copy: later writes to either matrix leave the other unchanged.</summary>
    internal ItemCooccurrence Clone()
    {
        var copy = new ItemCooccurrence { ItemCount = ItemCount, NonZeroCount = NonZeroCount, _rows = new Row[_rows.Length] };
        for (int i = 0; i < ItemCount; i++)
        {
            Row row = _rows[i];
            if (row.Keys is not null)
            {
                copy._rows[i] = new Row { Keys = (int[])row.Keys.Clone(), Values = (float[])row.Values.Clone(), Count = row.Count };
            }
        }

        return copy;
    }

    /// <summary>Adds <paramref name="delta"/> to the counts of (a, b) and (b, a); a pair that reaches zero is removed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An item is outside the matrix, or a == b.</exception>
    internal void Increment(int a, int b, float delta = 1f)
    {
        if ((uint)a >= (uint)ItemCount || (uint)b >= (uint)ItemCount || a == b)
        {
            throw new ArgumentOutOfRangeException(nameof(b), $"Pair ({a}, {b}) is not an off-diagonal pair of the {ItemCount} items.");
        }

        Add(ref _rows[a], b, delta);
        Add(ref _rows[b], a, delta);
    }

    /// <summary>Gets the count of (a, b) (0 when never seen, and on the diagonal).</summary>
    internal float Get(int a, int b)
    {
        if ((uint)a >= (uint)ItemCount || (uint)b >= (uint)ItemCount)
        {
            throw new ArgumentOutOfRangeException(nameof(b), $"Pair ({a}, {b}) is outside the {ItemCount} items.");
        }

        ref Row row = ref _rows[a];
        int slot = Find(row, b);
        return slot >= 0 ? row.Values[slot] : 0f;
    }

    /// <summary>Gets how many non-zero columns row <paramref name="item"/> has.</summary>
    internal int RowCount(int item) => _rows[item].Count;

    /// <summary>
    /// Adds <c>weight · C[item, k]</c> to <c>scores[k]</c> for every non-zero column k: the sparse twin of
    /// <c>Axpy(weight, C[item, :], scores)</c>, with the same per-element arithmetic (a product, then a sum), so the
    /// result equals the dense one bit for bit (adding the dense form's zero products changes nothing).
    /// </summary>
    internal void AddRowTo(int item, float weight, Span<float> scores)
    {
        if (scores.Length < ItemCount)
        {
            throw new ArgumentException($"'{nameof(scores)}' has length {scores.Length}, fewer than the {ItemCount} items.", nameof(scores));
        }

        Row row = _rows[item];
        if (row.Count == 0)
        {
            return;
        }

        int[] keys = row.Keys;
        float[] values = row.Values;
        for (int s = 0; s < keys.Length; s++)
        {
            int k = keys[s];
            if (k != Empty)
            {
                scores[k] += weight * values[s];
            }
        }
    }

    /// <summary>
    /// Writes the matrix as CSR with columns ascending in each row: <paramref name="offsets"/> (ItemCount + 1),
    /// then <paramref name="columns"/> and <paramref name="counts"/> (<see cref="NonZeroCount"/> each).
    /// </summary>
    internal void ToCsr(out int[] offsets, out int[] columns, out float[] counts)
    {
        offsets = new int[ItemCount + 1];
        columns = new int[NonZeroCount];
        counts = new float[NonZeroCount];
        int at = 0;
        for (int i = 0; i < ItemCount; i++)
        {
            Row row = _rows[i];
            int start = at;
            for (int s = 0; row.Count > 0 && s < row.Keys.Length; s++)
            {
                if (row.Keys[s] != Empty)
                {
                    columns[at] = row.Keys[s];
                    counts[at] = row.Values[s];
                    at++;
                }
            }

            Array.Sort(columns, counts, start, at - start);
            offsets[i + 1] = at;
        }
    }

    /// <summary>
    /// Builds a matrix from CSR arrays written by <see cref="ToCsr"/>, or returns null when they are not a valid
    /// symmetric, off-diagonal, positive-count matrix (so a loader can reject them without throwing mid-way).
    /// </summary>
    internal static ItemCooccurrence? FromCsr(int itemCount, ReadOnlySpan<int> offsets, ReadOnlySpan<int> columns, ReadOnlySpan<float> counts)
    {
        if (itemCount < 0 || offsets.Length != itemCount + 1 || offsets[0] != 0 || offsets[itemCount] != columns.Length
            || counts.Length != columns.Length)
        {
            return null;
        }

        var matrix = new ItemCooccurrence();
        matrix.Grow(itemCount);
        for (int i = 0; i < itemCount; i++)
        {
            int start = offsets[i], end = offsets[i + 1];
            if (end < start || end > columns.Length)
            {
                return null;
            }

            for (int at = start; at < end; at++)
            {
                int k = columns[at];
                float c = counts[at];
                bool ascending = at == start || k > columns[at - 1];
                if ((uint)k >= (uint)itemCount || k == i || !ascending || !(c > 0f) || !float.IsFinite(c))
                {
                    return null;
                }

                // Rows are filled one side at a time; symmetry is checked once every row is in.
                matrix.Add(ref matrix._rows[i], k, c);
            }
        }

        for (int i = 0; i < itemCount; i++)
        {
            for (int at = offsets[i]; at < offsets[i + 1]; at++)
            {
                if (matrix.Get(columns[at], i) != counts[at])
                {
                    return null;
                }
            }
        }

        matrix.NonZeroCount = columns.Length;
        return matrix;
    }

    private void Add(ref Row row, int column, float delta)
    {
        if (row.Keys is null)
        {
            row = new Row(MinimumCapacity);
        }

        int slot = Find(row, column);
        if (slot >= 0)
        {
            float next = row.Values[slot] + delta;
            if (next == 0f)
            {
                RemoveAt(ref row, slot);
                NonZeroCount--;
            }
            else
            {
                row.Values[slot] = next;
            }

            return;
        }

        if (delta == 0f)
        {
            return;
        }

        if ((row.Count + 1) * 4 > row.Keys.Length * 3)
        {
            Rehash(ref row, row.Keys.Length * 2);
        }

        Insert(row, column, delta);
        row.Count++;
        NonZeroCount++;
    }

    private static int Find(in Row row, int column)
    {
        if (row.Keys is null)
        {
            return -1;
        }

        int mask = row.Keys.Length - 1;
        for (int s = Hash(column) & mask; ; s = (s + 1) & mask)
        {
            int k = row.Keys[s];
            if (k == column)
            {
                return s;
            }

            if (k == Empty)
            {
                return -1;
            }
        }
    }

    private static void Insert(in Row row, int column, float value)
    {
        int mask = row.Keys.Length - 1;
        int s = Hash(column) & mask;
        while (row.Keys[s] != Empty)
        {
            s = (s + 1) & mask;
        }

        row.Keys[s] = column;
        row.Values[s] = value;
    }

    private static void RemoveAt(ref Row row, int slot)
    {
        // Linear-probing deletion: re-insert the rest of the probe run so no later key becomes unreachable.
        int mask = row.Keys.Length - 1;
        row.Keys[slot] = Empty;
        row.Count--;
        for (int s = (slot + 1) & mask; row.Keys[s] != Empty; s = (s + 1) & mask)
        {
            int k = row.Keys[s];
            float v = row.Values[s];
            row.Keys[s] = Empty;
            Insert(row, k, v);
        }
    }

    private static void Rehash(ref Row row, int capacity)
    {
        var grown = new Row(capacity) { Count = row.Count };
        for (int s = 0; s < row.Keys.Length; s++)
        {
            if (row.Keys[s] != Empty)
            {
                Insert(grown, row.Keys[s], row.Values[s]);
            }
        }

        row = grown;
    }

    // Fibonacci hashing spreads consecutive item indices over the table.
    private static int Hash(int column) => (int)((uint)column * 2654435769u >> 7);

    private struct Row
    {
        internal Row(int capacity)
        {
            Keys = new int[capacity];
            Values = new float[capacity];
            Keys.AsSpan().Fill(Empty);
            Count = 0;
        }

        internal int[] Keys;
        internal float[] Values;
        internal int Count;
    }
}

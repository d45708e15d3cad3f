namespace LifelongPrefs.Models;

/// <summary>
/// Symmetric sparse item × item counts (how many users bought both items) whose snapshots share rows: the
/// copy-on-write co-occurrence store of <see cref="RepeatExplore"/>.
/// </summary>
/// <remarks>
/// The rows live in a <see cref="CowTable{T}"/> of <see cref="CoocRow"/> cells, so a snapshot copies only the
/// directory of row chunks. A row's (column, count) slots are a linear-probing hash table in two arrays that a
/// snapshot may share too: the writer clones them before its first change to the row after a snapshot (the row's
/// <see cref="CoocRow.Stamp"/> is the table version of its last clone). Thus a snapshot's rows, cells and slot
/// arrays are never written again (the argument of <see cref="CowTable{T}"/>, one level deeper). The diagonal is never
/// stored.
/// </remarks>
internal sealed class CowCooccurrence
{
    private const int Free = -1;
    private readonly CowTable<CoocRow> _rows;

    /// <summary>Creates an empty store whose row directory is shared in chunks of <paramref name="chunkRows"/> rows.</summary>
    internal CowCooccurrence(int chunkRows) => _rows = new CowTable<CoocRow>(1, chunkRows);

    /// <summary>Gets the number of items.</summary>
    internal int ItemCount => _rows.Rows;

    /// <summary>Gets the number of stored ordered pairs (each unordered pair twice).</summary>
    internal long PairCount { get; private set; }

    /// <summary>Grows to <paramref name="items"/> items.</summary>
    internal void Grow(int items) => _rows.Grow(items);

    /// <summary>Adds one to the counts of (a, b) and (b, a); a ≠ b, both below <see cref="ItemCount"/>.</summary>
    internal void Increment(int a, int b)
    {
        Add(a, b, 1f);
        Add(b, a, 1f);
    }

    /// <summary>
    /// Takes one from the counts of (a, b) and (b, a) (erasing a user: the inverse of <see cref="Increment"/>); a pair
    /// whose count reaches zero is removed, so the store equals one that never counted it.
    /// </summary>
    internal void Decrement(int a, int b)
    {
        Subtract(a, b);
        Subtract(b, a);
    }

    /// <summary>Gets row <paramref name="a"/> as the writer has it now (read it before the next increment).</summary>
    internal CoocRow Row(int a) => _rows.Read(a)[0];

    /// <summary>Gets the count of (a, b) from the writer's current rows.</summary>
    internal float Get(int a, int b) => CoocRow.Find(_rows.Read(a)[0], b);

    /// <summary>Returns a view of the counts as they are now that later increments never change.</summary>
    internal CoocView Snapshot() => new(_rows.Snapshot());

    /// <summary>Writes the counts as CSR with ascending columns (for saving).</summary>
    internal void ToCsr(out int[] offsets, out int[] columns, out float[] counts)
    {
        int n = ItemCount;
        offsets = new int[n + 1];
        columns = new int[PairCount];
        counts = new float[PairCount];
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            CoocRow row = _rows.Read(i)[0];
            int start = at;
            for (int s = 0; row.Keys is not null && s < row.Keys.Length; s++)
            {
                if (row.Keys[s] != Free)
                {
                    (columns[at], counts[at]) = (row.Keys[s], row.Values[s]);
                    at++;
                }
            }

            Array.Sort(columns, counts, start, at - start);
            offsets[i + 1] = at;
        }
    }

    /// <summary>
    /// Builds a store from CSR arrays, or returns null unless they describe a symmetric, off-diagonal matrix of
    /// positive whole counts (so a loader rejects them before changing anything).
    /// </summary>
    internal static CowCooccurrence? FromCsr(int items, int chunkRows, int[] offsets, int[] columns, float[] counts)
    {
        if (offsets.Length != items + 1 || offsets[0] != 0 || offsets[items] != columns.Length || counts.Length != columns.Length)
        {
            return null;
        }

        var store = new CowCooccurrence(chunkRows);
        store.Grow(items);
        for (int i = 0; i < items; i++)
        {
            if (offsets[i + 1] < offsets[i])
            {
                return null;
            }

            for (int at = offsets[i]; at < offsets[i + 1]; at++)
            {
                int k = columns[at];
                float c = counts[at];
                if ((uint)k >= (uint)items || k == i || (at > offsets[i] && k <= columns[at - 1]) || !(c >= 1f) || c != MathF.Round(c))
                {
                    return null;
                }

                store.Add(i, k, c);
            }
        }

        for (int i = 0; i < items; i++)
        {
            for (int at = offsets[i]; at < offsets[i + 1]; at++)
            {
                if (store.Get(columns[at], i) != counts[at])
                {
                    return null;
                }
            }
        }

        return store;
    }

    private void Subtract(int row, int column)
    {
        float count = Get(row, column);
        if (count > 1f)
        {
            Add(row, column, -1f);
            return;
        }

        if (count == 0f)
        {
            return;
        }

        // Linear probing cannot just free a slot (later keys of its run would become unreachable): re-insert the
        // others into fresh arrays, which a snapshot cannot share.
        ref CoocRow cell = ref _rows.Row(row)[0];
        var fresh = new CoocRow(cell.Keys.Length) { Count = cell.Count - 1, Stamp = _rows.Version };
        int mask = cell.Keys.Length - 1;
        for (int s = 0; s < cell.Keys.Length; s++)
        {
            int k = cell.Keys[s];
            if (k != Free && k != column)
            {
                int t = CoocRow.Hash(k) & mask;
                while (fresh.Keys[t] != Free)
                {
                    t = (t + 1) & mask;
                }

                (fresh.Keys[t], fresh.Values[t]) = (k, cell.Values[s]);
            }
        }

        cell = fresh;
        PairCount--;
    }

    private void Add(int row, int column, float delta)
    {
        ref CoocRow cell = ref _rows.Row(row)[0];
        int version = _rows.Version;
        if (cell.Keys is null)
        {
            cell = new CoocRow(4) { Stamp = version };
        }
        else if (cell.Stamp != version)
        {
            // A snapshot may share these slot arrays: change a private copy.
            cell = new CoocRow { Keys = (int[])cell.Keys.Clone(), Values = (float[])cell.Values.Clone(), Count = cell.Count, Stamp = version };
        }

        int mask = cell.Keys.Length - 1;
        int s = CoocRow.Hash(column) & mask;
        while (cell.Keys[s] != Free && cell.Keys[s] != column)
        {
            s = (s + 1) & mask;
        }

        if (cell.Keys[s] == column)
        {
            cell.Values[s] += delta;
            return;
        }

        (cell.Keys[s], cell.Values[s]) = (column, delta);
        cell.Count++;
        PairCount++;
        if (cell.Count * 4 > cell.Keys.Length * 3)
        {
            cell = cell.Resized(cell.Keys.Length * 2);
        }
    }
}

/// <summary>One co-occurrence row: a linear-probing table of (column, count) slots.</summary>
internal struct CoocRow
{
    /// <summary>The slots' columns (−1 when free); length a power of two.</summary>
    internal int[] Keys;

    /// <summary>The slots' counts.</summary>
    internal float[] Values;

    /// <summary>The occupied slots.</summary>
    internal int Count;

    /// <summary>The store version in which the writer last cloned (or created) the slot arrays.</summary>
    internal int Stamp;

    internal CoocRow(int capacity)
    {
        Keys = new int[capacity];
        Values = new float[capacity];
        Keys.AsSpan().Fill(-1);
        Count = 0;
        Stamp = 0;
    }

    // Multiplicative (Fibonacci) hashing spreads neighbouring item indices over the slots.
    internal static int Hash(int column) => (int)((uint)column * 2654435769u >> 9);

    /// <summary>Gets the count of <paramref name="column"/> in <paramref name="row"/> (0 when absent).</summary>
    internal static float Find(in CoocRow row, int column)
    {
        if (row.Keys is null)
        {
            return 0f;
        }

        int mask = row.Keys.Length - 1;
        for (int s = Hash(column) & mask; ; s = (s + 1) & mask)
        {
            int k = row.Keys[s];
            if (k == column)
            {
                return row.Values[s];
            }

            if (k == -1)
            {
                return 0f;
            }
        }
    }

    /// <summary>Returns a copy with <paramref name="capacity"/> slots, every pair re-inserted.</summary>
    internal readonly CoocRow Resized(int capacity)
    {
        var grown = new CoocRow(capacity) { Count = Count, Stamp = Stamp };
        int mask = capacity - 1;
        for (int s = 0; s < Keys.Length; s++)
        {
            if (Keys[s] != -1)
            {
                int t = Hash(Keys[s]) & mask;
                while (grown.Keys[t] != -1)
                {
                    t = (t + 1) & mask;
                }

                (grown.Keys[t], grown.Values[t]) = (Keys[s], Values[s]);
            }
        }

        return grown;
    }
}

/// <summary>An immutable view of a <see cref="CowCooccurrence"/> at one version.</summary>
internal sealed class CoocView(CowView<CoocRow> rows)
{
    /// <summary>Gets the number of items.</summary>
    internal int ItemCount => rows.Rows;

    /// <summary>Gets the count of (a, b).</summary>
    internal float Get(int a, int b) => CoocRow.Find(rows.Row(a)[0], b);

    /// <summary>Slots <see cref="AddRowTo"/> compacts at a time (on the stack).</summary>
    private const int Block = 256;

    /// <summary>
    /// Adds <c>weight · C[item, k]</c> to <c>scores[k]</c> for every stored column k of row <paramref name="item"/>, and
    /// appends to <paramref name="touched"/> (from <paramref name="count"/> on) each column whose entry was zero, so a
    /// caller visits only those afterwards: with a positive weight (and counts, which are positive) an entry once
    /// touched never returns to zero, so each column is listed once. <paramref name="touched"/> must have room for one
    /// entry more than it can receive (each step writes before it decides whether to keep the entry).
    /// </summary>
    /// <remarks>
    /// A row's hash slots are about half free, and whether a slot is free or an entry was zero is a coin toss the branch
    /// predictor loses (a mispredict per slot cost most of a call). So each block of slots is first compacted to its
    /// stored pairs, and then added, both without branches: the store happens always and only the index moves. The adds
    /// are the same, in the same slot order, so the sums have the bits of a plain loop over the slots.
    /// </remarks>
    internal void AddRowTo(int item, float weight, Span<float> scores, Span<int> touched, ref int count)
    {
        CoocRow row = rows.Row(item)[0];
        if (row.Keys is null)
        {
            return;
        }

        ReadOnlySpan<int> keys = row.Keys;
        ReadOnlySpan<float> values = row.Values;
        Span<int> columns = stackalloc int[Block];
        Span<float> counts = stackalloc float[Block];
        int n = count;
        for (int start = 0; start < keys.Length; start += Block)
        {
            int end = Math.Min(keys.Length, start + Block), m = 0;
            for (int s = start; s < end; s++)
            {
                int k = keys[s];
                columns[m] = k;
                counts[m] = values[s];
                m += k >= 0 ? 1 : 0;
            }

            for (int j = 0; j < m; j++)
            {
                int k = columns[j];
                float before = scores[k];
                touched[n] = k;
                n += before == 0f ? 1 : 0;
                scores[k] = before + (weight * counts[j]);
            }
        }

        count = n;
    }

    /// <summary>
    /// <see cref="AddRowTo"/> as a plain loop over the slots with a branch per slot: its reference (the same adds in the
    /// same order, so the same bits and the same list).
    /// </summary>
    internal void AddRowToReference(int item, float weight, Span<float> scores, Span<int> touched, ref int count)
    {
        CoocRow row = rows.Row(item)[0];
        for (int s = 0; row.Keys is not null && s < row.Keys.Length; s++)
        {
            int k = row.Keys[s];
            if (k >= 0)
            {
                if (scores[k] == 0f)
                {
                    touched[count++] = k;
                }

                scores[k] += weight * row.Values[s];
            }
        }
    }
}

namespace LifelongPrefs.Models;

/// <summary>
/// An immutable sparse matrix in compressed rows (CSR): the per-user vectors of the two neighbourhood baselines
/// (<see cref="TifuKnn"/>, <see cref="UpCf"/>) and, transposed, their item → users index. Rows keep their columns
/// ascending, so a matrix built from the same rows is the same matrix bit for bit.
/// </summary>
internal sealed class SparseRows
{
    private readonly int[] _offsets;
    private readonly int[] _columns;
    private readonly float[] _values;

    private SparseRows(int[] offsets, int[] columns, float[] values, int columnCount)
    {
        (_offsets, _columns, _values, ColumnCount) = (offsets, columns, values, columnCount);
    }

    /// <summary>Gets an empty matrix with no rows and no columns.</summary>
    internal static SparseRows Empty { get; } = new([0], [], [], 0);

    /// <summary>Gets the number of rows.</summary>
    internal int RowCount => _offsets.Length - 1;

    /// <summary>Gets the number of columns (every column index is below it).</summary>
    internal int ColumnCount { get; }

    /// <summary>Gets the number of stored entries.</summary>
    internal int EntryCount => _columns.Length;

    /// <summary>Gets the column indices of one row, ascending.</summary>
    internal ReadOnlySpan<int> Columns(int row) => _columns.AsSpan(_offsets[row], _offsets[row + 1] - _offsets[row]);

    /// <summary>Gets the values of one row, aligned with <see cref="Columns"/>.</summary>
    internal ReadOnlySpan<float> Values(int row) => _values.AsSpan(_offsets[row], _offsets[row + 1] - _offsets[row]);

    /// <summary>Packs per-row column and value arrays (a null row is empty) into one matrix: O(entries).</summary>
    internal static SparseRows FromRows(IReadOnlyList<int[]?> columns, IReadOnlyList<float[]?> values, int columnCount)
    {
        var offsets = new int[columns.Count + 1];
        for (int r = 0; r < columns.Count; r++)
        {
            offsets[r + 1] = offsets[r] + (columns[r]?.Length ?? 0);
        }

        var packedColumns = new int[offsets[^1]];
        var packedValues = new float[offsets[^1]];
        for (int r = 0; r < columns.Count; r++)
        {
            columns[r]?.CopyTo(packedColumns, offsets[r]);
            values[r]?.CopyTo(packedValues, offsets[r]);
        }

        return new SparseRows(offsets, packedColumns, packedValues, columnCount);
    }

    /// <summary>
    /// The transpose (columns become rows): a counting sort over the entries, O(entries + columns). Visiting the rows
    /// in order keeps every transposed row ascending.
    /// </summary>
    internal SparseRows Transpose()
    {
        var offsets = new int[ColumnCount + 1];
        foreach (int c in _columns)
        {
            offsets[c + 1]++;
        }

        for (int c = 0; c < ColumnCount; c++)
        {
            offsets[c + 1] += offsets[c];
        }

        var next = offsets[..^1];
        var columns = new int[_columns.Length];
        var values = new float[_columns.Length];
        for (int r = 0; r < RowCount; r++)
        {
            for (int k = _offsets[r]; k < _offsets[r + 1]; k++)
            {
                int at = next[_columns[k]]++;
                columns[at] = r;
                values[at] = _values[k];
            }
        }

        return new SparseRows(offsets, columns, values, RowCount);
    }
}

namespace LifelongPrefs.Models;

/// <summary>
/// A growable table of rows of <see cref="Width"/> values, stored in fixed-size chunks of rows, whose snapshots share
/// the chunks: the copy-on-write store behind <see cref="RepeatExplore"/>'s embedding tables, per-item statistics and
/// co-occurrence rows.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why a reader of a snapshot never sees a write.</b> Every chunk carries the stamp of the version in which the
/// writer last copied or created it. <see cref="Snapshot"/> copies the directory (one reference per chunk, not the
/// rows) and then advances <see cref="Version"/>, so every chunk the snapshot can reach has a stamp older than the
/// current version. The writer changes a row only through <see cref="Row"/>, which first replaces a chunk whose stamp
/// is not the current version by a private copy stamped with it. A chunk with the current stamp was therefore made
/// after the last snapshot and is reachable from no snapshot; chunks a snapshot holds are never written again.
/// Growth appends new chunks to the writer's directory only (a snapshot's directory is its own array).
/// </para>
/// <para>
/// <b>Cost.</b> A snapshot is O(rows / <see cref="ChunkRows"/>) reference copies; the writer then copies each chunk it
/// touches once per snapshot, i.e. at most <see cref="ChunkRows"/> × width values per written row and never more than
/// the whole table per snapshot. Writes are exclusive (one writer); <see cref="Snapshot"/> may run on a reader thread
/// while other reads run, which is why the version advances with <see cref="Interlocked"/>.
/// </para>
/// </remarks>
/// <typeparam name="T">The cell type.</typeparam>
internal sealed class CowTable<T>
    where T : struct
{
    private T[][] _chunks = [];
    private int[] _stamps = [];
    private int _version = 1;

    /// <summary>Creates an empty table.</summary>
    /// <param name="width">Values per row (at least 1).</param>
    /// <param name="chunkRows">Rows per chunk (at least 1): the unit of sharing and copying.</param>
    internal CowTable(int width, int chunkRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkRows);
        (Width, ChunkRows) = (width, chunkRows);
    }

    /// <summary>Gets the values per row.</summary>
    internal int Width { get; }

    /// <summary>Gets the rows per chunk.</summary>
    internal int ChunkRows { get; }

    /// <summary>Gets the number of rows.</summary>
    internal int Rows { get; private set; }

    /// <summary>Gets the current version: chunks stamped with it are the writer's own.</summary>
    internal int Version => Volatile.Read(ref _version);

    /// <summary>Grows the table to <paramref name="rows"/> rows of default values (never shrinks).</summary>
    internal void Grow(int rows)
    {
        if (rows <= Rows)
        {
            return;
        }

        int chunks = (int)(((long)rows + ChunkRows - 1) / ChunkRows);
        if (chunks > _chunks.Length)
        {
            int capacity = Math.Max(chunks, Math.Min(2 * _chunks.Length, Array.MaxLength));
            Array.Resize(ref _chunks, capacity);
            Array.Resize(ref _stamps, capacity);
        }

        int version = Version;
        for (int c = (Rows + ChunkRows - 1) / ChunkRows; c < chunks; c++)
        {
            _chunks[c] = new T[ChunkRows * Width];
            _stamps[c] = version;
        }

        Rows = rows;
    }

    /// <summary>Gets row <paramref name="row"/> for reading (writer side; no copy).</summary>
    internal ReadOnlySpan<T> Read(int row) => _chunks[row / ChunkRows].AsSpan(row % ChunkRows * Width, Width);

    /// <summary>Gets row <paramref name="row"/> for writing, first copying its chunk if a snapshot may share it.</summary>
    internal Span<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside the table's {Rows} rows.");
        }

        int c = row / ChunkRows;
        int version = Version;
        if (_stamps[c] != version)
        {
            _chunks[c] = (T[])_chunks[c].Clone();
            _stamps[c] = version;
        }

        return _chunks[c].AsSpan(row % ChunkRows * Width, Width);
    }

    /// <summary>
    /// Returns a view of the table as it is now that later writes never change, sharing the chunks (see the remarks).
    /// </summary>
    internal CowView<T> Snapshot()
    {
        int used = (Rows + ChunkRows - 1) / ChunkRows;
        var view = new CowView<T>(_chunks.AsSpan(0, used).ToArray(), Rows, Width, ChunkRows);
        Interlocked.Increment(ref _version);
        return view;
    }

    /// <summary>Copies every row, in order, into one flat array (for saving).</summary>
    internal T[] ToArray()
    {
        var all = new T[(long)Rows * Width];
        for (int r = 0; r < Rows; r++)
        {
            Read(r).CopyTo(all.AsSpan(r * Width, Width));
        }

        return all;
    }

    /// <summary>Replaces the whole table by <paramref name="rows"/> rows read from <paramref name="flat"/>.</summary>
    internal void Assign(ReadOnlySpan<T> flat, int rows)
    {
        (_chunks, _stamps, Rows) = ([], [], 0);
        Grow(rows);
        for (int r = 0; r < rows; r++)
        {
            flat.Slice(r * Width, Width).CopyTo(Row(r));
        }
    }
}

/// <summary>An immutable view of a <see cref="CowTable{T}"/> at one version; any number of threads may read it.</summary>
/// <typeparam name="T">The cell type.</typeparam>
internal sealed class CowView<T>(T[][] chunks, int rows, int width, int chunkRows)
    where T : struct
{
    /// <summary>Gets the number of rows.</summary>
    internal int Rows => rows;

    /// <summary>Gets the values per row.</summary>
    internal int Width => width;

    /// <summary>Gets the rows per chunk.</summary>
    internal int ChunkRows => chunkRows;

    /// <summary>Gets the number of chunks.</summary>
    internal int Chunks => chunks.Length;

    /// <summary>Gets row <paramref name="row"/>.</summary>
    internal ReadOnlySpan<T> Row(int row) => chunks[row / chunkRows].AsSpan(row % chunkRows * width, width);

    /// <summary>Gets chunk <paramref name="chunk"/>'s storage (<see cref="ChunkRows"/> × width values; rows past <see cref="Rows"/> unused).</summary>
    internal ReadOnlySpan<T> Chunk(int chunk) => chunks[chunk];
}

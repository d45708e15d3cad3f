using System.Runtime.CompilerServices;

namespace LifelongPrefs.Models;

/// <summary>
/// A growable table of rows of <see cref="Width"/> values, stored in fixed-size chunks of rows, whose snapshots share
/// the chunks: the copy-on-write store behind <see cref="RepeatExplore"/>'s embedding tables, per-item statistics and
/// co-occurrence rows.
/// </summary>
/// <remarks>
/// <para>
/// <b>Layout.</b> Rows live in chunks of <see cref="ChunkRows"/> rows; the chunk references live in blocks of
/// <see cref="BlockChunks"/>; the table holds the directory of blocks. A snapshot copies only that top directory (one
/// reference per <see cref="BlockChunks"/> chunks: 2,000 references for a million 8-row chunks, so it stays off the
/// large-object heap), and the writer copies a block of chunk references, like a chunk of rows, before its first change
/// after a snapshot.
/// </para>
/// <para>
/// <b>Why a reader of a snapshot never sees a write.</b> Every chunk and every block carries the stamp of the version in
/// which the writer last copied or created it. <see cref="Snapshot"/> copies the top directory and then advances
/// <see cref="Version"/>, so every block and chunk the snapshot can reach has a stamp older than the current version.
/// The writer changes a row only through <see cref="Row"/>, which first replaces a chunk whose stamp is not the current
/// version by a private copy stamped with it; to store that copy's reference it first replaces the chunk's block the same
/// way. A block or chunk with the current stamp was therefore made after the last snapshot and is reachable from no
/// snapshot; blocks and chunks a snapshot holds are never written again. Growth stores new chunks through the same
/// block rule, into the writer's directory only (a snapshot's directory is its own array).
/// </para>
/// <para>
/// <b>Cost.</b> A snapshot is O(rows / (<see cref="ChunkRows"/> · <see cref="BlockChunks"/>)) reference copies; the writer
/// then copies each chunk it touches once per snapshot (at most <see cref="ChunkRows"/> × width values per written row)
/// and each block holding such a chunk (<see cref="BlockChunks"/> references), never more than the whole table per
/// snapshot. Writes are exclusive (one writer); <see cref="Snapshot"/> may run on a reader thread while other reads
/// run, which is why the version advances with <see cref="Interlocked"/>.
/// </para>
/// </remarks>
/// <typeparam name="T">The cell type.</typeparam>
internal sealed class CowTable<T>
    where T : struct
{
    /// <summary>log2 of <see cref="BlockChunks"/>.</summary>
    internal const int BlockShift = 6;

    /// <summary>Chunk references per block of the directory.</summary>
    internal const int BlockChunks = 1 << BlockShift;

    private const int BlockMask = BlockChunks - 1;

    private T[][][] _blocks = [];
    private int[] _blockStamps = [];
    private int[] _stamps = [];
    private readonly int _rowShift;
    private int _chunks;
    private int _version = 1;

    /// <summary>Creates an empty table.</summary>
    /// <param name="width">Values per row (at least 1).</param>
    /// <param name="chunkRows">Rows per chunk (a power of two, so a row's chunk is a shift away): the unit of sharing and copying.</param>
    internal CowTable(int width, int chunkRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkRows);
        if (!int.IsPow2(chunkRows))
        {
            throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, $"Rows per chunk must be a power of two, not {chunkRows}.");
        }

        (Width, ChunkRows, _rowShift) = (width, chunkRows, int.Log2(chunkRows));
    }

    /// <summary>Gets the values per row.</summary>
    internal int Width { get; }

    /// <summary>Gets the rows per chunk.</summary>
    internal int ChunkRows { get; }

    /// <summary>Gets the number of rows.</summary>
    internal int Rows { get; private set; }

    /// <summary>Gets the current version: blocks and chunks stamped with it are the writer's own.</summary>
    internal int Version => Volatile.Read(ref _version);

    /// <summary>Grows the table to <paramref name="rows"/> rows of default values (never shrinks).</summary>
    internal void Grow(int rows)
    {
        if (rows <= Rows)
        {
            return;
        }

        int chunks = (int)(((long)rows + ChunkRows - 1) / ChunkRows);
        if (chunks > _stamps.Length)
        {
            int capacity = Math.Max(chunks, Math.Min(2 * _stamps.Length, Array.MaxLength));
            Array.Resize(ref _stamps, capacity);
        }

        int blocks = (chunks + BlockMask) >> BlockShift;
        if (blocks > _blocks.Length)
        {
            int capacity = Math.Max(blocks, 2 * _blocks.Length);
            Array.Resize(ref _blocks, capacity);
            Array.Resize(ref _blockStamps, capacity);
        }

        int version = Version;
        for (int c = _chunks; c < chunks; c++)
        {
            PrivateBlock(c >> BlockShift, version)[c & BlockMask] = new T[ChunkRows * Width];
            _stamps[c] = version;
        }

        (_chunks, Rows) = (chunks, rows);
    }

    /// <summary>Gets row <paramref name="row"/> for reading (writer side; no copy).</summary>
    internal ReadOnlySpan<T> Read(int row)
    {
        int c = row >> _rowShift;
        return _blocks[c >> BlockShift][c & BlockMask].AsSpan((row & (ChunkRows - 1)) * Width, Width);
    }

    /// <summary>Gets row <paramref name="row"/> for writing, first copying its chunk (and its block) if a snapshot may share it.</summary>
    internal Span<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside the table's {Rows} rows.");
        }

        int c = row >> _rowShift;
        int version = Version;
        T[] chunk;
        if (_stamps[c] != version)
        {
            T[][] block = PrivateBlock(c >> BlockShift, version);
            chunk = block[c & BlockMask] = CopyChunk(block[c & BlockMask]);
            _stamps[c] = version;
        }
        else
        {
            chunk = _blocks[c >> BlockShift][c & BlockMask];
        }

        return chunk.AsSpan((row & (ChunkRows - 1)) * Width, Width);
    }

    /// <summary>
    /// Returns a view of the table as it is now that later writes never change, sharing the blocks and chunks (see the
    /// remarks).
    /// </summary>
    internal CowView<T> Snapshot()
    {
        int used = (_chunks + BlockMask) >> BlockShift;
        var view = new CowView<T>(_blocks.AsSpan(0, used).ToArray(), Rows, Width, _rowShift);
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
        (_blocks, _blockStamps, _stamps, _chunks, Rows) = ([], [], [], 0, 0);
        Grow(rows);
        for (int r = 0; r < rows; r++)
        {
            flat.Slice(r * Width, Width).CopyTo(Row(r));
        }
    }

    /// <summary>
    /// A private copy of <paramref name="source"/>, allocated without zeroing when the cells hold no references (every
    /// value is overwritten at once): a micro-batch's sampled rows reach nearly every chunk of the output table, so the
    /// writer copies tens of megabytes of chunks per version, and zeroing each first was a pass over the same bytes.
    /// </summary>
    private static T[] CopyChunk(T[] source)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            return (T[])source.Clone();
        }

        T[] copy = GC.AllocateUninitializedArray<T>(source.Length);
        source.CopyTo(copy, 0);
        return copy;
    }

    /// <summary>Gets block <paramref name="b"/> of the writer's directory, first replacing it by a private copy (or a new block) unless it carries <paramref name="version"/>.</summary>
    private T[][] PrivateBlock(int b, int version)
    {
        T[][] block = _blocks[b];
        if (block is null)
        {
            block = _blocks[b] = new T[BlockChunks][];
            _blockStamps[b] = version;
        }
        else if (_blockStamps[b] != version)
        {
            // A snapshot may share this block of chunk references: change a private copy.
            block = _blocks[b] = (T[][])block.Clone();
            _blockStamps[b] = version;
        }

        return block;
    }
}

/// <summary>An immutable view of a <see cref="CowTable{T}"/> at one version; any number of threads may read it.</summary>
/// <typeparam name="T">The cell type.</typeparam>
internal sealed class CowView<T>(T[][][] blocks, int rows, int width, int rowShift)
    where T : struct
{
    private const int Shift = CowTable<T>.BlockShift, Mask = CowTable<T>.BlockChunks - 1;
    private readonly int _chunkRows = 1 << rowShift;

    /// <summary>Gets the number of rows.</summary>
    internal int Rows => rows;

    /// <summary>Gets the values per row.</summary>
    internal int Width => width;

    /// <summary>Gets the rows per chunk.</summary>
    internal int ChunkRows => _chunkRows;

    /// <summary>Gets the number of chunks.</summary>
    internal int Chunks => (int)(((long)rows + _chunkRows - 1) >> rowShift);

    /// <summary>Gets row <paramref name="row"/>.</summary>
    internal ReadOnlySpan<T> Row(int row)
    {
        int c = row >> rowShift;
        return blocks[c >> Shift][c & Mask].AsSpan((row & (_chunkRows - 1)) * width, width);
    }

    /// <summary>Gets chunk <paramref name="chunk"/>'s storage (<see cref="ChunkRows"/> × width values; rows past <see cref="Rows"/> unused).</summary>
    internal ReadOnlySpan<T> Chunk(int chunk) => blocks[chunk >> Shift][chunk & Mask];
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Models;

/// <summary>
/// The per-item terms of a never-bought item's logit that do not depend on the user, for one version:
/// <c>w_pop · popularity_i</c> and <c>w_trend · trend_i(now)</c>. Computed once per version (the trend needs an exp and a
/// log per item), so a call's pass over the catalog is one dot product per item and three adds.
/// </summary>
/// <remarks>
/// The products are the very ones <see cref="RepeatExploreMath.ExploreLogit"/> forms, and the scorer adds them in its
/// order, so a score built from them has the same bits as the feature-by-feature one.
/// </remarks>
internal sealed class ItemTerms
{
    private ItemTerms(float[] popularity, float[] trend, float[] inverse) => (Popularity, Trend, InverseSqrtUsers) = (popularity, trend, inverse);

    /// <summary>Gets <c>w_pop · popularity_i</c> per item.</summary>
    internal float[] Popularity { get; }

    /// <summary>Gets <c>w_trend · trend_i</c> per item.</summary>
    internal float[] Trend { get; }

    /// <summary>Gets each item's <c>1/√users</c> (the co-occurrence normaliser), in one array instead of one row lookup per item.</summary>
    internal float[] InverseSqrtUsers { get; }

    /// <summary>Computes the terms of the first <paramref name="items"/> rows of <paramref name="info"/>.</summary>
    internal static ItemTerms Build(CowView<float> info, ReadOnlySpan<float> gate, double nowOverTau, int items)
    {
        var popularity = new float[items];
        var trend = new float[items];
        var inverse = new float[items];
        float wPop = gate[RepeatExploreMath.PopularityColumn], wTrend = gate[RepeatExploreMath.TrendColumn];
        int rows = info.ChunkRows, width = info.Width;
        for (int c = 0; c * rows < items; c++)
        {
            ReadOnlySpan<float> chunk = info.Chunk(c);
            int m = Math.Min(rows, items - (c * rows));
            for (int r = 0, i = c * rows; r < m; r++, i++)
            {
                int at = r * width;
                popularity[i] = wPop * chunk[at + RepeatExplore.ItemInfo.Popularity];
                trend[i] = wTrend * RepeatExploreMath.Trend(chunk[at + RepeatExplore.ItemInfo.LogTrend], nowOverTau);
                inverse[i] = chunk[at + RepeatExplore.ItemInfo.InverseSqrtUsers];
            }
        }

        return new ItemTerms(popularity, trend, inverse);
    }
}

/// <summary>
/// Which chunks of a version's output table a table derived from it can take from the previous version's: the shared
/// part of <see cref="Fp32ItemTable"/> and <see cref="Int8ItemTable"/>. Both hold the rows in segments of
/// <see cref="Chunks"/> whole chunks (256 rows: one pass over the catalog makes ~400 kernel calls instead of 12,500), built on
/// first use per version. Published chunks are never written again (copy-on-write), so a chunk whose storage is the very
/// array the previous table was built from has the same rows: its part of a segment can be copied (or the segment taken
/// whole) instead of derived again.
/// </summary>
internal static class ItemSegments
{
    /// <summary>Chunks per segment: 32 chunks of 8 rows of 64 floats are 64 KB, below the large-object heap's threshold.</summary>
    internal const int Chunks = 32;

    /// <summary>Gets the number of segments that hold <paramref name="chunks"/> chunks.</summary>
    internal static int Count(int chunks) => (chunks + Chunks - 1) / Chunks;

    /// <summary>Gets the chunks of <paramref name="items"/> rows of <paramref name="outputs"/>.</summary>
    internal static int ChunkCount(CowView<float> outputs, int items) => (items + outputs.ChunkRows - 1) / outputs.ChunkRows;

    /// <summary>Whether chunk <paramref name="chunk"/> has the same storage in <paramref name="outputs"/> as in <paramref name="previous"/>'s first <paramref name="previousChunks"/> chunks.</summary>
    internal static bool Shared(CowView<float> outputs, CowView<float>? previous, int previousChunks, int chunk) =>
        previous is not null && chunk < previousChunks && previous.ChunkRows == outputs.ChunkRows && previous.Width == outputs.Width
        && Unsafe.AreSame(ref MemoryMarshal.GetReference(outputs.Chunk(chunk)), ref MemoryMarshal.GetReference(previous.Chunk(chunk)));

    /// <summary>Whether every chunk of segment <paramref name="segment"/> (of <paramref name="chunks"/> in all) is shared with the previous table.</summary>
    internal static bool AllShared(CowView<float> outputs, CowView<float>? previous, int previousChunks, int chunks, int segment)
    {
        int first = segment * Chunks, end = Math.Min(chunks, first + Chunks);
        if (previous is null || end > previousChunks || Count(previousChunks) <= segment
            || Math.Min(previousChunks, first + Chunks) != end) // the previous segment must have as many chunks
        {
            return false;
        }

        for (int c = first; c < end; c++)
        {
            if (!Shared(outputs, previous, previousChunks, c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Gets the reuse hint of <paramref name="owner"/>'s model (the latest table built for it), or a new one.</summary>
    internal static StrongBox<T?> Latest<T>(ConditionalWeakTable<RepeatExploreOptions, StrongBox<T?>> hints, RepeatExploreOptions owner)
        where T : class => hints.GetValue(owner, _ => new StrongBox<T?>());
}

/// <summary>
/// One version's output table for the fp32 catalog pass: per segment of <see cref="ItemSegments.Chunks"/> chunks, the rows'
/// d weights back to back (stride d) and their biases apart, so a pass streams ~400 contiguous blocks instead of 12,500
/// separate 8-row arrays. Holds every row of its chunks (unused tail rows included). Memory: items × (d + 1) floats
/// (26 MB for 100,000 × 64), shared with the previous version's table for every segment none of whose chunks changed.
/// </summary>
internal sealed class Fp32ItemTable
{
    private static readonly ConditionalWeakTable<RepeatExploreOptions, StrongBox<Fp32ItemTable?>> s_latest = [];

    private readonly CowView<float> _source;
    private readonly int _chunks, _d;

    private Fp32ItemTable(CowView<float> source, int chunks, int d, float[][] weights, float[][] biases, int reused) =>
        (_source, _chunks, _d, Weights, Biases, Reused) = (source, chunks, d, weights, biases, reused);

    /// <summary>Gets each segment's weights (rows × d).</summary>
    internal float[][] Weights { get; }

    /// <summary>Gets each segment's biases (one per row).</summary>
    internal float[][] Biases { get; }

    /// <summary>Gets how many chunks came in segments taken whole from the previous version's table (for tests).</summary>
    internal int Reused { get; }

    /// <summary>Builds the table of the first <paramref name="items"/> rows of <paramref name="outputs"/> (d weights and a bias each), reusing what it can.</summary>
    internal static Fp32ItemTable Build(CowView<float> outputs, int items, int d, RepeatExploreOptions owner)
    {
        StrongBox<Fp32ItemTable?> latest = ItemSegments.Latest(s_latest, owner);
        Fp32ItemTable? previous = Volatile.Read(ref latest.Value);
        int chunks = ItemSegments.ChunkCount(outputs, items), count = ItemSegments.Count(chunks), rows = outputs.ChunkRows, w = d + 1, reused = 0;
        var weights = new float[count][];
        var biases = new float[count][];
        for (int s = 0; s < count; s++)
        {
            int first = s * ItemSegments.Chunks, end = Math.Min(chunks, first + ItemSegments.Chunks);
            if (previous is not null && previous._d == d && ItemSegments.AllShared(outputs, previous._source, previous._chunks, chunks, s))
            {
                (weights[s], biases[s]) = (previous.Weights[s], previous.Biases[s]);
                reused += end - first;
                continue;
            }

            float[] segment = weights[s] = new float[(end - first) * rows * d];
            float[] bias = biases[s] = new float[(end - first) * rows];
            for (int c = first, at = 0; c < end; c++)
            {
                ReadOnlySpan<float> chunk = outputs.Chunk(c);
                for (int r = 0; r < rows; r++, at++)
                {
                    chunk.Slice(r * w, d).CopyTo(segment.AsSpan(at * d, d));
                    bias[at] = chunk[(r * w) + d];
                }
            }
        }

        var table = new Fp32ItemTable(outputs, chunks, d, weights, biases, reused);
        Volatile.Write(ref latest.Value, table);
        return table;
    }
}

/// <summary>
/// An int8 copy of one segment of the output table: each row's d weights as <c>round(o / s) + 128</c> in
/// <see cref="Kernels.Int8BlockDots"/>'s interleaved 8-row layout, with the row's scale <c>s = max|o| / 127</c> and its
/// fp32 bias.
/// </summary>
internal sealed class QuantizedSegment
{
    /// <summary>The offset that makes a signed level in [−127, 127] an unsigned byte (VNNI multiplies u8 by s8).</summary>
    internal const int Offset = Kernels.Int8LevelOffset;

    private QuantizedSegment(byte[] packed, float[] scales, float[] biases) => (Packed, Scales, Biases) = (packed, scales, biases);

    /// <summary>Gets the interleaved levels (blocks × groups × 32 bytes).</summary>
    internal byte[] Packed { get; }

    /// <summary>Gets each row's scale (the padded row count of entries; 0 for an all-zero row).</summary>
    internal float[] Scales { get; }

    /// <summary>Gets each row's bias (the padded row count of entries).</summary>
    internal float[] Biases { get; }

    /// <summary>Gets the rows, padded to whole 8-row blocks.</summary>
    internal int Rows => Scales.Length;

    /// <summary>
    /// Quantizes chunks <paramref name="first"/> to <paramref name="end"/> (exclusive) of <paramref name="outputs"/>, every row
    /// of each, copying a chunk whose storage is unchanged since <paramref name="source"/> (of which
    /// <paramref name="sourceChunks"/> chunks were quantized) from <paramref name="previous"/>, that table's same segment,
    /// when the chunks fill whole blocks.
    /// </summary>
    internal static QuantizedSegment Build(CowView<float> outputs, int first, int end, int d, QuantizedSegment? previous, CowView<float>? source,
        int sourceChunks, ref int reused)
    {
        int rows = outputs.ChunkRows, groups = Groups(d), padded = PaddedRows((end - first) * rows), w = d + 1;
        int blockBytes = groups * Kernels.Int8BlockRows * Kernels.Int8GroupWidth;
        var packed = new byte[padded / Kernels.Int8BlockRows * blockBytes];
        packed.AsSpan().Fill(Offset); // padding rows and padding values stand for 0
        var segment = new QuantizedSegment(packed, new float[padded], new float[padded]);
        bool copyable = previous is not null && rows % Kernels.Int8BlockRows == 0;
        for (int c = first; c < end; c++)
        {
            int row = (c - first) * rows;
            if (copyable && row + rows <= previous!.Rows && ItemSegments.Shared(outputs, source, sourceChunks, c))
            {
                int bytes = rows / Kernels.Int8BlockRows * blockBytes, at = row / Kernels.Int8BlockRows * blockBytes;
                previous.Packed.AsSpan(at, bytes).CopyTo(packed.AsSpan(at, bytes));
                previous.Scales.AsSpan(row, rows).CopyTo(segment.Scales.AsSpan(row, rows));
                previous.Biases.AsSpan(row, rows).CopyTo(segment.Biases.AsSpan(row, rows));
                reused++;
                continue;
            }

            ReadOnlySpan<float> chunk = outputs.Chunk(c);
            for (int r = 0; r < rows; r++)
            {
                segment.Quantize(chunk.Slice(r * w, w), row + r, groups);
            }
        }

        return segment;
    }

    /// <summary>Groups of 4 values per row of width <paramref name="d"/>.</summary>
    internal static int Groups(int d) => (d + Kernels.Int8GroupWidth - 1) / Kernels.Int8GroupWidth;

    /// <summary><paramref name="rows"/> rounded up to whole 8-row blocks.</summary>
    internal static int PaddedRows(int rows) => (rows + Kernels.Int8BlockRows - 1) / Kernels.Int8BlockRows * Kernels.Int8BlockRows;

    /// <summary>Writes one row (d weights and the bias) as row <paramref name="r"/> of the segment.</summary>
    private void Quantize(ReadOnlySpan<float> row, int r, int groups)
    {
        int d = row.Length - 1;
        Span<byte> levels = stackalloc byte[groups * Kernels.Int8GroupWidth];
        levels.Fill(Offset); // a last group's values past d stand for 0
        float max = Kernels.QuantizeInt8Row(row[..d], levels);
        Biases[r] = row[d];
        if (!(max > 0f) || !float.IsFinite(max))
        {
            return; // an all-zero row stays at level 0 with scale 0
        }

        Scales[r] = max / 127f;
        int block = r / Kernels.Int8BlockRows, within = r % Kernels.Int8BlockRows;
        ref byte packed = ref MemoryMarshal.GetArrayDataReference(Packed);
        for (int g = 0; g < groups; g++)
        {
            int at = ((((block * groups) + g) * Kernels.Int8BlockRows) + within) * Kernels.Int8GroupWidth;
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref packed, at), MemoryMarshal.Read<uint>(levels[(g * Kernels.Int8GroupWidth)..]));
        }
    }
}

/// <summary>
/// The int8 copy of one version's output table, in segments of <see cref="ItemSegments.Chunks"/> chunks. A segment none
/// of whose chunks changed since the previously built version is taken whole; in the others the unchanged chunks'
/// blocks are copied and only the chunks the writer replaced are quantized.
/// </summary>
internal sealed class Int8ItemTable
{
    // The latest table built per model (its options object is shared by all its versions): the reuse hint. A miss only
    // costs a rebuild, never a wrong answer, since reuse requires the very same chunk storage.
    private static readonly ConditionalWeakTable<RepeatExploreOptions, StrongBox<Int8ItemTable?>> s_latest = [];

    private readonly CowView<float> _source;
    private readonly int _d;

    private Int8ItemTable(CowView<float> source, int chunks, int d, QuantizedSegment[] segments, int reused) =>
        (_source, ChunkCount, _d, Segments, Reused) = (source, chunks, d, segments, reused);

    /// <summary>Gets the quantized segments.</summary>
    internal QuantizedSegment[] Segments { get; }

    /// <summary>Gets the chunks of the source the segments hold.</summary>
    internal int ChunkCount { get; }

    /// <summary>Gets how many chunks were taken from the previous version rather than quantized (for tests).</summary>
    internal int Reused { get; }

    /// <summary>Builds the table of <paramref name="outputs"/> (rows of d weights and a bias), reusing what it can.</summary>
    internal static Int8ItemTable Build(CowView<float> outputs, int items, int d, RepeatExploreOptions owner)
    {
        StrongBox<Int8ItemTable?> latest = ItemSegments.Latest(s_latest, owner);
        Int8ItemTable? previous = Volatile.Read(ref latest.Value);
        if (previous is not null && previous._d != d)
        {
            previous = null; // another width: nothing to share
        }

        int chunks = ItemSegments.ChunkCount(outputs, items), count = ItemSegments.Count(chunks), reused = 0;
        var segments = new QuantizedSegment[count];
        for (int s = 0; s < count; s++)
        {
            int first = s * ItemSegments.Chunks, end = Math.Min(chunks, first + ItemSegments.Chunks);
            if (previous is not null && ItemSegments.AllShared(outputs, previous._source, previous.ChunkCount, chunks, s))
            {
                segments[s] = previous.Segments[s];
                reused += end - first;
                continue;
            }

            QuantizedSegment? before = previous is not null && s < previous.Segments.Length ? previous.Segments[s] : null;
            segments[s] = QuantizedSegment.Build(outputs, first, end, d, before, previous?._source, previous?.ChunkCount ?? 0, ref reused);
        }

        var table = new Int8ItemTable(outputs, chunks, d, segments, reused);
        Volatile.Write(ref latest.Value, table);
        return table;
    }
}

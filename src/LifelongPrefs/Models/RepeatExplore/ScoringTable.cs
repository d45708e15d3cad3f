using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LifelongPrefs.Tensors;

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
    private ItemTerms(float[] popularity, float[] trend) => (Popularity, Trend) = (popularity, trend);

    /// <summary>Gets <c>w_pop · popularity_i</c> per item.</summary>
    internal float[] Popularity { get; }

    /// <summary>Gets <c>w_trend · trend_i</c> per item.</summary>
    internal float[] Trend { get; }

    /// <summary>Computes the terms of the first <paramref name="items"/> rows of <paramref name="info"/>.</summary>
    internal static ItemTerms Build(CowView<float> info, ReadOnlySpan<float> gate, double nowOverTau, int items)
    {
        var popularity = new float[items];
        var trend = new float[items];
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
            }
        }

        return new ItemTerms(popularity, trend);
    }
}

/// <summary>
/// An int8 copy of one immutable chunk of the output table: each row's d weights as <c>round(o / s) + 128</c> in
/// <see cref="Kernels.Int8BlockDots"/>'s interleaved 8-row layout, with the row's scale <c>s = max|o| / 127</c> and its
/// fp32 bias.
/// </summary>
internal sealed class QuantizedChunk
{
    /// <summary>The offset that makes a signed level in [−127, 127] an unsigned byte (VNNI multiplies u8 by s8).</summary>
    internal const int Offset = 128;

    private QuantizedChunk(byte[] packed, float[] scales, float[] biases) => (Packed, Scales, Biases) = (packed, scales, biases);

    /// <summary>Gets the interleaved levels (blocks × groups × 32 bytes).</summary>
    internal byte[] Packed { get; }

    /// <summary>Gets each row's scale (the padded row count of entries; 0 for an all-zero row).</summary>
    internal float[] Scales { get; }

    /// <summary>Gets each row's bias (the padded row count of entries).</summary>
    internal float[] Biases { get; }

    /// <summary>Quantizes the rows of one chunk (<paramref name="rows"/> rows of stride d + 1, the bias last; unused rows included).</summary>
    internal static QuantizedChunk Build(ReadOnlySpan<float> chunk, int rows, int d)
    {
        int groups = Groups(d), padded = PaddedRows(rows);
        var packed = new byte[padded * groups * Kernels.Int8GroupWidth];
        packed.AsSpan().Fill(Offset); // padding rows and padding values stand for 0
        var scales = new float[padded];
        var biases = new float[padded];
        int w = d + 1;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = chunk.Slice(r * w, w);
            float max = 0f;
            for (int j = 0; j < d; j++)
            {
                max = Math.Max(max, Math.Abs(row[j]));
            }

            biases[r] = row[d];
            if (!(max > 0f) || !float.IsFinite(max))
            {
                continue; // an all-zero row stays at level 0 with scale 0
            }

            float scale = max / 127f, inverse = 127f / max;
            scales[r] = scale;
            int block = r / Kernels.Int8BlockRows, within = r % Kernels.Int8BlockRows;
            for (int j = 0; j < d; j++)
            {
                int level = (int)MathF.Round(row[j] * inverse);
                int at = ((((block * groups) + (j / Kernels.Int8GroupWidth)) * Kernels.Int8BlockRows) + within) * Kernels.Int8GroupWidth;
                packed[at + (j % Kernels.Int8GroupWidth)] = (byte)(Math.Clamp(level, -127, 127) + Offset);
            }
        }

        return new QuantizedChunk(packed, scales, biases);
    }

    /// <summary>Groups of 4 values per row of width <paramref name="d"/>.</summary>
    internal static int Groups(int d) => (d + Kernels.Int8GroupWidth - 1) / Kernels.Int8GroupWidth;

    /// <summary><paramref name="rows"/> rounded up to whole 8-row blocks.</summary>
    internal static int PaddedRows(int rows) => (rows + Kernels.Int8BlockRows - 1) / Kernels.Int8BlockRows * Kernels.Int8BlockRows;
}

/// <summary>
/// The int8 copy of one version's output table, chunk for chunk. Published chunks are never written again
/// (copy-on-write), so a chunk whose storage is the same array as in the previously built version reuses that version's
/// quantized chunk: building a version costs one reference comparison per chunk plus the quantization of the chunks
/// the writer replaced since.
/// </summary>
internal sealed class Int8ItemTable
{
    // The latest table built per model (its options object is shared by all its versions): the reuse hint. A miss only
    // costs a rebuild, never a wrong answer, since reuse requires the very same chunk storage.
    private static readonly ConditionalWeakTable<RepeatExploreOptions, StrongBox<Int8ItemTable?>> s_latest = [];

    private readonly CowView<float> _source;

    private Int8ItemTable(CowView<float> source, QuantizedChunk[] chunks, int reused) => (_source, Chunks, Reused) = (source, chunks, reused);

    /// <summary>Gets the quantized chunks, one per chunk of the source.</summary>
    internal QuantizedChunk[] Chunks { get; }

    /// <summary>Gets how many chunks were taken from the previous version rather than quantized (for tests).</summary>
    internal int Reused { get; }

    /// <summary>Builds the table of <paramref name="outputs"/> (rows of d weights and a bias), reusing what it can.</summary>
    internal static Int8ItemTable Build(CowView<float> outputs, int items, int d, RepeatExploreOptions owner)
    {
        StrongBox<Int8ItemTable?> latest = s_latest.GetValue(owner, _ => new StrongBox<Int8ItemTable?>());
        Int8ItemTable? previous = Volatile.Read(ref latest.Value);
        int rows = outputs.ChunkRows, count = (items + rows - 1) / rows, reused = 0;
        var chunks = new QuantizedChunk[count];
        for (int c = 0; c < count; c++)
        {
            // A chunk's quantization depends on its storage alone (every row of it, used or not), so equal storage
            // means an equal quantized chunk.
            ReadOnlySpan<float> chunk = outputs.Chunk(c);
            if (previous is not null && c < previous.Chunks.Length && previous._source.ChunkRows == rows && previous._source.Width == outputs.Width
                && Unsafe.AreSame(ref MemoryMarshal.GetReference(chunk), ref MemoryMarshal.GetReference(previous._source.Chunk(c))))
            {
                chunks[c] = previous.Chunks[c];
                reused++;
            }
            else
            {
                chunks[c] = QuantizedChunk.Build(chunk, rows, d);
            }
        }

        var table = new Int8ItemTable(outputs, chunks, reused);
        Volatile.Write(ref latest.Value, table);
        return table;
    }
}

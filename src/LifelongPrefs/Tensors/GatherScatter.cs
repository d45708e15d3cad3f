using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Row gather (embedding lookup): row <c>i</c> of <paramref name="destination"/> becomes row
    /// <c>indices[i]</c> of <paramref name="table"/>.
    /// </summary>
    /// <param name="table">Row-major table of <c>table.Length / columns</c> rows.</param>
    /// <param name="columns">Row width (embedding dimension); must be positive.</param>
    /// <param name="indices">Table rows to copy, in output order; repeats are allowed.</param>
    /// <param name="destination">
    /// Receives <c>indices.Length</c> rows of <paramref name="columns"/> values; must not overlap
    /// <paramref name="table"/>.
    /// </param>
    /// <remarks>
    /// Every index is validated before anything is written, so a rejected call leaves
    /// <paramref name="destination"/> unchanged. Values, including NaN, are copied bit for bit.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="columns"/> is not positive, or an index is outside <c>[0, table.Length / columns)</c>
    /// (the message names its position and value).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="table"/>'s length is not a multiple of <paramref name="columns"/>,
    /// <paramref name="destination"/> is shorter than <c>indices.Length · columns</c>, or it overlaps
    /// <paramref name="table"/>.
    /// </exception>
    public static void GatherRows(ReadOnlySpan<float> table, int columns, ReadOnlySpan<int> indices, Span<float> destination)
    {
        int tableRows = RowIndexGuard.Table(table, columns);
        long required = (long)indices.Length * columns;
        if (destination.Length < required)
        {
            ThrowHelper.ThrowArgument(nameof(destination),
                $"Destination 'destination' has length {destination.Length} but at least {required} is required.");
        }

        Guard.NoOverlap(table, destination);
        RowIndexGuard.Indices(indices, tableRows);

        for (int i = 0; i < indices.Length; i++)
        {
            RowPrefetch.Ahead(table, indices, i, columns);
            table.Slice(indices[i] * columns, columns).CopyTo(destination.Slice(i * columns, columns));
        }
    }

    /// <summary>
    /// Row scatter-add (embedding gradient): row <c>indices[i]</c> of <paramref name="table"/> is incremented by
    /// row <c>i</c> of <paramref name="source"/>. Repeated indices accumulate.
    /// </summary>
    /// <param name="source">Row-major <c>indices.Length</c> × <paramref name="columns"/> rows to add.</param>
    /// <param name="columns">Row width (embedding dimension); must be positive.</param>
    /// <param name="indices">Target table row for each source row; repeats are allowed.</param>
    /// <param name="table">Row-major table of <c>table.Length / columns</c> rows, updated in place; must not overlap <paramref name="source"/>.</param>
    /// <remarks>
    /// Every index is validated before anything is written, so a rejected call leaves <paramref name="table"/>
    /// unchanged. Contributions are added in index order, so repeated indices give deterministic results.
    /// NaN propagates as in IEEE addition.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="columns"/> is not positive, or an index is outside <c>[0, table.Length / columns)</c>
    /// (the message names its position and value).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="table"/>'s length is not a multiple of <paramref name="columns"/>,
    /// <paramref name="source"/> does not have exactly <c>indices.Length · columns</c> elements, or it overlaps
    /// <paramref name="table"/>.
    /// </exception>
    public static void ScatterAddRows(ReadOnlySpan<float> source, int columns, ReadOnlySpan<int> indices, Span<float> table)
    {
        int tableRows = RowIndexGuard.Table(table, columns);
        long expected = (long)indices.Length * columns;
        if (source.Length != expected)
        {
            ThrowHelper.ThrowArgument(nameof(source),
                $"Span 'source' has length {source.Length} but {indices.Length} rows of {columns} need {expected}.");
        }

        // Source rows are read after earlier table rows were updated, so any aliasing would read sums.
        Guard.NoOverlap(source, table);
        RowIndexGuard.Indices(indices, tableRows);

        for (int i = 0; i < indices.Length; i++)
        {
            RowPrefetch.Ahead(table, indices, i, columns);
            Span<float> row = table.Slice(indices[i] * columns, columns);
            TensorPrimitives.Add(row, source.Slice(i * columns, columns), row);
        }
    }
}

/// <summary>
/// Software prefetch for random row access. Embedding tables are larger than the caches and the rows a batch
/// touches are random, so each row costs a memory round trip; asking for the row a few positions ahead overlaps
/// those round trips instead of paying them one after another (the hardware prefetcher cannot guess them).
/// </summary>
internal static class RowPrefetch
{
    /// <summary>How many rows ahead to prefetch: enough to cover memory latency, few enough to stay in L1.</summary>
    private const int Distance = 8;

    /// <summary>Prefetches every cache line of row <c>indices[i + Distance]</c> of <paramref name="table"/>, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Ahead(ReadOnlySpan<float> table, ReadOnlySpan<int> indices, int i, int columns)
    {
        if (!Sse.IsSupported || i + Distance >= indices.Length)
        {
            return;
        }

        // Indices were validated before the loop, so the row lies inside the table.
        ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(table), (nint)indices[i + Distance] * columns);
        byte* start = (byte*)Unsafe.AsPointer(ref row);
        for (int offset = 0; offset < columns * sizeof(float); offset += 64)
        {
            // A prefetch is only a hint and never faults: were the GC to move the array in between, the hint would just be wasted.
            Sse.Prefetch0(start + offset);
        }
    }
}

/// <summary>Checks shared by the row gather and scatter kernels.</summary>
file static class RowIndexGuard
{
    /// <summary>Validates the table shape and returns its row count.</summary>
    internal static int Table(ReadOnlySpan<float> table, int columns)
    {
        if (columns <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), columns, $"'{nameof(columns)}' must be positive but was {columns}.");
        }

        if (table.Length % columns != 0)
        {
            ThrowHelper.ThrowArgument(nameof(table),
                $"Span 'table' has length {table.Length}, which is not a multiple of {nameof(columns)} = {columns}.");
        }

        return table.Length / columns;
    }

    /// <summary>Throws for the first index outside [0, <paramref name="tableRows"/>).</summary>
    internal static void Indices(ReadOnlySpan<int> indices, int tableRows)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            // One unsigned compare covers both negative and too-large indices.
            if ((uint)indices[i] >= (uint)tableRows)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(indices), indices[i],
                    $"indices[{i}] = {indices[i]} is outside the table's rows [0, {tableRows}).");
            }
        }
    }
}

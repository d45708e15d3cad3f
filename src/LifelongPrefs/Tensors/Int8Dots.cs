using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>Rows per block of <see cref="Int8BlockDots"/>'s interleaved layout (one 32-byte vector holds 4 values of 8 rows).</summary>
    internal const int Int8BlockRows = 8;

    /// <summary>Values per group of <see cref="Int8BlockDots"/>'s interleaved layout (the 4 bytes one VNNI lane multiplies).</summary>
    internal const int Int8GroupWidth = 4;

    /// <summary>
    /// The rows' dot products of a row-major float table with x, with Gemv's arithmetic (<c>y[i] = dot(A row i, x)</c>,
    /// bit for bit what <see cref="Gemv"/> with alpha 1 and beta 0 writes) but without its per-call checks, for callers
    /// that stream a table in many small blocks.
    /// </summary>
    /// <param name="a">Storage of A: m rows of stride <paramref name="lda"/>, the last one at least n long.</param>
    /// <param name="lda">Row stride of A (at least n).</param>
    /// <param name="m">Rows.</param>
    /// <param name="n">Columns; the length of x.</param>
    /// <param name="x">The vector.</param>
    /// <param name="y">Receives m dot products.</param>
    internal static void RowDots(ReadOnlySpan<float> a, int lda, int m, int n, ReadOnlySpan<float> x, Span<float> y)
    {
        if (m == 0)
        {
            return;
        }

        if (x.Length != n || y.Length < m || lda < n || a.Length < ((m - 1) * lda) + n)
        {
            ThrowHelper.ThrowArgument(nameof(a), $"RowDots: {m} rows of {n} (stride {lda}) do not fit a of {a.Length}, x of {x.Length} or y of {y.Length}.");
        }

        DotRows(a, lda, m, n, x, 1f, 0f, y);
    }

    /// <summary>
    /// Integer dot products of 8-row blocks of unsigned bytes with one signed-byte vector: for block b, row r and
    /// group g of <see cref="Int8GroupWidth"/> values, the bytes of row 8b + r at values 4g … 4g + 3 sit at
    /// <c>packed[(b·groups + g)·32 + 4r …]</c>, and <c>destination[8b + r] = Σ_j packed(8b + r, j) · x[j]</c>.
    /// The layout lets one VNNI instruction (<c>vpdpbusd</c>) advance all 8 rows by 4 values with no horizontal sum.
    /// </summary>
    /// <param name="packed">The blocks: <c>destination.Length / 8 × groups × 32</c> bytes.</param>
    /// <param name="x">The vector: <c>groups × 4</c> signed bytes.</param>
    /// <param name="groups">Groups of 4 values per row.</param>
    /// <param name="destination">Receives one sum per row; its length is a multiple of 8.</param>
    /// <remarks>
    /// Exact: sums of at most 4,096 × 255 × 128 fit an int, so every path (AVX-VNNI, scalar) gives the same integers.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths do not fit each other.</exception>
    internal static void Int8BlockDots(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> x, int groups, Span<int> destination)
    {
        int blocks = destination.Length / Int8BlockRows;
        if (groups < 0 || groups > 1024 || destination.Length % Int8BlockRows != 0 || x.Length != groups * Int8GroupWidth
            || packed.Length != blocks * groups * Int8BlockRows * Int8GroupWidth)
        {
            ThrowHelper.ThrowArgument(nameof(packed),
                $"Int8BlockDots: packed of {packed.Length}, x of {x.Length}, {groups} groups and destination of {destination.Length} do not fit.");
        }

        if (Simd.Current != SimdWidth.Scalar && AvxVnni.IsSupported)
        {
            Int8BlockDotsVnni(packed, x, groups, destination);
            return;
        }

        Int8BlockDotsScalar(packed, x, groups, destination);
    }

    /// <summary>The reference loop of <see cref="Int8BlockDots"/> (and its path without AVX-VNNI).</summary>
    internal static void Int8BlockDotsScalar(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> x, int groups, Span<int> destination)
    {
        const int Block = Int8BlockRows * Int8GroupWidth;
        for (int b = 0; b * Int8BlockRows < destination.Length; b++)
        {
            Span<int> sums = destination.Slice(b * Int8BlockRows, Int8BlockRows);
            sums.Clear();
            for (int g = 0; g < groups; g++)
            {
                ReadOnlySpan<byte> group = packed.Slice(((b * groups) + g) * Block, Block);
                for (int r = 0; r < Int8BlockRows; r++)
                {
                    int s = 0;
                    for (int k = 0; k < Int8GroupWidth; k++)
                    {
                        s += group[(r * Int8GroupWidth) + k] * x[(g * Int8GroupWidth) + k];
                    }

                    sums[r] += s;
                }
            }
        }
    }

    private static void Int8BlockDotsVnni(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> x, int groups, Span<int> destination)
    {
        ref byte p = ref MemoryMarshal.GetReference(packed);
        ref byte xr = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(x));
        ref int y = ref MemoryMarshal.GetReference(destination);
        int blocks = destination.Length / Int8BlockRows, b = 0;
        nint stride = (nint)groups * 32;

        // Four blocks at a time with two accumulators each: eight independent chains of vpdpbusd (latency 5, two per
        // cycle) keep the unit busy where one block's two chains would wait on each other. Integer sums: any order is exact.
        for (; b + 4 <= blocks; b += 4)
        {
            ref byte k0 = ref Unsafe.Add(ref p, b * stride);
            ref byte k1 = ref Unsafe.Add(ref k0, stride);
            ref byte k2 = ref Unsafe.Add(ref k1, stride);
            ref byte k3 = ref Unsafe.Add(ref k2, stride);
            Vector256<int> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
            int g = 0;
            for (; g + 2 <= groups; g += 2)
            {
                Vector256<sbyte> x0 = Broadcast(ref xr, g), x1 = Broadcast(ref xr, g + 1);
                nuint even = (nuint)(g * 32), odd = even + 32;
                e0 = AvxVnni.MultiplyWideningAndAdd(e0, Vector256.LoadUnsafe(ref k0, even), x0);
                e1 = AvxVnni.MultiplyWideningAndAdd(e1, Vector256.LoadUnsafe(ref k1, even), x0);
                e2 = AvxVnni.MultiplyWideningAndAdd(e2, Vector256.LoadUnsafe(ref k2, even), x0);
                e3 = AvxVnni.MultiplyWideningAndAdd(e3, Vector256.LoadUnsafe(ref k3, even), x0);
                o0 = AvxVnni.MultiplyWideningAndAdd(o0, Vector256.LoadUnsafe(ref k0, odd), x1);
                o1 = AvxVnni.MultiplyWideningAndAdd(o1, Vector256.LoadUnsafe(ref k1, odd), x1);
                o2 = AvxVnni.MultiplyWideningAndAdd(o2, Vector256.LoadUnsafe(ref k2, odd), x1);
                o3 = AvxVnni.MultiplyWideningAndAdd(o3, Vector256.LoadUnsafe(ref k3, odd), x1);
            }

            if (g < groups)
            {
                Vector256<sbyte> x0 = Broadcast(ref xr, g);
                nuint last = (nuint)(g * 32);
                e0 = AvxVnni.MultiplyWideningAndAdd(e0, Vector256.LoadUnsafe(ref k0, last), x0);
                e1 = AvxVnni.MultiplyWideningAndAdd(e1, Vector256.LoadUnsafe(ref k1, last), x0);
                e2 = AvxVnni.MultiplyWideningAndAdd(e2, Vector256.LoadUnsafe(ref k2, last), x0);
                e3 = AvxVnni.MultiplyWideningAndAdd(e3, Vector256.LoadUnsafe(ref k3, last), x0);
            }

            (e0 + o0).StoreUnsafe(ref y, (nuint)(b * Int8BlockRows));
            (e1 + o1).StoreUnsafe(ref y, (nuint)((b + 1) * Int8BlockRows));
            (e2 + o2).StoreUnsafe(ref y, (nuint)((b + 2) * Int8BlockRows));
            (e3 + o3).StoreUnsafe(ref y, (nuint)((b + 3) * Int8BlockRows));
        }

        for (; b < blocks; b++)
        {
            // Two accumulators halve the dependency chain of vpdpbusd (latency 5, two per cycle).
            Vector256<int> s0 = Vector256<int>.Zero, s1 = Vector256<int>.Zero;
            ref byte block = ref Unsafe.Add(ref p, (nint)b * groups * 32);
            int g = 0;
            for (; g + 2 <= groups; g += 2)
            {
                Vector256<sbyte> x0 = Broadcast(ref xr, g), x1 = Broadcast(ref xr, g + 1);
                s0 = AvxVnni.MultiplyWideningAndAdd(s0, Vector256.LoadUnsafe(ref block, (nuint)(g * 32)), x0);
                s1 = AvxVnni.MultiplyWideningAndAdd(s1, Vector256.LoadUnsafe(ref block, (nuint)((g + 1) * 32)), x1);
            }

            if (g < groups)
            {
                s0 = AvxVnni.MultiplyWideningAndAdd(s0, Vector256.LoadUnsafe(ref block, (nuint)(g * 32)), Broadcast(ref xr, g));
            }

            (s0 + s1).StoreUnsafe(ref y, (nuint)(b * Int8BlockRows));
        }
    }

    /// <summary>
    /// Asks for every cache line of <paramref name="block"/>: a hint for a pass that streams many small arrays one after
    /// another (a chunked table), where the next array's address is known but the hardware prefetcher cannot guess it.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="block">The block to bring towards L1.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Prefetch<T>(ReadOnlySpan<T> block)
        where T : unmanaged
    {
        if (!Sse.IsSupported || block.IsEmpty)
        {
            return;
        }

        // A prefetch is only a hint and never faults: were the GC to move the array in between, the hint would just be wasted.
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(block));
        int bytes = block.Length * sizeof(T);
        for (int offset = 0; offset < bytes; offset += 64)
        {
            Sse.Prefetch0(start + offset);
        }
    }

    /// <summary>The 4 bytes of group <paramref name="g"/> of x, repeated in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(ref byte x, int g) =>
        Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, g * Int8GroupWidth))).AsSByte();
}

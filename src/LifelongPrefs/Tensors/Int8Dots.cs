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
    /// Exact: sums of at most 4,096 × 255 × 128 fit an int, so every path (AVX-VNNI, AVX2, scalar) gives the same integers.
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

        if (Simd.Current != SimdWidth.Scalar && Avx2.IsSupported)
        {
            Int8BlockDotsAvx2(packed, x, groups, destination);
            return;
        }

        Int8BlockDotsScalar(packed, x, groups, destination);
    }

    /// <summary>
    /// <see cref="Int8BlockDots"/> with AVX2 alone (no VNNI; e.g. AMD Zen 3): each group's 32 bytes are widened to 16-bit
    /// (<c>vpmovzxbw</c>) and multiplied by x's four values with pairwise 32-bit sums (<c>vpmaddwd</c>), which is exact.
    /// </summary>
    /// <remarks>
    /// <c>vpmaddubsw</c> would multiply the bytes directly but saturates its 16-bit pair sums (2 · 255 · 128 &gt; 32,767),
    /// so it would not give the reference integers. Internal for the tests: on a machine with AVX-VNNI the dispatcher
    /// never picks it. The lengths must already be checked (as <see cref="Int8BlockDots"/> does).
    /// </remarks>
    internal static void Int8BlockDotsAvx2(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> x, int groups, Span<int> destination)
    {
        // Each group of x as four 16-bit values in one 64-bit word, to be repeated across a vector: groups ≤ 1024, so at
        // most 8 KB of stack.
        Span<long> xs = stackalloc long[groups];
        for (int g = 0; g < groups; g++)
        {
            long word = 0;
            for (int k = 0; k < Int8GroupWidth; k++)
            {
                word |= (long)(ushort)x[(g * Int8GroupWidth) + k] << (16 * k);
            }

            xs[g] = word;
        }

        ref byte p = ref MemoryMarshal.GetReference(packed);
        ref int y = ref MemoryMarshal.GetReference(destination);
        int blocks = destination.Length / Int8BlockRows;
        Vector256<int> order = Vector256.Create(0, 1, 4, 5, 2, 3, 6, 7);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref p, (nint)b * groups * 32);
            Vector256<int> low = Vector256<int>.Zero, high = Vector256<int>.Zero;
            for (int g = 0; g < groups; g++)
            {
                // Rows 0–3 of the block sit in the first 16 bytes, rows 4–7 in the next; each product pair is one 32-bit lane.
                Vector256<short> xg = Vector256.Create(xs[g]).AsInt16();
                nuint at = (nuint)(g * 32);
                low += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref block, at)), xg);
                high += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref block, at + 16)), xg);
            }

            // Per 128-bit lane the horizontal add gives rows (0, 1, 4, 5 | 2, 3, 6, 7); the permutation puts them in order.
            Avx2.PermuteVar8x32(Avx2.HorizontalAdd(low, high), order).StoreUnsafe(ref y, (nuint)(b * Int8BlockRows));
        }
    }

    /// <summary>The reference loop of <see cref="Int8BlockDots"/> (and its path without AVX2).</summary>
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

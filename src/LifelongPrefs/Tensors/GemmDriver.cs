using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LifelongPrefs.Tensors;

/// <summary>
/// The blocked GEMM: loop order, packing and micro-kernels. Arguments arrive validated.
/// </summary>
/// <remarks>
/// Loop nest (after Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", and the
/// BLIS framework): columns of C in blocks of <see cref="NC"/>; the inner dimension in blocks of
/// <see cref="KC"/>, packing a KC × NC block of op(B) into NR-wide column panels (sized for L3/L2);
/// rows of C in blocks of <see cref="MC"/>, packing an MC × KC block of alpha·op(A) into MR-tall row panels
/// (sized for L2); then an MR × NR register tile per micro-kernel call, streaming one A panel and one
/// B panel (sized for L1). Packing makes every micro-kernel load contiguous and absorbs both transposes
/// and alpha, so there is one micro-kernel per vector width. Edge tiles are zero-padded in the packs and
/// computed into a scratch tile, then merged into C.
/// </remarks>
internal static unsafe class GemmDriver
{
    /// <summary>Rows of the register tile (broadcast A values per k step).</summary>
    internal const int MR = 6;

    /// <summary>Inner-dimension block: one A panel (MR·KC floats) plus one B panel stay in L1.</summary>
    internal const int KC = 256;

    /// <summary>Row block: an MC × KC packed A block (144 KiB) stays in L2.</summary>
    internal const int MC = 144;

    /// <summary>Column block: a KC × NC packed B block (4 MiB) stays in L3.</summary>
    internal const int NC = 4096;

    /// <summary>Multiply-add count above which the optional multi-threaded path engages.</summary>
    internal const long ParallelThreshold = 1L << 21;

    /// <summary>Tile width (columns of C per micro-kernel call) for a vector width.</summary>
    internal static int NR(SimdWidth width) => width switch
    {
        SimdWidth.Vector512 => 32,
        SimdWidth.Vector256 => 16,
        _ => 4,
    };

    internal static void Run(bool aT, bool bT, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int maxDegreeOfParallelism)
    {
        SimdWidth width = Simd.Current;
        int nr = NR(width);
        int mcBlocks = (m + MC - 1) / MC;
        bool parallel = maxDegreeOfParallelism > 1 && mcBlocks > 1 && (long)m * n * k >= ParallelThreshold;

        GemmWorkspace workspace = GemmWorkspace.ForCurrentThread();
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pcIdx = 0; pcIdx < k; pcIdx += KC)
                {
                    int kc = Math.Min(KC, k - pcIdx);
                    // beta applies once, on the first slice of the inner dimension; later slices accumulate.
                    float betaBlock = pcIdx == 0 ? beta : 1f;
                    float* bPack = workspace.PackB(kc * RoundUp(nc, nr));
                    PackB(bT, pb, ldb, pcIdx, jc, kc, nc, nr, bPack);

                    var block = new BlockArgs(aT, pa, lda, pcIdx, kc, jc, nc, alpha, betaBlock, bPack, pc, ldc, m, width);
                    if (parallel)
                    {
                        RunRowBlocksParallel(block, mcBlocks, maxDegreeOfParallelism);
                    }
                    else
                    {
                        for (int blockIndex = 0; blockIndex < mcBlocks; blockIndex++)
                        {
                            RunRowBlock(in block, blockIndex, workspace);
                        }
                    }
                }
            }
        }
    }

    private static void RunRowBlocksParallel(BlockArgs block, int mcBlocks, int maxDegreeOfParallelism)
    {
        // Each worker packs its own A blocks into its own thread-local workspace; the packed B block is shared read-only.
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, mcBlocks, options, blockIndex => RunRowBlock(in block, blockIndex, GemmWorkspace.ForCurrentThread()));
    }

    private static void RunRowBlock(in BlockArgs block, int blockIndex, GemmWorkspace workspace)
    {
        int ic = blockIndex * MC;
        int mc = Math.Min(MC, block.M - ic);
        int nr = NR(block.Width);
        float* aPack = workspace.PackA(RoundUp(mc, MR) * block.Kc);
        PackA(block.ATransposed, block.A, block.Lda, ic, block.Pc, mc, block.Kc, block.Alpha, block.M, aPack);

        float* tile = stackalloc float[MR * 32];
        for (int jr = 0; jr < block.Nc; jr += nr)
        {
            int nrEff = Math.Min(nr, block.Nc - jr);
            float* bPanel = block.BPack + (long)jr * block.Kc;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mrEff = Math.Min(MR, mc - ir);
                float* aPanel = aPack + (long)ir * block.Kc;
                float* cTile = block.C + (long)(ic + ir) * block.Ldc + block.Jc + jr;
                if (mrEff == MR && nrEff == nr)
                {
                    MicroKernel(block.Width, block.Kc, aPanel, bPanel, cTile, block.Ldc, block.Beta);
                }
                else
                {
                    // Edge tile: compute the full padded tile into scratch, then merge only the valid part.
                    MicroKernel(block.Width, block.Kc, aPanel, bPanel, tile, nr, 0f);
                    MergeTile(tile, nr, cTile, block.Ldc, mrEff, nrEff, block.Beta);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(SimdWidth width, int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        switch (width)
        {
            case SimdWidth.Vector512:
                MicroKernel512(kc, a, b, c, ldc, beta);
                break;
            case SimdWidth.Vector256:
                MicroKernel256(kc, a, b, c, ldc, beta);
                break;
            default:
                MicroKernelScalar(kc, a, b, c, ldc, beta);
                break;
        }
    }

    private static void MergeTile(float* tile, int tileStride, float* c, int ldc, int rows, int cols, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * tileStride;
            float* dst = c + (long)i * ldc;
            for (int j = 0; j < cols; j++)
            {
                dst[j] = beta == 0f ? src[j] : src[j] + beta * dst[j];
            }
        }
    }

    /// <summary>
    /// Packs alpha · op(A)[ic..ic+mc, pc..pc+kc] into MR-row panels: panel r holds, for each p, the MR values
    /// of column p (so the micro-kernel broadcasts consecutive floats). Rows past mc are zero.
    /// </summary>
    private static void PackA(bool transposed, float* a, int lda, int ic, int pc, int mc, int kc, float alpha, int m, float* dest)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            float* panel = dest + (long)ir * kc;
            if (!transposed && rows == MR)
            {
                // Stored row-major m × k, full panel: walk the six rows in step so the panel is written
                // contiguously while the reads stay six sequential streams the prefetcher can follow.
                float* r0 = a + (long)(ic + ir) * lda + pc;
                float* r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
                float* dst = panel;
                for (int p = 0; p < kc; p++, dst += MR)
                {
                    dst[0] = alpha * r0[p];
                    dst[1] = alpha * r1[p];
                    dst[2] = alpha * r2[p];
                    dst[3] = alpha * r3[p];
                    dst[4] = alpha * r4[p];
                    dst[5] = alpha * r5[p];
                }
            }
            else if (!transposed)
            {
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (long)(ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++)
                    {
                        panel[p * MR + r] = alpha * src[p];
                    }
                }
            }
            else if (rows == MR && ic + ir + Vector256<float>.Count <= m && Vector256.IsHardwareAccelerated)
            {
                // Stored k × m, full panel with two readable columns to spare: one 8-wide load and store per p.
                // The two extra lanes land in the next p's slot, which the next iteration overwrites (the
                // workspace keeps slack after the last panel for the final spill).
                float* src = a + (long)pc * lda + ic + ir;
                var scale = Vector256.Create(alpha);
                for (int p = 0; p < kc; p++, src += lda)
                {
                    Vector256.Store(Vector256.Load(src) * scale, panel + p * MR);
                }
            }
            else
            {
                // Stored k × m: the MR values of one panel column are contiguous in a stored row.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    for (int r = 0; r < rows; r++)
                    {
                        panel[p * MR + r] = alpha * src[r];
                    }
                }
            }

            for (int r = rows; r < MR; r++)
            {
                for (int p = 0; p < kc; p++)
                {
                    panel[p * MR + r] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] into nr-column panels: panel j holds, for each p, the nr values of
    /// row p (one or two vector loads in the micro-kernel). Columns past nc are zero.
    /// </summary>
    private static void PackB(bool transposed, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dest)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dest + (long)jr * kc;
            if (!transposed && cols == nr && nr >= 16)
            {
                // Stored row-major k × n, full panel: each panel row is a contiguous run of a stored row,
                // copied as 256-bit vectors (one 16- or 32-float run per row needs no general memmove).
                float* src = b + (long)pc * ldb + jc + jr;
                float* dst = panel;
                for (int p = 0; p < kc; p++, src += ldb, dst += nr)
                {
                    for (int j = 0; j < nr; j += 8)
                    {
                        Vector256.Store(Vector256.Load(src + j), dst + j);
                    }
                }
            }
            else if (!transposed)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + jr;
                    float* dst = panel + p * nr;
                    new ReadOnlySpan<float>(src, cols).CopyTo(new Span<float>(dst, cols));
                    if (cols < nr)
                    {
                        new Span<float>(dst + cols, nr - cols).Clear();
                    }
                }
            }
            else if (cols == nr && nr % 8 == 0 && Avx.IsSupported)
            {
                // Stored n × k, full panel: transpose 8 × 8 blocks in registers, so both the reads (8 floats of a
                // stored row) and the writes (8 floats of a panel row) are whole vectors.
                int p8 = kc & ~7;
                for (int j0 = 0; j0 < nr; j0 += 8)
                {
                    float* src = b + (long)(jc + jr + j0) * ldb + pc;
                    for (int p = 0; p < p8; p += 8)
                    {
                        Transpose8x8(src + p, ldb, panel + p * nr + j0, nr);
                    }

                    for (int j = 0; j < 8; j++)
                    {
                        for (int p = p8; p < kc; p++)
                        {
                            panel[p * nr + j0 + j] = src[(long)j * ldb + p];
                        }
                    }
                }
            }
            else
            {
                // Stored n × k: a panel column is a contiguous run of a stored row.
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(jc + jr + j) * ldb + pc;
                    for (int p = 0; p < kc; p++)
                    {
                        panel[p * nr + j] = src[p];
                    }
                }

                for (int j = cols; j < nr; j++)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        panel[p * nr + j] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes the transpose of the 8 × 8 block at <paramref name="src"/> (row stride <paramref name="srcStride"/>) to
    /// <paramref name="dst"/> (row stride <paramref name="dstStride"/>): unpack pairs of rows, shuffle pairs of pairs,
    /// then swap 128-bit halves, the standard AVX in-register transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + srcStride);
        Vector256<float> r2 = Avx.LoadVector256(src + 2L * srcStride), r3 = Avx.LoadVector256(src + 3L * srcStride);
        Vector256<float> r4 = Avx.LoadVector256(src + 4L * srcStride), r5 = Avx.LoadVector256(src + 5L * srcStride);
        Vector256<float> r6 = Avx.LoadVector256(src + 6L * srcStride), r7 = Avx.LoadVector256(src + 7L * srcStride);

        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>6 × 16 tile on 256-bit vectors: 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers.</summary>
    private static void MicroKernel256(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            a += MR;
            b += 16;
        }

        Store256(c, c00, c01, beta);
        Store256(c + ldc, c10, c11, beta);
        Store256(c + 2 * ldc, c20, c21, beta);
        Store256(c + 3 * ldc, c30, c31, beta);
        Store256(c + 4 * ldc, c40, c41, beta);
        Store256(c + 5 * ldc, c50, c51, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, float beta)
    {
        if (beta == 0f)
        {
            Vector256.Store(v0, c);
            Vector256.Store(v1, c + 8);
        }
        else if (beta == 1f)
        {
            Vector256.Store(v0 + Vector256.Load(c), c);
            Vector256.Store(v1 + Vector256.Load(c + 8), c + 8);
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            Vector256.Store(Vector256.FusedMultiplyAdd(vb, Vector256.Load(c), v0), c);
            Vector256.Store(Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 8), v1), c + 8);
        }
    }

    /// <summary>6 × 32 tile on 512-bit vectors: 12 accumulators, leaving most of the 32 zmm registers free.</summary>
    private static void MicroKernel512(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            a += MR;
            b += 32;
        }

        Store512(c, c00, c01, beta);
        Store512(c + ldc, c10, c11, beta);
        Store512(c + 2 * ldc, c20, c21, beta);
        Store512(c + 3 * ldc, c30, c31, beta);
        Store512(c + 4 * ldc, c40, c41, beta);
        Store512(c + 5 * ldc, c50, c51, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, float beta)
    {
        if (beta == 0f)
        {
            Vector512.Store(v0, c);
            Vector512.Store(v1, c + 16);
        }
        else if (beta == 1f)
        {
            Vector512.Store(v0 + Vector512.Load(c), c);
            Vector512.Store(v1 + Vector512.Load(c + 16), c + 16);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(vb, Vector512.Load(c), v0), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 16), v1), c + 16);
        }
    }

    /// <summary>6 × 4 tile in scalar code: the path without SIMD, kept simple and exact in its summation order.</summary>
    private static void MicroKernelScalar(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        const int nr = 4;
        float* acc = stackalloc float[MR * nr];
        for (int i = 0; i < MR * nr; i++)
        {
            acc[i] = 0f;
        }

        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r];
                float* row = acc + r * nr;
                row[0] += ar * b[0];
                row[1] += ar * b[1];
                row[2] += ar * b[2];
                row[3] += ar * b[3];
            }

            a += MR;
            b += nr;
        }

        for (int r = 0; r < MR; r++)
        {
            float* dst = c + (long)r * ldc;
            for (int j = 0; j < nr; j++)
            {
                dst[j] = beta == 0f ? acc[r * nr + j] : acc[r * nr + j] + beta * dst[j];
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Everything a row block needs, bundled so the parallel path can capture one value.</summary>
    private readonly struct BlockArgs(bool aTransposed, float* a, int lda, int pc, int kc, int jc, int nc,
        float alpha, float beta, float* bPack, float* c, int ldc, int m, SimdWidth width)
    {
        public readonly bool ATransposed = aTransposed;
        public readonly float* A = a;
        public readonly int Lda = lda;
        public readonly int Pc = pc;
        public readonly int Kc = kc;
        public readonly int Jc = jc;
        public readonly int Nc = nc;
        public readonly float Alpha = alpha;
        public readonly float Beta = beta;
        public readonly float* BPack = bPack;
        public readonly float* C = c;
        public readonly int Ldc = ldc;
        public readonly int M = m;
        public readonly SimdWidth Width = width;
    }
}

/// <summary>
/// Per-thread packing buffers for GEMM, grown on demand and then reused, so that steady-state calls
/// allocate nothing. The arrays live on the pinned object heap and are used from a 64-byte aligned
/// offset, so packed panels never straddle cache lines.
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    [ThreadStatic]
    private static GemmWorkspace? t_current;

    private float[] _a = [];
    private float[] _b = [];

    internal static GemmWorkspace ForCurrentThread() => t_current ??= new GemmWorkspace();

    internal float* PackA(int length) => Aligned(ref _a, length);

    internal float* PackB(int length) => Aligned(ref _b, length);

    private static float* Aligned(ref float[] buffer, int length)
    {
        // 16 floats of alignment slack plus 16 of spill room for the 8-wide panel writes.
        const int alignFloats = 32;
        if (buffer.Length < length + alignFloats)
        {
            buffer = GC.AllocateUninitializedArray<float>(length + alignFloats, pinned: true);
        }

        // The array is pinned for its lifetime, so the address is stable.
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        nint aligned = (address + 63) & ~(nint)63;
        return (float*)aligned;
    }
}

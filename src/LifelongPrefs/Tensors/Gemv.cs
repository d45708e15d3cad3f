using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Matrix-vector product on row-major storage: <c>y = alpha · op(A) · x + beta · y</c>, where A is stored as
    /// <paramref name="m"/> × <paramref name="n"/> with row stride <paramref name="lda"/>. With
    /// <see cref="Transpose.None"/>, x has n elements and y has m; with <see cref="Transpose.Transpose"/>,
    /// x has m elements and y has n.
    /// </summary>
    /// <param name="transA">Whether to multiply by A or by Aᵀ.</param>
    /// <param name="m">Stored rows of A.</param>
    /// <param name="n">Stored columns of A.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="lda">Row stride of A; at least max(1, n).</param>
    /// <param name="x">The input vector; exactly the length op(A) expects.</param>
    /// <param name="beta">Scale of the existing y; exactly 0 makes y write-only (previous NaN is not read).</param>
    /// <param name="y">The output vector; exactly the length op(A) produces; must not overlap A or x.</param>
    /// <remarks>NaN and infinity propagate as IEEE arithmetic dictates.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="lda"/> is too small.</exception>
    /// <exception cref="ArgumentException">A span's length does not fit its dimensions, or y overlaps an input.</exception>
    public static void Gemv(Transpose transA, int m, int n, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        ValidateTranspose(transA);
        Guard.NonNegative(m);
        Guard.NonNegative(n);
        ValidateMatrix(a, m, n, lda, nameof(a), nameof(lda));
        bool transposed = transA == Transpose.Transpose;
        Guard.Length(x, transposed ? m : n);
        Guard.Length(y, transposed ? n : m);
        Guard.NoOverlap(a[..StorageLength(m, n, lda)], y, nameof(a), nameof(y));
        Guard.NoOverlap(x, y);

        if (!transposed)
        {
            DotRows(a, lda, m, n, x, alpha, beta, y);
            return;
        }

        // y = beta·y, then one axpy per stored row: the rows stream contiguously, which beats a strided column dot.
        ScaleMatrix(y, 1, n, Math.Max(n, 1), beta);
        if (alpha == 0f)
        {
            return;
        }

        for (int i = 0; i < m; i++)
        {
            float s = alpha * x[i];
            TensorPrimitives.MultiplyAdd(a.Slice(i * lda, n), s, y, y);
        }
    }

    /// <summary>
    /// Scores every item against one query: <c>scores[i] = dot(itemEmbeddings row i, query)</c>, the inner loop
    /// of "recommend for this user" over a whole catalog. The item count is <c>scores.Length</c>.
    /// </summary>
    /// <param name="itemEmbeddings">Row-major item table, <c>scores.Length × query.Length</c> elements.</param>
    /// <param name="query">The user (or context) vector; its length is the embedding dimension.</param>
    /// <param name="scores">Receives one score per item; must not overlap the inputs.</param>
    /// <remarks>NaN in an item row or the query makes that score NaN.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="itemEmbeddings"/> does not hold exactly <c>scores.Length × query.Length</c> elements, or
    /// <paramref name="scores"/> overlaps an input.
    /// </exception>
    public static void ScoreAll(ReadOnlySpan<float> itemEmbeddings, ReadOnlySpan<float> query, Span<float> scores)
    {
        Guard.Length(itemEmbeddings, checked(scores.Length * query.Length));
        Guard.NoOverlap(itemEmbeddings, scores);
        Guard.NoOverlap(query, scores);
        DotRows(itemEmbeddings, Math.Max(query.Length, 1), scores.Length, query.Length, query, 1f, 0f, scores);
    }

    /// <summary>y[i] = alpha · dot(A row i, x) + beta · y[i] for i in [0, m).</summary>
    private static void DotRows(ReadOnlySpan<float> a, int lda, int m, int n, ReadOnlySpan<float> x, float alpha, float beta, Span<float> y)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float xr = ref MemoryMarshal.GetReference(x);
        SimdWidth width = Simd.Current;
        int i = 0;
        if (width != SimdWidth.Scalar && n >= Vector256<float>.Count)
        {
            // Four rows at a time share each load of x and give four independent FMA chains.
            for (; i + 4 <= m; i += 4)
            {
                ref float r0 = ref Unsafe.Add(ref ar, (nint)i * lda);
                Dot4Rows256(ref r0, lda, ref xr, n, out float d0, out float d1, out float d2, out float d3);
                y[i] = Combine(alpha, d0, beta, y[i]);
                y[i + 1] = Combine(alpha, d1, beta, y[i + 1]);
                y[i + 2] = Combine(alpha, d2, beta, y[i + 2]);
                y[i + 3] = Combine(alpha, d3, beta, y[i + 3]);
            }
        }

        for (; i < m; i++)
        {
            float dot = width == SimdWidth.Scalar ? DotScalar(a.Slice(i * lda, n), x) : TensorPrimitives.Dot(a.Slice(i * lda, n), x);
            y[i] = Combine(alpha, dot, beta, y[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Combine(float alpha, float dot, float beta, float previous) =>
        beta == 0f ? alpha * dot : alpha * dot + beta * previous;

    private static float DotScalar(ReadOnlySpan<float> u, ReadOnlySpan<float> v)
    {
        float sum = 0f;
        for (int j = 0; j < u.Length; j++)
        {
            sum += u[j] * v[j];
        }

        return sum;
    }

    /// <summary>
    /// One row's dot product with x exactly as <see cref="DotRows"/> forms it for a row inside a group of four (the
    /// kernel's per-row chain: one 256-bit FMA accumulator, the masked overlapping last vector, then
    /// <see cref="Vector256.Sum{T}(Vector256{T})"/>), without loading the group's other three rows: each row's chain in
    /// <see cref="Dot4Rows256"/> depends on that row alone, so the bits are the same. On the scalar path (no hardware
    /// intrinsics, or forced) it is the plain loop <see cref="DotRows"/> uses for every row there.
    /// </summary>
    /// <param name="row">The row: at least n values.</param>
    /// <param name="x">The vector: n ≥ 8 values.</param>
    /// <returns>The dot product, bit for bit the grouped kernel's.</returns>
    internal static float GroupedRowDot(ReadOnlySpan<float> row, ReadOnlySpan<float> x)
    {
        int n = x.Length;
        if (n < Vector256<float>.Count || row.Length < n)
        {
            ThrowHelper.ThrowArgument(nameof(row), $"GroupedRowDot: a row of {row.Length} and x of {n} (at least 8) do not fit.");
        }

        if (Simd.Current == SimdWidth.Scalar)
        {
            return DotScalar(row[..n], x); // DotRows' scalar path forms every row this way
        }

        ref float r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        Vector256<float> s = default;
        int j = 0;
        for (; j + Vector256<float>.Count <= n; j += Vector256<float>.Count)
        {
            s = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, (nuint)j), Vector256.LoadUnsafe(ref xr, (nuint)j), s);
        }

        if (j < n)
        {
            int last = n - Vector256<float>.Count; // as Dot4Rows256: the product masked, not an operand
            Vector256<float> keep = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create(last), Vector256.Create(j)).AsSingle();
            s += Vector256.LoadUnsafe(ref r, (nuint)last) * Vector256.LoadUnsafe(ref xr, (nuint)last) & keep;
        }

        return Vector256.Sum(s);
    }

    private static void Dot4Rows256(ref float row0, int lda, ref float x, int n,
        out float d0, out float d1, out float d2, out float d3)
    {
        ref float row1 = ref Unsafe.Add(ref row0, lda);
        ref float row2 = ref Unsafe.Add(ref row1, lda);
        ref float row3 = ref Unsafe.Add(ref row2, lda);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j + Vector256<float>.Count <= n; j += Vector256<float>.Count)
        {
            Vector256<float> xv = Vector256.LoadUnsafe(ref x, (nuint)j);
            s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row0, (nuint)j), xv, s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row1, (nuint)j), xv, s1);
            s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row2, (nuint)j), xv, s2);
            s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row3, (nuint)j), xv, s3);
        }

        if (j < n)
        {
            // Overlapping last vector: mask the products of lanes the main loop already counted (masking the
            // product rather than an operand keeps an infinite element from turning into inf·0 = NaN).
            int last = n - Vector256<float>.Count;
            Vector256<float> keep = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create(last), Vector256.Create(j)).AsSingle();
            Vector256<float> xv = Vector256.LoadUnsafe(ref x, (nuint)last);
            s0 += Vector256.LoadUnsafe(ref row0, (nuint)last) * xv & keep;
            s1 += Vector256.LoadUnsafe(ref row1, (nuint)last) * xv & keep;
            s2 += Vector256.LoadUnsafe(ref row2, (nuint)last) * xv & keep;
            s3 += Vector256.LoadUnsafe(ref row3, (nuint)last) * xv & keep;
        }

        d0 = Vector256.Sum(s0);
        d1 = Vector256.Sum(s1);
        d2 = Vector256.Sum(s2);
        d3 = Vector256.Sum(s3);
    }
}

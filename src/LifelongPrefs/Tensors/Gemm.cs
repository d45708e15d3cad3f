using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Tensors;

/// <summary>Whether a GEMM or GEMV operand is used as stored or transposed.</summary>
public enum Transpose
{
    /// <summary>Use the matrix as stored: op(X) = X.</summary>
    None = 0,

    /// <summary>Use the transpose of the stored matrix: op(X) = Xᵀ.</summary>
    Transpose = 1,
}

public static partial class Kernels
{
    /// <summary>
    /// General matrix multiply on row-major storage: <c>C = alpha · op(A) · op(B) + beta · C</c>, where
    /// op(A) is <paramref name="m"/> × <paramref name="k"/>, op(B) is <paramref name="k"/> × <paramref name="n"/>
    /// and C is <paramref name="m"/> × <paramref name="n"/>.
    /// </summary>
    /// <param name="transA">Whether A is stored as op(A) (<see cref="Transpose.None"/>, m × k) or as its transpose (k × m).</param>
    /// <param name="transB">Whether B is stored as op(B) (<see cref="Transpose.None"/>, k × n) or as its transpose (n × k).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A) and rows of op(B): the inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Storage of A, row-major with row stride <paramref name="lda"/>.</param>
    /// <param name="lda">Distance between consecutive stored rows of A; at least the stored column count.</param>
    /// <param name="b">Storage of B, row-major with row stride <paramref name="ldb"/>.</param>
    /// <param name="ldb">Distance between consecutive stored rows of B; at least the stored column count.</param>
    /// <param name="beta">
    /// Scale of the existing C. When it is exactly 0, C is write-only: its previous contents (even NaN) are
    /// never read, as in BLAS.
    /// </param>
    /// <param name="c">Storage of C, row-major with row stride <paramref name="ldc"/>; must not overlap A or B.</param>
    /// <param name="ldc">Distance between consecutive rows of C; at least <paramref name="n"/>.</param>
    /// <param name="maxDegreeOfParallelism">
    /// Largest number of threads to use. The default, 1, runs on the calling thread and allocates nothing.
    /// Larger values split the rows of C across thread-pool threads when the product is big enough to
    /// pay for it (about 2²¹ multiply-adds); that path allocates the thread-pool bookkeeping.
    /// </param>
    /// <remarks>
    /// The product is cache-blocked (BLIS-style loops), both operands are packed into contiguous panels
    /// (which is also where the transposes are absorbed), and a register-tiled micro-kernel accumulates
    /// with fused multiply-adds on 512-bit vectors where AVX-512 is accelerated, else 256-bit vectors,
    /// else scalar code. NaN and infinity propagate as IEEE arithmetic dictates (except through a zero
    /// <paramref name="beta"/>, see above). Summation order depends on the vector width, so results can
    /// differ in the last bits between machines; on one machine they are deterministic.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A dimension is negative, a leading dimension is smaller than its stored row, or
    /// <paramref name="maxDegreeOfParallelism"/> is less than 1.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// A span is too short for its dimensions and leading dimension, or <paramref name="c"/> overlaps
    /// <paramref name="a"/> or <paramref name="b"/>.
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The span form (optional parallelism) and the tensor form (optional alpha, beta) take different arguments and ship together.")]
    public static void Gemm(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int maxDegreeOfParallelism = 1)
    {
        ValidateTranspose(transA);
        ValidateTranspose(transB);
        Guard.NonNegative(m);
        Guard.NonNegative(n);
        Guard.NonNegative(k);
        if (maxDegreeOfParallelism < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism,
                $"'{nameof(maxDegreeOfParallelism)}' must be at least 1 but was {maxDegreeOfParallelism}.");
        }

        bool aT = transA == Transpose.Transpose;
        bool bT = transB == Transpose.Transpose;
        ValidateMatrix(a, aT ? k : m, aT ? m : k, lda, nameof(a), nameof(lda));
        ValidateMatrix(b, bT ? n : k, bT ? k : n, ldb, nameof(b), nameof(ldb));
        ValidateMatrix(c, m, n, ldc, nameof(c), nameof(ldc));
        if (m == 0 || n == 0)
        {
            return;
        }

        Span<float> cUsed = c[..((m - 1) * ldc + n)];
        if (k > 0)
        {
            Guard.NoOverlap(a[..StorageLength(aT ? k : m, aT ? m : k, lda)], cUsed, nameof(a), nameof(c));
            Guard.NoOverlap(b[..StorageLength(bT ? n : k, bT ? k : n, ldb)], cUsed, nameof(b), nameof(c));
        }

        if (k == 0 || alpha == 0f)
        {
            // No product to add: C = beta * C (with beta == 0 meaning "overwrite", never "multiply NaN by 0").
            ScaleMatrix(cUsed, m, n, ldc, beta);
            return;
        }

        if (n == 1 && ldc == 1 && (bT || ldb == 1))
        {
            // A matrix-vector product (e.g. a layer with one output): packing would pad the single column of B
            // to a whole register tile, 16× the work, so take the GEMV path on the contiguous vectors instead.
            Gemv(transA, aT ? k : m, aT ? m : k, alpha, a, lda, b[..k], beta, c[..m]);
            return;
        }

        GemmDriver.Run(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, cUsed, ldc, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Dense matrix product of contiguous row-major matrices: <c>C = A · B</c> with A of shape
    /// <paramref name="m"/> × <paramref name="k"/>, B of shape <paramref name="k"/> × <paramref name="n"/>
    /// and C of shape <paramref name="m"/> × <paramref name="n"/> (overwritten).
    /// </summary>
    /// <param name="a">A, exactly m·k elements.</param>
    /// <param name="b">B, exactly k·n elements.</param>
    /// <param name="c">C, exactly m·n elements; must not overlap A or B.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A span's length does not match its shape, or C overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        Guard.NonNegative(m);
        Guard.NonNegative(k);
        Guard.NonNegative(n);
        Guard.Length(a, m * k);
        Guard.Length(b, k * n);
        Guard.Length(c, m * n);
        Gemm(Transpose.None, Transpose.None, m, n, k, 1f, a, Math.Max(k, 1), b, Math.Max(n, 1), 0f, c, Math.Max(n, 1));
    }

    /// <summary>
    /// <c>C = alpha · op(A) · op(B) + beta · C</c> on rank-2 tensors; the dimensions come from the shapes.
    /// </summary>
    /// <param name="a">A, stored as op(A) or its transpose according to <paramref name="transA"/>.</param>
    /// <param name="transA">Whether to use A or Aᵀ.</param>
    /// <param name="b">B, stored as op(B) or its transpose according to <paramref name="transB"/>.</param>
    /// <param name="transB">Whether to use B or Bᵀ.</param>
    /// <param name="c">C, of shape m × n; must not share storage with A or B.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C (exactly 0: C is overwritten without being read).</param>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor is not rank 2, the inner dimensions differ, C has the wrong shape, or C overlaps an input.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The span form (optional parallelism) and the tensor form (optional alpha, beta) take different arguments and ship together.")]
    public static void Gemm(Tensor a, Transpose transA, Tensor b, Transpose transB, Tensor c, float alpha = 1f, float beta = 0f)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        RequireRank2(a, nameof(a));
        RequireRank2(b, nameof(b));
        RequireRank2(c, nameof(c));
        int m = transA == Transpose.Transpose ? a.Shape[1] : a.Shape[0];
        int k = transA == Transpose.Transpose ? a.Shape[0] : a.Shape[1];
        int kb = transB == Transpose.Transpose ? b.Shape[1] : b.Shape[0];
        int n = transB == Transpose.Transpose ? b.Shape[0] : b.Shape[1];
        if (kb != k)
        {
            ThrowHelper.ThrowArgument(nameof(b), $"Inner dimensions differ: op(a) is {m} x {k} but op(b) is {kb} x {n}.");
        }

        if (c.Shape[0] != m || c.Shape[1] != n)
        {
            ThrowHelper.ThrowArgument(nameof(c), $"'{nameof(c)}' is {c} but op(a) · op(b) is {m} x {n}.");
        }

        Gemm(transA, transB, m, n, k, alpha, a.Span, Math.Max(1, a.Shape[1]), b.Span, Math.Max(1, b.Shape[1]), beta, c.Span, Math.Max(1, n));
    }

    private static void RequireRank2(Tensor tensor, string name)
    {
        if (tensor.Rank != 2)
        {
            ThrowHelper.ThrowArgument(name, $"'{name}' must be a rank-2 tensor but is {tensor}.");
        }
    }

    private static void ValidateTranspose(Transpose transpose, [CallerArgumentExpression(nameof(transpose))] string name = "")
    {
        if (transpose is not (Transpose.None or Transpose.Transpose))
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, transpose, $"'{name}' must be Transpose.None or Transpose.Transpose but was {transpose}.");
        }
    }

    /// <summary>Checks a stored rows × cols matrix with row stride ld fits in a span of the given length.</summary>
    private static void ValidateMatrix(ReadOnlySpan<float> storage, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
        {
            ThrowHelper.ThrowArgumentOutOfRange(ldName, ld,
                $"'{ldName}' must be at least max(1, {cols}) (the stored row length of '{name}') but was {ld}.");
        }

        int required = StorageLength(rows, cols, ld);
        if (storage.Length < required)
        {
            ThrowHelper.ThrowArgument(name,
                $"Span '{name}' has length {storage.Length} but a {rows} x {cols} matrix with row stride {ld} needs at least {required}.");
        }
    }

    private static int StorageLength(int rows, int cols, int ld) =>
        rows == 0 || cols == 0 ? 0 : checked((rows - 1) * ld + cols);

    /// <summary>C = beta · C over the m × n window, where beta == 0 overwrites with zeros.</summary>
    private static void ScaleMatrix(Span<float> c, int m, int n, int ldc, float beta)
    {
        if (beta == 1f)
        {
            return;
        }

        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }
}

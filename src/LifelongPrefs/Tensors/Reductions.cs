using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Sums each row of a row-major matrix: <c>destination[r] = Σ_c x[r, c]</c>.
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns; when 0 every sum is 0.</param>
    /// <param name="destination">Receives the <paramref name="rows"/> sums; must not overlap <paramref name="x"/>.</param>
    /// <remarks>
    /// Each row is summed by <see cref="TensorPrimitives.Sum{T}(ReadOnlySpan{T})"/> (several vector
    /// accumulators), so the rounding differs from a left-to-right loop in the last bits. NaN propagates,
    /// and a row holding both +∞ and −∞ sums to NaN.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, <paramref name="destination"/> is
    /// shorter than <paramref name="rows"/>, or it overlaps <paramref name="x"/>.
    /// </exception>
    public static void SumRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        ReductionGuard.Matrix(x, rows, columns);
        Guard.Destination(destination, rows);
        Guard.NoOverlap(x, destination);

        for (int r = 0; r < rows; r++)
        {
            destination[r] = TensorPrimitives.Sum(x.Slice(r * columns, columns));
        }
    }

    /// <summary>
    /// Sums each column of a row-major matrix: <c>destination[c] = Σ_r x[r, c]</c> (for example, the gradient
    /// of a bias added to every row).
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows; when 0 every sum is 0.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="destination">Receives the <paramref name="columns"/> sums; must not overlap <paramref name="x"/>.</param>
    /// <remarks>
    /// Vectorised across columns; each column is accumulated over the rows in order 0, 1, …, so the result
    /// is bit-identical on every vector width. NaN propagates, and a column holding both +∞ and −∞ sums
    /// to NaN.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, <paramref name="destination"/> is
    /// shorter than <paramref name="columns"/>, or it overlaps <paramref name="x"/>.
    /// </exception>
    public static void SumColumns(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        ReductionGuard.Matrix(x, rows, columns);
        Guard.Destination(destination, columns);
        Guard.NoOverlap(x, destination);

        ColumnReducer.Sum(x, rows, columns, destination);
    }

    /// <summary>
    /// Mean of each row of a row-major matrix: <c>destination[r] = (Σ_c x[r, c]) / columns</c>.
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns; must be positive unless <paramref name="rows"/> is 0.</param>
    /// <param name="destination">Receives the <paramref name="rows"/> means; must not overlap <paramref name="x"/>.</param>
    /// <remarks>
    /// A mean of zero elements is undefined, so an empty row is rejected rather than silently returned as
    /// NaN; with no rows there is nothing to average and the call does nothing. NaN propagates.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, or <paramref name="columns"/> is 0 while
    /// <paramref name="rows"/> is positive.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, <paramref name="destination"/> is
    /// shorter than <paramref name="rows"/>, or it overlaps <paramref name="x"/>.
    /// </exception>
    public static void MeanRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        ReductionGuard.Matrix(x, rows, columns);
        ReductionGuard.NonEmptyMean(columns, rows, nameof(columns), nameof(rows));
        Guard.Destination(destination, rows);
        Guard.NoOverlap(x, destination);

        for (int r = 0; r < rows; r++)
        {
            destination[r] = TensorPrimitives.Sum(x.Slice(r * columns, columns)) / columns;
        }
    }

    /// <summary>
    /// Mean of each column of a row-major matrix: <c>destination[c] = (Σ_r x[r, c]) / rows</c>.
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows; must be positive unless <paramref name="columns"/> is 0.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="destination">Receives the <paramref name="columns"/> means; must not overlap <paramref name="x"/>.</param>
    /// <remarks>
    /// A mean of zero elements is undefined, so an empty column (no rows) is rejected rather than silently
    /// returned as NaN; with no columns the call does nothing. Bit-identical on every vector width (see
    /// <see cref="SumColumns"/>). NaN propagates.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, or <paramref name="rows"/> is 0 while
    /// <paramref name="columns"/> is positive.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, <paramref name="destination"/> is
    /// shorter than <paramref name="columns"/>, or it overlaps <paramref name="x"/>.
    /// </exception>
    public static void MeanColumns(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        ReductionGuard.Matrix(x, rows, columns);
        ReductionGuard.NonEmptyMean(rows, columns, nameof(rows), nameof(columns));
        Guard.Destination(destination, columns);
        Guard.NoOverlap(x, destination);

        ColumnReducer.Sum(x, rows, columns, destination);
        if (columns > 0)
        {
            // Divide rather than multiply by 1/rows: one rounding instead of two.
            TensorPrimitives.Divide(destination[..columns], rows, destination);
        }
    }

    /// <summary>
    /// Mean and population variance of each row of a row-major matrix, as layer normalisation uses:
    /// <c>mean[r] = Σ_c x[r, c] / columns</c>, <c>variance[r] = Σ_c (x[r, c] − mean[r])² / columns</c>.
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns; must be positive unless <paramref name="rows"/> is 0.</param>
    /// <param name="mean">Receives the <paramref name="rows"/> means.</param>
    /// <param name="variance">Receives the <paramref name="rows"/> variances (biased: divided by the count, not count − 1).</param>
    /// <remarks>
    /// Two passes over each row: the mean first, then the squared deviations from it, so a large common offset
    /// cannot cancel catastrophically as in <c>E[x²] − E[x]²</c>. The second pass also sums the plain deviations
    /// and subtracts <c>(Σd)² / n</c>, which removes the error of the rounded mean (the corrected two-pass
    /// algorithm of Chan, Golub &amp; LeVeque). Variances are never negative. NaN or infinity in a row makes
    /// its variance NaN (and its mean NaN or infinite).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, or <paramref name="columns"/> is 0 while
    /// <paramref name="rows"/> is positive.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, a destination is shorter than
    /// <paramref name="rows"/>, or any two of <paramref name="x"/>, <paramref name="mean"/> and
    /// <paramref name="variance"/> overlap.
    /// </exception>
    public static void MeanVarianceRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> mean, Span<float> variance)
    {
        ReductionGuard.Matrix(x, rows, columns);
        ReductionGuard.NonEmptyMean(columns, rows, nameof(columns), nameof(rows));
        Guard.Destination(mean, rows);
        Guard.Destination(variance, rows);
        Guard.NoOverlap(x, mean);
        Guard.NoOverlap(x, variance);
        Guard.NoOverlap(mean, variance);

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * columns, columns);
            float m = TensorPrimitives.Sum(row) / columns;
            (float deviations, float squares) = RowReducer.DeviationSums(row, m);
            mean[r] = m;
            variance[r] = ReductionGuard.CorrectedVariance(deviations, squares, columns);
        }
    }

    /// <summary>
    /// Mean and population variance of each column of a row-major matrix, as batch normalisation uses:
    /// <c>mean[c] = Σ_r x[r, c] / rows</c>, <c>variance[c] = Σ_r (x[r, c] − mean[c])² / rows</c>.
    /// </summary>
    /// <param name="x">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix.</param>
    /// <param name="rows">Number of rows; must be positive unless <paramref name="columns"/> is 0.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="mean">Receives the <paramref name="columns"/> means (identical to <see cref="MeanColumns"/>).</param>
    /// <param name="variance">Receives the <paramref name="columns"/> variances (biased: divided by the count, not count − 1).</param>
    /// <remarks>
    /// Two passes, vectorised across columns: the means first, then the squared deviations from them, so a
    /// large common offset cannot cancel catastrophically as in <c>E[x²] − E[x]²</c>. The second pass also
    /// sums the plain deviations and subtracts <c>(Σd)² / n</c>, which removes the error of the rounded
    /// mean (the corrected two-pass algorithm of Chan, Golub &amp; LeVeque). Variances are never negative.
    /// NaN or infinity in a column makes its variance NaN (and its mean NaN or infinite).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rows"/> or <paramref name="columns"/> is negative, or <paramref name="rows"/> is 0 while
    /// <paramref name="columns"/> is positive.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not have exactly <c>rows · columns</c> elements, a destination is shorter than
    /// <paramref name="columns"/>, or any two of <paramref name="x"/>, <paramref name="mean"/> and
    /// <paramref name="variance"/> overlap.
    /// </exception>
    public static void MeanVarianceColumns(ReadOnlySpan<float> x, int rows, int columns, Span<float> mean, Span<float> variance)
    {
        ReductionGuard.Matrix(x, rows, columns);
        ReductionGuard.NonEmptyMean(rows, columns, nameof(rows), nameof(columns));
        Guard.Destination(mean, columns);
        Guard.Destination(variance, columns);
        Guard.NoOverlap(x, mean);
        Guard.NoOverlap(x, variance);
        Guard.NoOverlap(mean, variance);

        if (columns == 0)
        {
            return;
        }

        ColumnReducer.Sum(x, rows, columns, mean);
        TensorPrimitives.Divide(mean[..columns], rows, mean);
        ColumnReducer.Variance(x, rows, columns, mean, variance);
    }
}

/// <summary>Shape checks and small formulas shared by the reductions.</summary>
file static class ReductionGuard
{
    internal static void Matrix(ReadOnlySpan<float> x, int rows, int columns)
    {
        Guard.NonNegative(rows);
        Guard.NonNegative(columns);
        if ((long)rows * columns != x.Length)
        {
            ThrowHelper.ThrowArgument(nameof(x),
                $"Span 'x' has length {x.Length} but a {rows} x {columns} matrix needs {(long)rows * columns}.");
        }
    }

    /// <summary>Rejects a mean over zero elements: <paramref name="count"/> 0 with outputs to produce.</summary>
    internal static void NonEmptyMean(int count, int outputs, string countName, string outputsName)
    {
        if (count == 0 && outputs > 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(countName, count,
                $"'{countName}' must be positive when '{outputsName}' is {outputs}: a mean of zero elements is undefined.");
        }
    }

    /// <summary>(Σd² − (Σd)²/n) / n, clamped at 0 (rounding can dip below); NaN passes through.</summary>
    internal static float CorrectedVariance(float deviations, float squares, int count)
    {
        float v = (squares - deviations * deviations / count) / count;
        return v < 0f ? 0f : v;
    }
}

/// <summary>Within-row reductions that <see cref="TensorPrimitives"/> does not offer.</summary>
file static class RowReducer
{
    /// <summary>Returns (Σ (x − center), Σ (x − center)²) over <paramref name="x"/>.</summary>
    internal static (float Deviations, float Squares) DeviationSums(ReadOnlySpan<float> x, float center)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            Vector512<float> c = Vector512.Create(center);
            Vector512<float> s1 = Vector512<float>.Zero;
            Vector512<float> s2 = Vector512<float>.Zero;
            int i = 0;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> d = Vector512.LoadUnsafe(ref xr, (nuint)i) - c;
                s1 += d;
                s2 = Vector512.MultiplyAddEstimate(d, d, s2);
            }

            if (i < n)
            {
                // Re-read the last full vector and zero the lanes the loop already counted, instead of a
                // scalar remainder loop.
                int start = n - Vector512<float>.Count;
                Vector512<float> fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(i - start)).AsSingle();
                Vector512<float> d = (Vector512.LoadUnsafe(ref xr, (nuint)start) - c) & fresh;
                s1 += d;
                s2 = Vector512.MultiplyAddEstimate(d, d, s2);
            }

            return (Vector512.Sum(s1), Vector512.Sum(s2));
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            Vector256<float> c = Vector256.Create(center);
            Vector256<float> s1 = Vector256<float>.Zero;
            Vector256<float> s2 = Vector256<float>.Zero;
            int i = 0;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> d = Vector256.LoadUnsafe(ref xr, (nuint)i) - c;
                s1 += d;
                s2 = Vector256.MultiplyAddEstimate(d, d, s2);
            }

            if (i < n)
            {
                int start = n - Vector256<float>.Count;
                Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(i - start)).AsSingle();
                Vector256<float> d = (Vector256.LoadUnsafe(ref xr, (nuint)start) - c) & fresh;
                s1 += d;
                s2 = Vector256.MultiplyAddEstimate(d, d, s2);
            }

            return (Vector256.Sum(s1), Vector256.Sum(s2));
        }

        float deviations = 0f;
        float squares = 0f;
        for (int i = 0; i < n; i++)
        {
            float d = Unsafe.Add(ref xr, i) - center;
            deviations += d;
            squares += d * d;
        }

        return (deviations, squares);
    }
}

/// <summary>
/// Column reductions of a row-major matrix, vectorised across columns. Every lane owns one column and
/// walks the rows in order, so the columns in the overlapping last vector are recomputed bit-identically
/// (no scalar tail needed) and the result does not depend on the vector width. Callers validate.
/// </summary>
file static class ColumnReducer
{
    /// <summary>destination[c] = Σ_r x[r, c], rows accumulated in order.</summary>
    internal static void Sum(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && columns >= Vector512<float>.Count)
        {
            const int W = 16;
            int j = 0;

            // Four column vectors at a time give four independent add chains per row, so the loop is
            // not bound by the latency of a single accumulator.
            for (; j <= columns - 4 * W; j += 4 * W)
            {
                Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    a0 += Vector512.LoadUnsafe(ref p);
                    a1 += Vector512.LoadUnsafe(ref p, W);
                    a2 += Vector512.LoadUnsafe(ref p, 2 * W);
                    a3 += Vector512.LoadUnsafe(ref p, 3 * W);
                }

                a0.StoreUnsafe(ref dr, (nuint)j);
                a1.StoreUnsafe(ref dr, (nuint)(j + W));
                a2.StoreUnsafe(ref dr, (nuint)(j + 2 * W));
                a3.StoreUnsafe(ref dr, (nuint)(j + 3 * W));
            }

            for (; j < columns; j += W)
            {
                j = Math.Min(j, columns - W);
                Vector512<float> a = Vector512<float>.Zero;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    a += Vector512.LoadUnsafe(ref p);
                }

                a.StoreUnsafe(ref dr, (nuint)j);
            }

            return;
        }

        if (width >= SimdWidth.Vector256 && columns >= Vector256<float>.Count)
        {
            const int W = 8;
            int j = 0;
            for (; j <= columns - 4 * W; j += 4 * W)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    a0 += Vector256.LoadUnsafe(ref p);
                    a1 += Vector256.LoadUnsafe(ref p, W);
                    a2 += Vector256.LoadUnsafe(ref p, 2 * W);
                    a3 += Vector256.LoadUnsafe(ref p, 3 * W);
                }

                a0.StoreUnsafe(ref dr, (nuint)j);
                a1.StoreUnsafe(ref dr, (nuint)(j + W));
                a2.StoreUnsafe(ref dr, (nuint)(j + 2 * W));
                a3.StoreUnsafe(ref dr, (nuint)(j + 3 * W));
            }

            for (; j < columns; j += W)
            {
                j = Math.Min(j, columns - W);
                Vector256<float> a = Vector256<float>.Zero;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    a += Vector256.LoadUnsafe(ref p);
                }

                a.StoreUnsafe(ref dr, (nuint)j);
            }

            return;
        }

        // Scalar: stream the matrix row by row (cache-friendly) with the destination as accumulator; the
        // per-column order of additions is the same as in the vector paths.
        Span<float> sums = destination[..columns];
        sums.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * columns, columns);
            for (int j = 0; j < columns; j++)
            {
                sums[j] += row[j];
            }
        }
    }

    /// <summary>
    /// variance[c] = corrected two-pass variance of column c about <paramref name="mean"/>[c]. Requires
    /// <paramref name="rows"/> &gt; 0.
    /// </summary>
    internal static void Variance(ReadOnlySpan<float> x, int rows, int columns, ReadOnlySpan<float> mean, Span<float> variance)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float mr = ref MemoryMarshal.GetReference(mean);
        ref float vr = ref MemoryMarshal.GetReference(variance);
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && columns >= Vector512<float>.Count)
        {
            const int W = 16;
            Vector512<float> n = Vector512.Create((float)rows);
            for (int j = 0; j < columns; j += W)
            {
                j = Math.Min(j, columns - W);
                Vector512<float> c = Vector512.LoadUnsafe(ref mr, (nuint)j);
                Vector512<float> s1 = Vector512<float>.Zero;
                Vector512<float> s2 = Vector512<float>.Zero;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    Vector512<float> d = Vector512.LoadUnsafe(ref p) - c;
                    s1 += d;
                    s2 = Vector512.MultiplyAddEstimate(d, d, s2);
                }

                Vector512<float> v = (s2 - s1 * s1 / n) / n;
                // Clamp rounding below zero; a false compare keeps NaN.
                Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512<float>.Zero, v)
                    .StoreUnsafe(ref vr, (nuint)j);
            }

            return;
        }

        if (width >= SimdWidth.Vector256 && columns >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> n = Vector256.Create((float)rows);
            for (int j = 0; j < columns; j += W)
            {
                j = Math.Min(j, columns - W);
                Vector256<float> c = Vector256.LoadUnsafe(ref mr, (nuint)j);
                Vector256<float> s1 = Vector256<float>.Zero;
                Vector256<float> s2 = Vector256<float>.Zero;
                ref float p = ref Unsafe.Add(ref xr, j);
                for (int r = 0; r < rows; r++, p = ref Unsafe.Add(ref p, columns))
                {
                    Vector256<float> d = Vector256.LoadUnsafe(ref p) - c;
                    s1 += d;
                    s2 = Vector256.MultiplyAddEstimate(d, d, s2);
                }

                Vector256<float> v = (s2 - s1 * s1 / n) / n;
                Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v)
                    .StoreUnsafe(ref vr, (nuint)j);
            }

            return;
        }

        for (int j = 0; j < columns; j++)
        {
            float c = mean[j];
            float deviations = 0f;
            float squares = 0f;
            for (int r = 0; r < rows; r++)
            {
                float d = x[r * columns + j] - c;
                deviations += d;
                squares += d * d;
            }

            variance[j] = ReductionGuard.CorrectedVariance(deviations, squares, rows);
        }
    }
}

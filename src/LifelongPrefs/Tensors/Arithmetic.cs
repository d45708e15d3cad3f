using System.Numerics.Tensors;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>Element-wise sum: <c>destination[i] = x[i] + y[i]</c>.</summary>
    /// <param name="x">First operand.</param>
    /// <param name="y">Second operand; must have the same length as <paramref name="x"/>.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> or
    /// <paramref name="y"/> (in place), but must not partially overlap either.
    /// </param>
    /// <remarks>IEEE arithmetic: NaN propagates and <c>∞ + (−∞)</c> is NaN.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="y"/> differs in length from <paramref name="x"/>, <paramref name="destination"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="destination"/> partially overlaps an input.
    /// </exception>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        ArithmeticGuard.Binary(x, y, destination);
        TensorPrimitives.Add(x, y, destination);
    }

    /// <summary>Element-wise difference: <c>destination[i] = x[i] - y[i]</c>.</summary>
    /// <param name="x">Minuend.</param>
    /// <param name="y">Subtrahend; must have the same length as <paramref name="x"/>.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> or
    /// <paramref name="y"/> (in place), but must not partially overlap either.
    /// </param>
    /// <remarks>IEEE arithmetic: NaN propagates and <c>∞ − ∞</c> is NaN.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="y"/> differs in length from <paramref name="x"/>, <paramref name="destination"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="destination"/> partially overlaps an input.
    /// </exception>
    public static void Subtract(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        ArithmeticGuard.Binary(x, y, destination);
        TensorPrimitives.Subtract(x, y, destination);
    }

    /// <summary>Element-wise (Hadamard) product: <c>destination[i] = x[i] · y[i]</c>.</summary>
    /// <param name="x">First factor.</param>
    /// <param name="y">Second factor; must have the same length as <paramref name="x"/>.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> or
    /// <paramref name="y"/> (in place), but must not partially overlap either.
    /// </param>
    /// <remarks>IEEE arithmetic: NaN propagates and <c>0 · ∞</c> is NaN.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="y"/> differs in length from <paramref name="x"/>, <paramref name="destination"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="destination"/> partially overlaps an input.
    /// </exception>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        ArithmeticGuard.Binary(x, y, destination);
        TensorPrimitives.Multiply(x, y, destination);
    }

    /// <summary>Scales every element: <c>destination[i] = alpha · x[i]</c>.</summary>
    /// <param name="x">Values to scale.</param>
    /// <param name="alpha">Scale factor.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>
    /// IEEE arithmetic: NaN in <paramref name="x"/> or <paramref name="alpha"/> propagates, and a zero
    /// <paramref name="alpha"/> times an infinite element is NaN (it does not clear the destination).
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void Scale(ReadOnlySpan<float> x, float alpha, Span<float> destination)
    {
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        TensorPrimitives.Multiply(x, alpha, destination);
    }

    /// <summary>
    /// BLAS-style <c>axpy</c>: accumulates a scaled vector into another, <c>y[i] += alpha · x[i]</c>.
    /// </summary>
    /// <param name="alpha">Scale applied to <paramref name="x"/>.</param>
    /// <param name="x">Values to add; must have the same length as <paramref name="y"/>.</param>
    /// <param name="y">Accumulator: both an input and the destination.</param>
    /// <remarks>
    /// The product and the sum may or may not be fused into one rounding, depending on the hardware.
    /// NaN propagates as in IEEE arithmetic; a zero <paramref name="alpha"/> still turns infinite or NaN
    /// elements of <paramref name="x"/> into NaN in <paramref name="y"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="y"/> differs in length from <paramref name="x"/>, or the two partially overlap.
    /// </exception>
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.Length(y, x.Length);
        Guard.NoPartialOverlap(x, y);
        TensorPrimitives.MultiplyAdd(x, alpha, y, y);
    }

    /// <summary>
    /// Adds a bias vector to every row of a row-major matrix in place:
    /// <c>matrix[r, c] += bias[c]</c>.
    /// </summary>
    /// <param name="bias">One value per column; length <paramref name="columns"/>.</param>
    /// <param name="matrix">Row-major <paramref name="rows"/> × <paramref name="columns"/> matrix, updated in place.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns.</param>
    /// <remarks>IEEE arithmetic: NaN in the bias or the matrix propagates.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="bias"/> does not have <paramref name="columns"/> elements, <paramref name="matrix"/> does not
    /// have exactly <c>rows · columns</c> elements, or the two spans overlap.
    /// </exception>
    public static void AddRowBias(ReadOnlySpan<float> bias, Span<float> matrix, int rows, int columns)
    {
        Guard.NonNegative(rows);
        Guard.NonNegative(columns);
        Guard.Length(bias, columns);
        if ((long)rows * columns != matrix.Length)
        {
            ThrowHelper.ThrowArgument(nameof(matrix),
                $"Span 'matrix' has length {matrix.Length} but a {rows} x {columns} matrix needs {(long)rows * columns}.");
        }

        // Every row re-reads the whole bias, so any aliasing (even at the same start) would feed updated
        // values back in.
        Guard.NoOverlap(bias, matrix);

        for (int r = 0; r < rows; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}

/// <summary>Validation shared by the binary arithmetic kernels (file-local so it cannot clash with other parts of <see cref="Kernels"/>).</summary>
file static class ArithmeticGuard
{
    internal static void Binary(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        // Parameter names here match the public kernels', so the captured argument names stay right.
        Guard.Length(y, x.Length);
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        Guard.NoPartialOverlap(y, destination);
    }
}

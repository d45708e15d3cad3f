using System.Numerics.Tensors;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Computes a numerically stable softmax of every row of the row-major matrix
    /// <paramref name="x"/>: <c>destination[r, j] = exp(x[r, j] - m) / Σ_k exp(x[r, k] - m)</c>,
    /// where <c>m</c> is the row maximum, so no exponent can overflow (softmax of
    /// <c>[1000, 0, -5]</c> is <c>[1, e^-1000, e^-1005]</c> rounded to float, not NaN).
    /// </summary>
    /// <param name="x">The input, <paramref name="rows"/> × <paramref name="columns"/> row-major.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="columns">The number of columns (the softmax axis).</param>
    /// <param name="destination">
    /// Receives the probabilities in its first <c>rows × columns</c> elements; the rest is untouched.
    /// It may be the same span as <paramref name="x"/> (in place).
    /// </param>
    /// <remarks>
    /// <para>
    /// A row containing NaN or +∞ becomes all NaN, and so does a row whose elements are all −∞
    /// (0/0, as in PyTorch). −∞ elements in an otherwise finite row get probability exactly 0.
    /// Probabilities below float's normal range (about 1.2e-38) may be flushed to 0.
    /// </para>
    /// <para>
    /// With <paramref name="rows"/> or <paramref name="columns"/> equal to 0 nothing is written.
    /// Row sums are accumulated in float vector lanes (folded into a double every 1024 elements),
    /// so results can differ in the last bits between vector widths.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not hold exactly <c>rows × columns</c> elements,
    /// <paramref name="destination"/> is shorter than that, or it partially overlaps <paramref name="x"/>.
    /// </exception>
    public static void SoftmaxRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        int total = SoftmaxRow.MatrixLength(x, rows, columns);
        Guard.Destination(destination, total);
        destination = destination[..total];
        Guard.NoPartialOverlap(x, destination);

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * columns, columns);
            Span<float> output = destination.Slice(r * columns, columns);
            float max = SoftmaxRow.Max(row, out bool hasNaN);
            if (hasNaN || !float.IsFinite(max))
            {
                // NaN or +inf in the row, or nothing but -inf: the distribution is undefined.
                output.Fill(float.NaN);
                continue;
            }

            float sum = SoftmaxRow.ExpSum<SoftmaxRow.Store>(row, max, output);
            // The max element contributes exp(0) = 1, so sum >= 1 and the reciprocal is safe.
            TensorPrimitives.Multiply(output, 1f / sum, output);
        }
    }

    /// <summary>
    /// Computes a numerically stable log-softmax of every row of the row-major matrix
    /// <paramref name="x"/>: <c>destination[r, j] = (x[r, j] - m) - log Σ_k exp(x[r, k] - m)</c>,
    /// where <c>m</c> is the row maximum.
    /// </summary>
    /// <param name="x">The input, <paramref name="rows"/> × <paramref name="columns"/> row-major.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="columns">The number of columns (the softmax axis).</param>
    /// <param name="destination">
    /// Receives the log-probabilities in its first <c>rows × columns</c> elements; the rest is
    /// untouched. It may be the same span as <paramref name="x"/> (in place).
    /// </param>
    /// <remarks>
    /// The shift by the maximum is applied before the log-sum is subtracted, so large logits
    /// (e.g. 1e4) keep their small differences. A row containing NaN or +∞ becomes all NaN, and so
    /// does a row whose elements are all −∞; −∞ elements in an otherwise finite row give −∞.
    /// With <paramref name="rows"/> or <paramref name="columns"/> equal to 0 nothing is written.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not hold exactly <c>rows × columns</c> elements,
    /// <paramref name="destination"/> is shorter than that, or it partially overlaps <paramref name="x"/>.
    /// </exception>
    public static void LogSoftmaxRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        int total = SoftmaxRow.MatrixLength(x, rows, columns);
        Guard.Destination(destination, total);
        destination = destination[..total];
        Guard.NoPartialOverlap(x, destination);

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * columns, columns);
            Span<float> output = destination.Slice(r * columns, columns);
            float max = SoftmaxRow.Max(row, out bool hasNaN);
            if (hasNaN || !float.IsFinite(max))
            {
                output.Fill(float.NaN);
                continue;
            }

            float sum = SoftmaxRow.ExpSum<SoftmaxRow.Discard>(row, max, default);
            SoftmaxRow.SubtractTwice(row, max, MathF.Log(sum), output);
        }
    }

    /// <summary>
    /// Computes <c>destination[r] = log Σ_j exp(x[r, j])</c> for every row of the row-major matrix
    /// <paramref name="x"/>, stably: as <c>m + log Σ_j exp(x[r, j] - m)</c> with <c>m</c> the row maximum.
    /// </summary>
    /// <param name="x">The input, <paramref name="rows"/> × <paramref name="columns"/> row-major.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="columns">The number of columns (the reduced axis).</param>
    /// <param name="destination">
    /// Receives one value per row in its first <paramref name="rows"/> elements. It may start at
    /// the same element as <paramref name="x"/>: row <c>r</c> is read completely before element
    /// <c>r</c>, which lies in a row already read, is written.
    /// </param>
    /// <remarks>
    /// An empty row (<paramref name="columns"/> = 0) and a row of only −∞ give −∞ (the log of an
    /// empty sum). A row containing NaN or +∞ gives NaN.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> does not hold exactly <c>rows × columns</c> elements,
    /// <paramref name="destination"/> is shorter than <paramref name="rows"/>, or it partially
    /// overlaps <paramref name="x"/>.
    /// </exception>
    public static void LogSumExpRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> destination)
    {
        SoftmaxRow.MatrixLength(x, rows, columns);
        Guard.Destination(destination, rows);
        destination = destination[..rows];
        Guard.NoPartialOverlap(x, destination);

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * columns, columns);
            float max = SoftmaxRow.Max(row, out bool hasNaN);
            float result;
            if (hasNaN || float.IsPositiveInfinity(max))
            {
                result = float.NaN;
            }
            else if (float.IsNegativeInfinity(max))
            {
                result = float.NegativeInfinity;
            }
            else
            {
                float sum = SoftmaxRow.ExpSum<SoftmaxRow.Discard>(row, max, default);
                // Add in double so a large max does not swallow a small log-sum before rounding once.
                result = (float)(max + Math.Log(sum));
            }

            destination[r] = result;
        }
    }
}

namespace LifelongPrefs.Data;

/// <summary>
/// Standardises feature columns to zero mean and unit variance: <c>z = (x − mean) / scale</c>, with the population
/// standard deviation as scale (as scikit-learn's StandardScaler). A column with zero variance gets scale 1, so it
/// maps to 0 instead of dividing by zero.
/// </summary>
/// <remarks>Data is row-major: <c>rows × Columns</c> floats. Statistics accumulate in double precision.</remarks>
internal sealed class StandardScaler
{
    private float[] _mean = [];
    private float[] _scale = [];

    /// <summary>Gets the number of columns fitted (0 before <see cref="Fit"/>).</summary>
    public int Columns => _mean.Length;

    /// <summary>Gets the fitted column means.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>Gets the fitted column scales (population standard deviation, or 1 for a zero-variance column).</summary>
    public ReadOnlySpan<float> Scale => _scale;

    /// <summary>Fits the means and scales of <paramref name="columns"/> columns.</summary>
    /// <param name="data">Row-major data: (rows, columns).</param>
    /// <param name="columns">The number of columns, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="columns"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The length is not a positive multiple of <paramref name="columns"/>, or a value is NaN or infinite. The scaler is then unchanged.</exception>
    public void Fit(ReadOnlySpan<float> data, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (data.Length == 0 || data.Length % columns != 0)
        {
            throw new ArgumentException($"'{nameof(data)}' length {data.Length} must be a positive multiple of {nameof(columns)} = {columns}.", nameof(data));
        }

        int rows = data.Length / columns;
        var sum = new double[columns];
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new ArgumentException($"'{nameof(data)}'[{i}] (row {i / columns}, column {i % columns}) is {data[i]}; values must be finite.", nameof(data));
            }

            sum[i % columns] += data[i];
        }

        var mean = new double[columns];
        for (int j = 0; j < columns; j++)
        {
            mean[j] = sum[j] / rows;
        }

        // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − E[x]².
        var squares = new double[columns];
        for (int i = 0; i < data.Length; i++)
        {
            double d = data[i] - mean[i % columns];
            squares[i % columns] += d * d;
        }

        var newMean = new float[columns];
        var newScale = new float[columns];
        for (int j = 0; j < columns; j++)
        {
            newMean[j] = (float)mean[j];
            double std = Math.Sqrt(squares[j] / rows);
            newScale[j] = std > 0 && (float)std > 0 ? (float)std : 1f;
        }

        _mean = newMean;
        _scale = newScale;
    }

    /// <summary>Standardises rows: <c>destination = (source − mean) / scale</c>. In-place (same span) is allowed.</summary>
    /// <param name="source">Row-major data: (rows, <see cref="Columns"/>).</param>
    /// <param name="destination">Receives the standardised data; same length.</param>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException">A length is not a multiple of <see cref="Columns"/> or the lengths differ.</exception>
    public void Transform(ReadOnlySpan<float> source, Span<float> destination)
    {
        Check(source, destination);
        for (int start = 0; start < source.Length; start += _mean.Length)
        {
            for (int j = 0; j < _mean.Length; j++)
            {
                destination[start + j] = (source[start + j] - _mean[j]) / _scale[j];
            }
        }
    }

    /// <summary>Undoes <see cref="Transform"/>: <c>destination = source · scale + mean</c>. In-place is allowed.</summary>
    /// <param name="source">Standardised row-major data.</param>
    /// <param name="destination">Receives data in the original units; same length.</param>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException">A length is not a multiple of <see cref="Columns"/> or the lengths differ.</exception>
    public void InverseTransform(ReadOnlySpan<float> source, Span<float> destination)
    {
        Check(source, destination);
        for (int start = 0; start < source.Length; start += _mean.Length)
        {
            for (int j = 0; j < _mean.Length; j++)
            {
                destination[start + j] = (source[start + j] * _scale[j]) + _mean[j];
            }
        }
    }

    private void Check(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (_mean.Length == 0)
        {
            throw new InvalidOperationException("The scaler must be fitted first.");
        }

        if (source.Length % _mean.Length != 0)
        {
            throw new ArgumentException($"'{nameof(source)}' length {source.Length} must be a multiple of {nameof(Columns)} = {_mean.Length}.", nameof(source));
        }

        if (destination.Length != source.Length)
        {
            throw new ArgumentException($"'{nameof(destination)}' length {destination.Length} must equal the source length {source.Length}.", nameof(destination));
        }
    }
}

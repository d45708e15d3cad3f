namespace LifelongPrefs.Data;

/// <summary>How <see cref="CsvReader"/> reads a file. Immutable; validated when a reader is created.</summary>
public sealed record CsvReaderOptions
{
    /// <summary>Gets the default options: comma, header line, strict.</summary>
    public static CsvReaderOptions Default { get; } = new();

    /// <summary>Gets the field delimiter.</summary>
    /// <value>',' by default. Must not be a double quote, CR or LF.</value>
    public char Delimiter { get; init; } = ',';

    /// <summary>Gets whether the first record is a header of column names.</summary>
    /// <value><see langword="true"/> by default.</value>
    public bool HasHeader { get; init; } = true;

    /// <summary>
    /// Gets whether malformed records are skipped and counted in <see cref="CsvReader.Report"/> (lenient) instead of
    /// throwing <see cref="CsvFormatException"/> (strict).
    /// </summary>
    /// <value><see langword="false"/> (strict) by default.</value>
    public bool Lenient { get; init; }

    /// <summary>Gets how many skipped records the report keeps with line number and reason.</summary>
    /// <value>10 by default; must be non-negative.</value>
    public int MaxReportedProblems { get; init; } = 10;

    internal void Validate()
    {
        if (Delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentException($"{nameof(Delimiter)} must not be a quote, CR or LF but was U+{(int)Delimiter:X4}.", nameof(Delimiter));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(MaxReportedProblems);
    }
}

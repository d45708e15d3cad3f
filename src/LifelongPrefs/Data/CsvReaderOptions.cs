namespace LifelongPrefs.Data;

/// <summary>How <see cref="CsvReader"/> reads a file. Immutable; validated when a reader is created.</summary>
public sealed record CsvReaderOptions
{
    /// <summary>Gets the default options: comma, header line, strict.</summary>
    public static CsvReaderOptions Default { get; } = new();

    /// <summary>Gets the field delimiter (the fallback when <see cref="DetectDelimiter"/> finds none).</summary>
    /// <value>',' by default. Must not be a double quote, CR or LF.</value>
    public char Delimiter { get; init; } = ',';

    /// <summary>
    /// Gets whether the reader chooses the delimiter itself from the first non-empty line (the header, or the first
    /// record without one): whichever of tab, comma, semicolon and pipe occurs most often outside quotes, ties in that
    /// order; <see cref="Delimiter"/> when none of them occurs (a one-column file). The choice is in
    /// <see cref="CsvReader.Delimiter"/>.
    /// </summary>
    /// <remarks>Only the first buffer of input (64 K characters) is looked at, so a longer first line is judged by its start.</remarks>
    /// <value><see langword="false"/> by default.</value>
    public bool DetectDelimiter { get; init; }

    /// <summary>
    /// Gets whether the first record is a header of column names. Without one, loaders address columns by their
    /// 1-based number (see <see cref="CsvColumnMapping"/>).
    /// </summary>
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

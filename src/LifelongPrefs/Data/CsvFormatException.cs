namespace LifelongPrefs.Data;

/// <summary>A CSV record is malformed: wrong field count, an unterminated quote, or a mapped value that does not parse.</summary>
/// <remarks>Thrown by strict readers; lenient readers record the same information in <see cref="CsvReadReport"/>.</remarks>
public sealed class CsvFormatException : FormatException
{
    /// <summary>Creates an exception for a bad record.</summary>
    /// <param name="lineNumber">The 1-based physical line on which the bad record starts.</param>
    /// <param name="reason">What is wrong with it.</param>
    public CsvFormatException(long lineNumber, string reason)
        : base($"CSV line {lineNumber}: {reason}")
    {
        LineNumber = lineNumber;
        Reason = reason;
    }

    /// <summary>Creates an exception with a message only (line number 0).</summary>
    public CsvFormatException()
        : this(0, "malformed CSV")
    {
    }

    /// <summary>Creates an exception with a message only (line number 0).</summary>
    /// <param name="message">The reason.</param>
    public CsvFormatException(string message)
        : this(0, message)
    {
    }

    /// <summary>Creates an exception wrapping another one (line number 0).</summary>
    /// <param name="message">The reason.</param>
    /// <param name="innerException">The cause.</param>
    public CsvFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>Gets the 1-based physical line on which the bad record starts (0 when unknown).</summary>
    public long LineNumber { get; }

    /// <summary>Gets what is wrong with the record.</summary>
    public string Reason { get; } = string.Empty;
}

/// <summary>One skipped record: where it started and why it was skipped.</summary>
/// <param name="LineNumber">The 1-based physical line on which the record starts.</param>
/// <param name="Reason">What was wrong with it.</param>
public readonly record struct CsvProblem(long LineNumber, string Reason);

/// <summary>What a lenient reader skipped: how many records, and the first few with line numbers and reasons.</summary>
public sealed class CsvReadReport
{
    private readonly List<CsvProblem> _samples = [];
    private readonly int _maxSamples;

    internal CsvReadReport(int maxSamples) => _maxSamples = maxSamples;

    /// <summary>Gets the number of records skipped as malformed.</summary>
    public long Skipped { get; private set; }

    /// <summary>Gets the first skipped records (at most <see cref="CsvReaderOptions.MaxReportedProblems"/>), in file order.</summary>
    public IReadOnlyList<CsvProblem> Samples => _samples;

    internal void Add(long lineNumber, string reason)
    {
        Skipped++;
        if (_samples.Count < _maxSamples)
        {
            _samples.Add(new CsvProblem(lineNumber, reason));
        }
    }

    /// <summary>Returns a one-line summary followed by one line per sample.</summary>
    /// <returns>The summary.</returns>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Skipped} malformed record(s) skipped");
        foreach (CsvProblem problem in _samples)
        {
            text.AppendLine();
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"  line {problem.LineNumber}: {problem.Reason}");
        }

        return text.ToString();
    }
}

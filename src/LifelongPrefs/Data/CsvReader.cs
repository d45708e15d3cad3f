using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace LifelongPrefs.Data;

/// <summary>
/// A streaming RFC-4180 CSV reader: quoted fields, doubled quotes, delimiters and line breaks inside quotes, CRLF
/// or LF line ends, an optional header; plain or gzip-compressed input. Only one record is held in memory at a
/// time, in buffers that are reused, and strings are made only for the fields a caller asks for.
/// </summary>
/// <remarks>
/// <para>Structure rules: every record must have as many fields as the header (or, without a header, as the first
/// record); a quoted field must be closed before the end of input, and a closing quote must be followed by a
/// delimiter or a line end. A double quote inside an unquoted field is kept as a literal character, as most
/// producers expect. Completely empty lines are skipped. A UTF-8 or UTF-16 byte-order mark is honoured.</para>
/// <para>A malformed record throws <see cref="CsvFormatException"/> in strict mode (the default); in lenient mode
/// it is skipped and counted in <see cref="Report"/>. Loaders that find a bad value in a mapped column report it
/// through <see cref="RejectRecord"/>, which follows the same rule.</para>
/// <para>Not thread-safe.</para>
/// </remarks>
internal sealed partial class CsvReader : IDisposable
{
    private const int BufferSize = 1 << 16;

    // The delimiters DetectDelimiter chooses among; a tie goes to the earlier one.
    private const string DelimiterCandidates = "\t,;|";

    private readonly TextReader _reader;
    private readonly bool _leaveOpen;
    private readonly CsvReaderOptions _options;
    private readonly char _delimiter;
    private readonly char[] _buffer = new char[BufferSize];
    private int _position;
    private int _length;
    private bool _endOfInput;

    // Physical line of the next character, counting LF, CR and CRLF each as one line break.
    private long _line = 1;
    private bool _previousWasCr;

    // The current record: unescaped field text packed into one buffer, with each field's end offset.
    private char[] _record = new char[256];
    private int[] _fieldEnds = new int[16];
    private int _fieldCount;
    private long _recordLine;
    private readonly string[] _header;
    private readonly int _expectedFields;
    private bool _expectedFromFirstRecord;
    private int _expectedFromData;

    /// <summary>Creates a reader over a stream; gzip input is recognised by its magic bytes (1F 8B) and decompressed.</summary>
    /// <param name="stream">A readable stream positioned at the start of the CSV text (or of the gzip member).</param>
    /// <param name="options">Reading options, or <see langword="null"/> for <see cref="CsvReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">Whether disposing the reader leaves <paramref name="stream"/> open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable, or the options are invalid.</exception>
    /// <exception cref="CsvFormatException">The header record is malformed (always thrown, even in lenient mode).</exception>
    public CsvReader(Stream stream, CsvReaderOptions? options = null, bool leaveOpen = false)
        : this(CreateTextReader(stream, leaveOpen), options, leaveOpen: false)
    {
    }

    /// <summary>Creates a reader over text that is already decoded.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="options">Reading options, or <see langword="null"/> for <see cref="CsvReaderOptions.Default"/>.</param>
    /// <param name="leaveOpen">Whether disposing the reader leaves <paramref name="reader"/> open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="CsvFormatException">The header record is malformed (always thrown, even in lenient mode).</exception>
    public CsvReader(TextReader reader, CsvReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= CsvReaderOptions.Default;
        options.Validate();
        _reader = reader;
        _leaveOpen = leaveOpen;
        _options = options;
        _delimiter = options.DetectDelimiter ? DetectDelimiter(options.Delimiter) : options.Delimiter;
        Report = new CsvReadReport(options.MaxReportedProblems);
        if (options.HasHeader)
        {
            string? problem = ParseRecord();
            if (problem is not null)
            {
                throw new CsvFormatException(_recordLine, "header: " + problem);
            }

            _header = new string[_fieldCount];
            for (int i = 0; i < _fieldCount; i++)
            {
                _header[i] = GetString(i);
            }

            _expectedFields = _fieldCount;
            _fieldCount = 0;
        }
        else
        {
            _header = [];
            _expectedFromFirstRecord = true;
        }
    }

    /// <summary>Opens a <c>.csv</c> or <c>.csv.gz</c> file (gzip is recognised by its magic bytes, whatever the extension).</summary>
    /// <param name="path">The file path.</param>
    /// <param name="options">Reading options, or <see langword="null"/> for <see cref="CsvReaderOptions.Default"/>.</param>
    /// <returns>A reader that owns the file handle.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or the options are invalid.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvFormatException">The header record is malformed.</exception>
    public static CsvReader Open(string path, CsvReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        try
        {
            return new CsvReader(file, options, leaveOpen: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Gets the column names from the header (empty when <see cref="CsvReaderOptions.HasHeader"/> is false).</summary>
    public IReadOnlyList<string> Header => _header;

    /// <summary>
    /// Gets the field delimiter in use: <see cref="CsvReaderOptions.Delimiter"/>, or the one chosen from the first line
    /// when <see cref="CsvReaderOptions.DetectDelimiter"/> is set.
    /// </summary>
    public char Delimiter => _delimiter;

    /// <summary>Gets what lenient reading skipped so far (always empty in strict mode, which throws instead).</summary>
    public CsvReadReport Report { get; }

    /// <summary>Gets the number of fields of the current record.</summary>
    public int FieldCount => _fieldCount;

    /// <summary>Gets the 1-based physical line on which the current record starts.</summary>
    public long LineNumber => _recordLine;

    /// <summary>Gets how many well-formed data records <see cref="Read"/> has returned (rejected ones included).</summary>
    public long RecordsRead { get; private set; }

    /// <summary>
    /// Returns the position of a header column: the column called exactly <paramref name="name"/>, else the one
    /// column whose name equals it ignoring case and surrounding white space (<c>customerid</c> finds
    /// <c>CustomerID</c>).
    /// </summary>
    /// <param name="name">The column name.</param>
    /// <returns>The 0-based column index.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// No header column is called <paramref name="name"/>, or several match it only when case is ignored (the message
    /// names them).
    /// </exception>
    public int GetOrdinal(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = Array.IndexOf(_header, name);
        if (index >= 0)
        {
            return index;
        }

        ReadOnlySpan<char> wanted = name.AsSpan().Trim();
        for (int i = 0; i < _header.Length; i++)
        {
            if (!_header[i].AsSpan().Trim().Equals(wanted, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (index >= 0)
            {
                throw new ArgumentException(
                    $"Column '{name}' is ambiguous: the header has both '{_header[index]}' and '{_header[i]}'; give the exact name.", nameof(name));
            }

            index = i;
        }

        if (index < 0)
        {
            string known = _header.Length == 0 ? "the file has no header" : "the header has " + string.Join(", ", _header);
            throw new ArgumentException($"Column '{name}' is not in the header ({known}).", nameof(name));
        }

        return index;
    }

    /// <summary>Advances to the next well-formed record, skipping (lenient) or throwing on (strict) malformed ones.</summary>
    /// <returns><see langword="true"/> if a record was read; <see langword="false"/> at the end of input.</returns>
    /// <exception cref="CsvFormatException">Strict mode and the next record is malformed.</exception>
    /// <exception cref="ObjectDisposedException">The reader was disposed.</exception>
    public bool Read()
    {
        while (true)
        {
            string? problem = ParseRecord();
            if (_fieldCount == 0 && problem is null)
            {
                return false;
            }

            if (problem is null)
            {
                if (_expectedFromFirstRecord)
                {
                    _expectedFromFirstRecord = false;
                    _expectedFromData = _fieldCount;
                }

                int expected = _options.HasHeader ? _expectedFields : _expectedFromData;
                if (_fieldCount != expected)
                {
                    problem = $"expected {expected} fields but found {_fieldCount}";
                }
            }

            if (problem is null)
            {
                RecordsRead++;
                return true;
            }

            Fail(problem);
        }
    }

    /// <summary>
    /// Rejects the current record because a value in it is unusable (for example an unparsable date in a mapped
    /// column): strict mode throws, lenient mode counts it in <see cref="Report"/> and the caller skips it.
    /// </summary>
    /// <param name="reason">Why the record is rejected (name the column and the value).</param>
    /// <exception cref="CsvFormatException">Strict mode.</exception>
    public void RejectRecord(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Fail(reason);
    }

    /// <summary>Gets the unescaped text of a field of the current record (valid until the next <see cref="Read"/>).</summary>
    /// <param name="index">The 0-based field index.</param>
    /// <returns>The field text, without surrounding quotes and with doubled quotes collapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="FieldCount"/>).</exception>
    public ReadOnlySpan<char> GetField(int index)
    {
        if ((uint)index >= (uint)_fieldCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"'{nameof(index)}' must be in [0, {_fieldCount}) but was {index}.");
        }

        int start = index == 0 ? 0 : _fieldEnds[index - 1];
        return _record.AsSpan(start, _fieldEnds[index] - start);
    }

    /// <summary>Gets a field of the current record as a new string.</summary>
    /// <param name="index">The 0-based field index.</param>
    /// <returns>The field text.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="FieldCount"/>).</exception>
    public string GetString(int index) => new(GetField(index));

    /// <summary>Closes the underlying reader unless it was opened with leaveOpen.</summary>
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _reader.Dispose();
        }
    }

    private void Fail(string problem)
    {
        if (!_options.Lenient)
        {
            throw new CsvFormatException(_recordLine, problem);
        }

        Report.Add(_recordLine, problem);
    }

    private static StreamReader CreateTextReader(Stream stream, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(stream));
        }

        // Peek at the first two bytes without needing a seekable stream, then replay them.
        var prefix = new byte[2];
        int got = 0;
        while (got < 2)
        {
            int n = stream.Read(prefix, got, 2 - got);
            if (n == 0)
            {
                break;
            }

            got += n;
        }

        Stream source = new ReplayStream(prefix.AsMemory(0, got), stream, leaveOpen);
        if (got == 2 && prefix[0] == 0x1F && prefix[1] == 0x8B)
        {
            source = new GZipStream(source, CompressionMode.Decompress, leaveOpen: false);
        }

        return new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, BufferSize, leaveOpen: false);
    }

    /// <summary>Reads the next character; -1 at end of input. Keeps the physical line count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Next()
    {
        if (_position >= _length && !Fill())
        {
            return -1;
        }

        char c = _buffer[_position++];
        if (c == '\n')
        {
            // The LF of a CRLF was already counted at the CR.
            if (!_previousWasCr)
            {
                _line++;
            }

            _previousWasCr = false;
        }
        else if (c == '\r')
        {
            _line++;
            _previousWasCr = true;
        }
        else
        {
            _previousWasCr = false;
        }

        return c;
    }

    private bool Fill()
    {
        if (_endOfInput)
        {
            return false;
        }

        _length = _reader.Read(_buffer, 0, _buffer.Length);
        _position = 0;
        if (_length == 0)
        {
            _endOfInput = true;
            return false;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(ref int recordLength, char c)
    {
        if (recordLength == _record.Length)
        {
            Array.Resize(ref _record, _record.Length * 2);
        }

        _record[recordLength++] = c;
    }

    private void EndField(int recordLength)
    {
        if (_fieldCount == _fieldEnds.Length)
        {
            Array.Resize(ref _fieldEnds, _fieldEnds.Length * 2);
        }

        _fieldEnds[_fieldCount++] = recordLength;
    }

    /// <summary>
    /// Parses one record into the record buffer. Returns null when it is structurally sound (or when input ended
    /// before any record, with <see cref="_fieldCount"/> 0), else the reason it is malformed; a malformed record is
    /// always consumed to its end so that reading can resume at the next one.
    /// </summary>
    private string? ParseRecord()
    {
        _fieldCount = 0;
        int length = 0;
        int c;

        // Skip empty lines between records (including the LF of a CRLF that ended the previous record).
        do
        {
            c = Next();
        }
        while (c is '\n' or '\r');

        if (c < 0)
        {
            return null;
        }

        // Next() has already counted a line break if c were one; c is the first character of this record.
        _recordLine = _line;
        string? problem = null;
        while (true)
        {
            // c is the first character of a field.
            if (c == '"')
            {
                long quoteLine = _line;
                while (true)
                {
                    c = Next();
                    if (c < 0)
                    {
                        EndField(length);
                        return problem ?? $"unterminated quoted field (opened on line {quoteLine})";
                    }

                    if (c == '"')
                    {
                        c = Next();
                        if (c != '"')
                        {
                            break;
                        }
                    }

                    Append(ref length, (char)c);
                }

                // After a closing quote only a delimiter, a line end or the end of input may follow.
                if (c >= 0 && c != _delimiter && c != '\n' && c != '\r')
                {
                    problem ??= $"unexpected character '{(char)c}' after a closing quote in field {_fieldCount + 1}";
                    while (c >= 0 && c != _delimiter && c != '\n' && c != '\r')
                    {
                        Append(ref length, (char)c);
                        c = Next();
                    }
                }
            }
            else
            {
                while (c >= 0 && c != _delimiter && c != '\n' && c != '\r')
                {
                    Append(ref length, (char)c);
                    c = Next();
                }
            }

            EndField(length);
            if (c == _delimiter)
            {
                c = Next();
                if (c < 0 || c == '\n' || c == '\r')
                {
                    // A trailing delimiter ends the record with one more empty field.
                    EndField(length);
                    return problem;
                }

                continue;
            }

            return problem;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LifelongPrefs.Data;

/// <summary>
/// The general CSV loader: turns the records of a <see cref="CsvReader"/> into <see cref="InteractionEvent"/>s by a
/// <see cref="CsvColumnMapping"/>, streaming, or loads them straight into an <see cref="InteractionLog"/> in time
/// order (ties in file order).
/// </summary>
/// <remarks>
/// <para>A record whose mapped values are unusable (empty user or item id, unparsable time stamp, quantity, value or
/// price, unknown kind) goes to <see cref="CsvReader.RejectRecord"/>: strict readers throw
/// <see cref="CsvFormatException"/> (its message names the line, the column and the value), lenient ones skip it and
/// count it in <see cref="CsvReader.Report"/>. A well-formed record whose value is below
/// <see cref="CsvColumnMapping.MinimumValue"/> is dropped without being rejected. Repeated ids are interned, so equal
/// ids share one string.</para>
/// <para>The mapping is checked against the header (or, without one, against the first record's width) before any
/// event is produced; a bad mapping throws <see cref="ArgumentException"/> naming the column.</para>
/// </remarks>
public static class CsvEventLoader
{
    /// <summary>
    /// Streams the events of a reader, one per well-formed record at or above the mapping's minimum value, in file
    /// order.
    /// </summary>
    /// <param name="reader">An open reader, with or without a header.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <returns>A lazily evaluated sequence; enumerate it once.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">
    /// A required column name is empty; a mapped column is not in the header, is ambiguous, or (without a header) is not
    /// a 1-based column number; the time stamp format is not a valid pattern; <see cref="CsvColumnMapping.MinimumValue"/>
    /// is not finite or has no value column. (During enumeration, without a header) a column number is beyond the
    /// first record's width.
    /// </exception>
    /// <exception cref="CsvFormatException">(During enumeration, strict mode) a record is malformed.</exception>
    internal static IEnumerable<InteractionEvent> Read(CsvReader reader, CsvColumnMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(mapping);
        var columns = Columns.Resolve(reader, mapping);
        return ReadCore(reader, mapping, columns, new DropCount());
    }

    /// <summary>Reads every event of a reader, sorts them stably by time and appends them to a log.</summary>
    /// <param name="log">The log to grow (its id maps grow for new ids).</param>
    /// <param name="reader">An open reader, with or without a header.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <returns>How many events were added (rows below <see cref="CsvColumnMapping.MinimumValue"/> are not).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The mapping does not fit the file (see <see cref="Read"/>); the log is then unchanged.</exception>
    /// <exception cref="CsvFormatException">Strict mode and a record is malformed; the log is then unchanged.</exception>
    internal static int LoadInto(InteractionLog log, CsvReader reader, CsvColumnMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(log);
        return LoadCore(log, reader, mapping, null).Added;
    }

    /// <summary>Loads a <c>.csv</c> or <c>.csv.gz</c> file into a new log, in time order (ties in file order).</summary>
    /// <param name="path">The file.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <param name="options">CSV options (comma, header, strict by default).</param>
    /// <returns>The log, the reader's report of skipped records, the delimiter used, the rows dropped below the minimum value and the item texts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="mapping"/> is null.</exception>
    /// <exception cref="ArgumentException">The path is empty, the options are invalid, or the mapping does not fit the file (see <see cref="Read"/>).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="InvalidDataException">The file starts like gzip but is not valid gzip.</exception>
    /// <exception cref="CsvFormatException">The header is malformed, or strict mode and a record is malformed.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "A path and a stream overload, both with optional reader options, as File and Stream APIs pair; both ship together.")]
    public static CsvLoadResult Load(string path, CsvColumnMapping mapping, CsvReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        using CsvReader reader = CsvReader.Open(path, options);
        return LoadResult(reader, mapping);
    }

    /// <summary>
    /// Loads CSV text (or a gzip member, recognised by its magic bytes 1F 8B) from a stream into a new log, in time
    /// order (ties in file order). The stream is read to its end and left open.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of the CSV text.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <param name="options">CSV options (comma, header, strict by default).</param>
    /// <returns>The log, the reader's report of skipped records, the delimiter used, the rows dropped below the minimum value and the item texts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="mapping"/> is null.</exception>
    /// <exception cref="ArgumentException">The stream is not readable, the options are invalid, or the mapping does not fit the text (see <see cref="Read"/>).</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    /// <exception cref="InvalidDataException">The stream starts like gzip but is not valid gzip.</exception>
    /// <exception cref="CsvFormatException">The header is malformed, or strict mode and a record is malformed.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "A path and a stream overload, both with optional reader options, as File and Stream APIs pair; both ship together.")]
    public static CsvLoadResult Load(Stream stream, CsvColumnMapping mapping, CsvReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(mapping);
        using var reader = new CsvReader(stream, options, leaveOpen: true);
        return LoadResult(reader, mapping);
    }

    private static CsvLoadResult LoadResult(CsvReader reader, CsvColumnMapping mapping)
    {
        var log = new InteractionLog();
        var texts = new Dictionary<int, string>();
        (_, long dropped) = LoadCore(log, reader, mapping, texts);
        string[] itemTexts = [.. Enumerable.Range(0, log.Items.Count).Select(item => texts.GetValueOrDefault(item, string.Empty))];
        return new CsvLoadResult(log, reader.Report, reader.Delimiter, dropped, itemTexts);
    }

    /// <summary>
    /// Reads every event, then appends them in time order, so that a failure leaves the log unchanged. When
    /// <paramref name="texts"/> is given it receives, by dense item index, each item's first non-empty text in time
    /// order.
    /// </summary>
    private static (int Added, long BelowMinimum) LoadCore(InteractionLog log, CsvReader reader, CsvColumnMapping mapping, Dictionary<int, string>? texts)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(mapping);
        var dropped = new DropCount();
        var events = new List<InteractionEvent>(ReadCore(reader, mapping, Columns.Resolve(reader, mapping), dropped));

        // Sort by time with the file position as the tie-break, so ties keep file order (List.Sort is not stable).
        var order = new int[events.Count];
        var keys = new long[events.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            keys[i] = events[i].Timestamp.UtcTicks;
        }

        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        foreach (int i in order)
        {
            Interaction added = log.Add(events[i]);
            if (texts is not null && events[i].Attributes?.Text is { Length: > 0 } text)
            {
                texts.TryAdd(added.Item, text);
            }
        }

        return (order.Length, dropped.Value);
    }

    private static IEnumerable<InteractionEvent> ReadCore(CsvReader reader, CsvColumnMapping mapping, Columns columns, DropCount dropped)
    {
        var strings = new StringTable();
        long lastTicks = 0;
        char[] lastTime = new char[64];
        int lastTimeLength = -1;
        bool widthChecked = false;
        while (reader.Read())
        {
            if (!widthChecked)
            {
                // With a header every record has its width; without one the first record sets it (the reader holds
                // later records to it), so one check covers the file.
                columns.CheckWidth(reader);
                widthChecked = true;
            }

            ReadOnlySpan<char> user = reader.GetField(columns.User);
            ReadOnlySpan<char> item = reader.GetField(columns.Item);
            if (user.IsEmpty || item.IsEmpty)
            {
                reader.RejectRecord($"empty {(user.IsEmpty ? "user" : "item")} id in column '{(user.IsEmpty ? mapping.User : mapping.Item)}'");
                continue;
            }

            // Logs often repeat a time stamp on consecutive rows (all lines of one order); parse it once.
            ReadOnlySpan<char> time = reader.GetField(columns.Timestamp);
            long ticks;
            if (lastTimeLength == time.Length && time.SequenceEqual(lastTime.AsSpan(0, lastTimeLength)))
            {
                ticks = lastTicks;
            }
            else if (Timestamps.TryParse(time, mapping.TimestampFormat, out ticks))
            {
                lastTicks = ticks;
                lastTimeLength = time.Length <= lastTime.Length ? time.Length : -1;
                if (lastTimeLength >= 0)
                {
                    time.CopyTo(lastTime);
                }
            }
            else
            {
                reader.RejectRecord($"unparsable time stamp '{time}' in column '{mapping.Timestamp}'{Timestamps.Hint(time, mapping.TimestampFormat)}");
                continue;
            }

            EventKind kind = mapping.FixedKind;
            if (columns.Kind >= 0 && !TryParseKind(reader.GetField(columns.Kind), out kind))
            {
                reader.RejectRecord($"unknown event kind '{reader.GetField(columns.Kind)}' in column '{mapping.Kind}'");
                continue;
            }

            float quantity = 1f, value = 0f;
            float? price = null;
            if (columns.Quantity >= 0 && !TryParseFloat(reader.GetField(columns.Quantity), out quantity))
            {
                reader.RejectRecord($"unparsable quantity '{reader.GetField(columns.Quantity)}' in column '{mapping.Quantity}'");
                continue;
            }

            if (columns.Value >= 0 && !TryParseFloat(reader.GetField(columns.Value), out value))
            {
                reader.RejectRecord($"unparsable value '{reader.GetField(columns.Value)}' in column '{mapping.Value}'");
                continue;
            }

            if (columns.Price >= 0 && !reader.GetField(columns.Price).IsEmpty)
            {
                if (!TryParseFloat(reader.GetField(columns.Price), out float p))
                {
                    reader.RejectRecord($"unparsable price '{reader.GetField(columns.Price)}' in column '{mapping.Price}'");
                    continue;
                }

                price = p;
            }

            if (value < mapping.MinimumValue)
            {
                dropped.Value++;
                continue;
            }

            string? basket = columns.Basket >= 0 && !reader.GetField(columns.Basket).IsEmpty ? strings.Get(reader.GetField(columns.Basket)) : null;
            string? category = columns.Category >= 0 && !reader.GetField(columns.Category).IsEmpty ? strings.Get(reader.GetField(columns.Category)) : null;
            string? text = columns.Text >= 0 && !reader.GetField(columns.Text).IsEmpty ? strings.Get(reader.GetField(columns.Text)) : null;
            ItemAttributes? attributes = category is null && text is null && price is null ? null : new ItemAttributes(category, price, text);
            yield return new InteractionEvent(
                strings.Get(user),
                strings.Get(item),
                new DateTimeOffset(ticks, TimeSpan.Zero),
                kind,
                quantity,
                value,
                basket,
                attributes);
        }
    }

    private static bool TryParseFloat(ReadOnlySpan<char> s, out float value)
        => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);

    /// <summary>Parses an event kind name (case-insensitive, a few common aliases) or integer value.</summary>
    internal static bool TryParseKind(ReadOnlySpan<char> s, out EventKind kind)
    {
        s = s.Trim();
        if (s.Equals("add-to-cart", StringComparison.OrdinalIgnoreCase) || s.Equals("add_to_cart", StringComparison.OrdinalIgnoreCase)
            || s.Equals("cart", StringComparison.OrdinalIgnoreCase) || s.Equals("addtocart", StringComparison.OrdinalIgnoreCase))
        {
            kind = EventKind.AddToCart;
            return true;
        }

        if (s.Equals("buy", StringComparison.OrdinalIgnoreCase) || s.Equals("transaction", StringComparison.OrdinalIgnoreCase))
        {
            kind = EventKind.Purchase;
            return true;
        }

        return Enum.TryParse(s, ignoreCase: true, out kind) && Enum.IsDefined(kind);
    }

    /// <summary>How many well-formed rows fell below the minimum value (a box the streaming reader can write to).</summary>
    private sealed class DropCount
    {
        internal long Value;
    }

    /// <summary>Column positions resolved against the header once; -1 for an unmapped optional column.</summary>
    private sealed record Columns(int User, int Item, int Timestamp, int Kind, int Quantity, int Value, int Basket, int Category, int Text, int Price)
    {
        /// <summary>Throws when a column number (only possible without a header) is beyond the current record.</summary>
        internal void CheckWidth(CsvReader reader)
        {
            int widest = Math.Max(Math.Max(Math.Max(User, Item), Math.Max(Timestamp, Kind)),
                Math.Max(Math.Max(Math.Max(Quantity, Value), Math.Max(Basket, Category)), Math.Max(Text, Price)));
            if (widest >= reader.FieldCount)
            {
                throw new ArgumentException(
                    $"Column {widest + 1} is beyond the {reader.FieldCount} columns of the file (line {reader.LineNumber}).", nameof(reader));
            }
        }

        internal static Columns Resolve(CsvReader reader, CsvColumnMapping mapping)
        {
            if (string.IsNullOrEmpty(mapping.User) || string.IsNullOrEmpty(mapping.Item) || string.IsNullOrEmpty(mapping.Timestamp))
            {
                throw new ArgumentException(
                    $"The mapping must name the user, item and timestamp columns (User='{mapping.User}', Item='{mapping.Item}', Timestamp='{mapping.Timestamp}').",
                    nameof(mapping));
            }

            if (!Enum.IsDefined(mapping.FixedKind))
            {
                throw new ArgumentException($"{nameof(CsvColumnMapping.FixedKind)} {(int)mapping.FixedKind} is not an {nameof(EventKind)}.", nameof(mapping));
            }

            if (mapping.MinimumValue is float minimum && (!float.IsFinite(minimum) || mapping.Value is null))
            {
                throw new ArgumentException(
                    float.IsFinite(minimum)
                        ? $"{nameof(CsvColumnMapping.MinimumValue)} {minimum.ToString(CultureInfo.InvariantCulture)} needs a {nameof(CsvColumnMapping.Value)} column to compare with."
                        : $"{nameof(CsvColumnMapping.MinimumValue)} must be finite but was {minimum.ToString(CultureInfo.InvariantCulture)}.",
                    nameof(mapping));
            }

            Timestamps.ValidateFormat(mapping.TimestampFormat, nameof(mapping));
            return new Columns(
                Required(reader, mapping.User),
                Required(reader, mapping.Item),
                Required(reader, mapping.Timestamp),
                Optional(reader, mapping.Kind),
                Optional(reader, mapping.Quantity),
                Optional(reader, mapping.Value),
                Optional(reader, mapping.Basket),
                Optional(reader, mapping.Category),
                Optional(reader, mapping.Text),
                Optional(reader, mapping.Price));
        }

        private static int Optional(CsvReader reader, string? name) => name is null ? -1 : Required(reader, name);

        /// <summary>
        /// A header name (exact, else ignoring case), else a 1-based column number. The name is tried first so that a
        /// column literally called "2" is found by its name.
        /// </summary>
        private static int Required(CsvReader reader, string name)
        {
            bool isNumber = int.TryParse(name.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= 1;
            if (reader.Header.Count > 0 && (!isNumber || HeaderHas(reader.Header, name)))
            {
                return reader.GetOrdinal(name);
            }

            if (!isNumber)
            {
                throw new ArgumentException($"Column '{name}' must be a 1-based column number: the file has no header.", nameof(name));
            }

            if (reader.Header.Count > 0 && number > reader.Header.Count)
            {
                throw new ArgumentException($"Column {number} is beyond the {reader.Header.Count} columns of the header.", nameof(name));
            }

            return number - 1;
        }

        private static bool HeaderHas(IReadOnlyList<string> header, string name)
        {
            foreach (string column in header)
            {
                if (column.AsSpan().Trim().Equals(name.AsSpan().Trim(), StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>The result of <see cref="CsvEventLoader.Load(string, CsvColumnMapping, CsvReaderOptions?)"/>.</summary>
/// <param name="Log">The events in time order (ties in file order).</param>
/// <param name="Report">What a lenient reader skipped as malformed (empty in strict mode, which throws instead).</param>
/// <param name="Delimiter">The field delimiter used (the detected one when <see cref="CsvReaderOptions.DetectDelimiter"/> is set).</param>
/// <param name="BelowMinimum">Well-formed rows dropped because their value was below <see cref="CsvColumnMapping.MinimumValue"/>.</param>
/// <param name="ItemTexts">
/// The first non-empty <see cref="CsvColumnMapping.Text"/> of each item in time order, by dense item index ("" when
/// none, and for every item when no text column is mapped).
/// </param>
public sealed record CsvLoadResult(InteractionLog Log, CsvReadReport Report, char Delimiter, long BelowMinimum, IReadOnlyList<string> ItemTexts);

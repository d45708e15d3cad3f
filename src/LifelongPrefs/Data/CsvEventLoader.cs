using System.Globalization;

namespace LifelongPrefs.Data;

/// <summary>
/// The general CSV loader: turns the records of a <see cref="CsvReader"/> into <see cref="InteractionEvent"/>s by a
/// <see cref="CsvColumnMapping"/>, streaming, or loads them straight into an <see cref="InteractionLog"/> in time
/// order (ties in file order).
/// </summary>
/// <remarks>
/// A record whose mapped values are unusable (empty user or item id, unparsable time stamp, quantity, value or price,
/// unknown kind) goes to <see cref="CsvReader.RejectRecord"/>: strict readers throw <see cref="CsvFormatException"/>,
/// lenient ones skip it and count it in <see cref="CsvReader.Report"/>. Repeated ids are interned, so equal ids
/// share one string.
/// </remarks>
public static class CsvEventLoader
{
    /// <summary>Streams the events of a reader, one per well-formed record, in file order.</summary>
    /// <param name="reader">An open reader with a header.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <returns>A lazily evaluated sequence; enumerate it once.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A mapped column is missing from the header, or a required column name is empty.</exception>
    /// <exception cref="CsvFormatException">(During enumeration, strict mode) a record is malformed.</exception>
    public static IEnumerable<InteractionEvent> Read(CsvReader reader, CsvColumnMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(mapping);
        var columns = Columns.Resolve(reader, mapping);
        return ReadCore(reader, mapping, columns);
    }

    /// <summary>Reads every event of a reader, sorts them stably by time and appends them to a log.</summary>
    /// <param name="log">The log to grow (its id maps grow for new ids).</param>
    /// <param name="reader">An open reader with a header.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <returns>How many events were added.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A mapped column is missing from the header.</exception>
    /// <exception cref="CsvFormatException">Strict mode and a record is malformed; the log is then unchanged.</exception>
    public static int LoadInto(InteractionLog log, CsvReader reader, CsvColumnMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(log);
        var events = new List<InteractionEvent>(Read(reader, mapping));

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
            log.Add(events[i]);
        }

        return order.Length;
    }

    /// <summary>Loads a <c>.csv</c> or <c>.csv.gz</c> file into a new log, in time order (ties in file order).</summary>
    /// <param name="path">The file.</param>
    /// <param name="mapping">Which columns hold what.</param>
    /// <param name="options">CSV options (strict by default).</param>
    /// <returns>The log and the reader's report of skipped records.</returns>
    /// <exception cref="ArgumentException">The path is empty or a mapped column is missing.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvFormatException">Strict mode and a record is malformed.</exception>
    public static (InteractionLog Log, CsvReadReport Report) Load(string path, CsvColumnMapping mapping, CsvReaderOptions? options = null)
    {
        using CsvReader reader = CsvReader.Open(path, options);
        var log = new InteractionLog();
        LoadInto(log, reader, mapping);
        return (log, reader.Report);
    }

    private static IEnumerable<InteractionEvent> ReadCore(CsvReader reader, CsvColumnMapping mapping, Columns columns)
    {
        var strings = new StringTable();
        long lastTicks = 0;
        char[] lastTime = new char[64];
        int lastTimeLength = -1;
        while (reader.Read())
        {
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
                reader.RejectRecord($"unparsable time stamp '{time}' in column '{mapping.Timestamp}'");
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

    /// <summary>Column positions resolved against the header once; -1 for an unmapped optional column.</summary>
    private sealed record Columns(int User, int Item, int Timestamp, int Kind, int Quantity, int Value, int Basket, int Category, int Text, int Price)
    {
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

            if (reader.Header.Count == 0)
            {
                throw new ArgumentException("The reader has no header; column mappings need one.", nameof(reader));
            }

            return new Columns(
                reader.GetOrdinal(mapping.User),
                reader.GetOrdinal(mapping.Item),
                reader.GetOrdinal(mapping.Timestamp),
                Optional(reader, mapping.Kind),
                Optional(reader, mapping.Quantity),
                Optional(reader, mapping.Value),
                Optional(reader, mapping.Basket),
                Optional(reader, mapping.Category),
                Optional(reader, mapping.Text),
                Optional(reader, mapping.Price));
        }

        private static int Optional(CsvReader reader, string? name) => name is null ? -1 : reader.GetOrdinal(name);
    }
}

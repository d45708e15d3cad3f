namespace LifelongPrefs.Data;

/// <summary>
/// Which columns of a CSV file hold the parts of an <see cref="InteractionEvent"/>, for <see cref="CsvEventLoader"/>,
/// how their time stamps are written, and which rows count. Only <see cref="User"/>, <see cref="Item"/> and
/// <see cref="Timestamp"/> are required; every other column is optional and has a documented default.
/// </summary>
/// <remarks>
/// <para>A column is named by its header (the exact name first, else the one name equal to it ignoring case and
/// surrounding white space, see <see cref="CsvReader.GetOrdinal"/>), or by its 1-based number (<c>"3"</c> is the
/// third column) when no header column has that name; a file without a header
/// (<see cref="CsvReaderOptions.HasHeader"/> false) is addressed by numbers only.</para>
/// <para>Time stamps without an offset are taken as UTC; those with an offset are converted to UTC.</para>
/// </remarks>
public sealed record CsvColumnMapping
{
    /// <summary>
    /// The <see cref="TimestampFormat"/> for ISO-8601-style text such as <c>2024-01-02 10:00:00</c>,
    /// <c>2024-01-02T10:00:00Z</c> or <c>2024-01-02T12:00:00+02:00</c>, parsed flexibly (the same as <see langword="null"/>).
    /// </summary>
    public const string Iso8601 = "iso";

    /// <summary>The <see cref="TimestampFormat"/> for Unix time in seconds, e.g. <c>1700000000</c> (a fraction is allowed).</summary>
    public const string UnixSeconds = "unix-s";

    /// <summary>The <see cref="TimestampFormat"/> for Unix time in milliseconds, e.g. <c>1700000000000</c>.</summary>
    public const string UnixMilliseconds = "unix-ms";

    /// <summary>Gets the user id column.</summary>
    public required string User { get; init; }

    /// <summary>Gets the item id column.</summary>
    public required string Item { get; init; }

    /// <summary>Gets the time stamp column.</summary>
    public required string Timestamp { get; init; }

    /// <summary>
    /// Gets the time stamp format: <see cref="Iso8601"/> or <see langword="null"/> for flexible ISO-8601-style parsing,
    /// <see cref="UnixSeconds"/>, <see cref="UnixMilliseconds"/>, or a .NET custom pattern for exact parsing in the
    /// invariant culture (e.g. <c>dd/MM/yyyy HH:mm</c>). A pattern that .NET rejects makes the loader throw
    /// <see cref="ArgumentException"/> before it reads any record.
    /// </summary>
    /// <value><see langword="null"/> by default.</value>
    public string? TimestampFormat { get; init; }

    /// <summary>
    /// Gets the event kind column (values are <see cref="EventKind"/> names, case-insensitive, with "add-to-cart",
    /// "cart" and "buy" accepted too, or their integer values), or <see langword="null"/> to use <see cref="FixedKind"/>.
    /// </summary>
    public string? Kind { get; init; }

    /// <summary>Gets the kind of every event when <see cref="Kind"/> is <see langword="null"/>.</summary>
    /// <value><see cref="EventKind.Purchase"/> by default.</value>
    public EventKind FixedKind { get; init; } = EventKind.Purchase;

    /// <summary>Gets the quantity column, or <see langword="null"/> for quantity 1.</summary>
    public string? Quantity { get; init; }

    /// <summary>Gets the value (unit price, rating, weight) column, or <see langword="null"/> for value 0.</summary>
    public string? Value { get; init; }

    /// <summary>
    /// Gets the smallest <see cref="Value"/> a row must have to become an event, or <see langword="null"/> to keep every
    /// row. With ratings, 4 makes "rated 4 or more" the positive interactions; rows below it are dropped (they are not
    /// malformed, so they are not rejected) and counted in <see cref="CsvLoadResult.BelowMinimum"/>.
    /// </summary>
    /// <value><see langword="null"/> by default. Must be finite, and needs a <see cref="Value"/> column.</value>
    public float? MinimumValue { get; init; }

    /// <summary>Gets the basket (invoice, session) column, or <see langword="null"/> for no basket.</summary>
    public string? Basket { get; init; }

    /// <summary>Gets the item category column, or <see langword="null"/>.</summary>
    public string? Category { get; init; }

    /// <summary>Gets the item text (description) column, or <see langword="null"/>.</summary>
    public string? Text { get; init; }

    /// <summary>Gets the item list price column, or <see langword="null"/>.</summary>
    public string? Price { get; init; }
}

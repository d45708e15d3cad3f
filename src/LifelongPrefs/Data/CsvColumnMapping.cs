namespace LifelongPrefs.Data;

/// <summary>
/// Which header columns of a CSV file hold the parts of an <see cref="InteractionEvent"/>, for
/// <see cref="CsvEventLoader"/>. Only <see cref="User"/>, <see cref="Item"/> and <see cref="Timestamp"/> are required;
/// every other column is optional and has a documented default.
/// </summary>
/// <remarks>
/// Column names match the header exactly (ordinal). Time stamps without an offset are taken as UTC; those with an
/// offset are converted to UTC.
/// </remarks>
public sealed record CsvColumnMapping
{
    /// <summary>Formats for <see cref="TimestampFormat"/> that mean Unix time in seconds.</summary>
    public const string UnixSeconds = "unix-s";

    /// <summary>Formats for <see cref="TimestampFormat"/> that mean Unix time in milliseconds.</summary>
    public const string UnixMilliseconds = "unix-ms";

    /// <summary>Gets the user id column.</summary>
    public required string User { get; init; }

    /// <summary>Gets the item id column.</summary>
    public required string Item { get; init; }

    /// <summary>Gets the time stamp column.</summary>
    public required string Timestamp { get; init; }

    /// <summary>
    /// Gets the time stamp format: a .NET custom format for exact parsing (invariant culture), <see cref="UnixSeconds"/>,
    /// <see cref="UnixMilliseconds"/>, or <see langword="null"/> for flexible ISO-8601-style parsing.
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

    /// <summary>Gets the value (unit price, rating) column, or <see langword="null"/> for value 0.</summary>
    public string? Value { get; init; }

    /// <summary>Gets the basket (invoice, session) column, or <see langword="null"/> for no basket.</summary>
    public string? Basket { get; init; }

    /// <summary>Gets the item category column, or <see langword="null"/>.</summary>
    public string? Category { get; init; }

    /// <summary>Gets the item text (description) column, or <see langword="null"/>.</summary>
    public string? Text { get; init; }

    /// <summary>Gets the item list price column, or <see langword="null"/>.</summary>
    public string? Price { get; init; }
}

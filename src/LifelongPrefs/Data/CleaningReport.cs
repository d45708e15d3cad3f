using System.Globalization;
using System.Text;

namespace LifelongPrefs.Data;

/// <summary>
/// What <see cref="OnlineRetail.Load(string, OnlineRetailOptions?)"/> did to the raw file, step by step, with counts.
/// Steps run in the order of the properties: each row is counted by the first step that removes (or converts) it.
/// </summary>
public sealed class CleaningReport
{
    /// <summary>Gets the well-formed data rows read (header excluded).</summary>
    public long RowsRead { get; internal set; }

    /// <summary>Gets the malformed rows skipped in lenient mode (see <see cref="CsvReport"/> for line numbers).</summary>
    public long MalformedRows { get; internal set; }

    /// <summary>Gets the rows dropped because CustomerID is empty (guest or unknown customers).</summary>
    public long RowsWithoutCustomer { get; internal set; }

    /// <summary>Gets the rows (with a customer) on cancellation invoices, whose number starts with <c>C</c>.</summary>
    public long CancellationRows { get; internal set; }

    /// <summary>Gets the other rows (with a customer, not cancelled) whose quantity is not positive.</summary>
    public long NonPositiveQuantityRows { get; internal set; }

    /// <summary>Gets whether cancellations and negative quantities were kept as return events (else dropped).</summary>
    public bool ReturnsKept { get; internal set; }

    /// <summary>
    /// Gets the purchase rows before de-duplication and before dropping non-product codes: customer present,
    /// invoice not cancelled, quantity &gt; 0 (the data README's verified 397,924).
    /// </summary>
    public long PurchaseRows { get; internal set; }

    /// <summary>Gets the distinct customers over <see cref="PurchaseRows"/> (verified: 4,339).</summary>
    public int PurchaseUsers { get; internal set; }

    /// <summary>Gets the distinct stock codes over <see cref="PurchaseRows"/> (verified: 3,665).</summary>
    public int PurchaseItems { get; internal set; }

    /// <summary>Gets the exact duplicate rows dropped (all eight fields equal to an earlier kept row).</summary>
    public long DuplicateRows { get; internal set; }

    /// <summary>Gets the rows with non-product stock codes dropped (0 when they are kept).</summary>
    public long NonProductRows { get; internal set; }

    /// <summary>Gets the events in the log (purchases plus, if kept, returns).</summary>
    public long Events { get; internal set; }

    /// <summary>Gets the return events in the log (0 unless returns are kept).</summary>
    public long ReturnEvents { get; internal set; }

    /// <summary>Gets the users in the log.</summary>
    public int Users { get; internal set; }

    /// <summary>Gets the items in the log.</summary>
    public int Items { get; internal set; }

    /// <summary>Gets the baskets (invoices) in the log.</summary>
    public int Baskets { get; internal set; }

    /// <summary>Gets the earliest event time (as UTC-labelled wall clock), or <see langword="null"/> for an empty log.</summary>
    public DateTimeOffset? FirstTimestamp { get; internal set; }

    /// <summary>Gets the latest event time (as UTC-labelled wall clock), or <see langword="null"/> for an empty log.</summary>
    public DateTimeOffset? LastTimestamp { get; internal set; }

    /// <summary>Gets the CSV reader's report of skipped malformed lines (line numbers and reasons).</summary>
    public CsvReadReport CsvReport { get; internal set; } = new(0);

    /// <summary>Returns a readable table of the steps and counts.</summary>
    /// <returns>A multi-line table.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        string returns = ReturnsKept ? "kept as returns" : "dropped";
        Row(text, "rows read", RowsRead, "well-formed data lines");
        Row(text, "malformed rows", MalformedRows, "skipped (lenient mode)");
        Row(text, "without CustomerID", RowsWithoutCustomer, "dropped");
        Row(text, "cancellations (C invoice)", CancellationRows, returns);
        Row(text, "quantity <= 0, not cancelled", NonPositiveQuantityRows, ReturnsKept ? "negatives kept as returns, zeros dropped" : "dropped");
        Row(text, "purchase rows", PurchaseRows, string.Create(c, $"{PurchaseUsers:N0} users, {PurchaseItems:N0} items (before de-dup and non-product filter)"));
        Row(text, "duplicate lines", DuplicateRows, "dropped (exact duplicates of an earlier kept line)");
        Row(text, "non-product stock codes", NonProductRows, "dropped");
        Row(text, "events", Events, string.Create(c, $"{ReturnEvents:N0} returns; {Users:N0} users, {Items:N0} items, {Baskets:N0} baskets"));
        text.Append(c, $"time range: {FirstTimestamp:yyyy-MM-dd HH:mm:ss} .. {LastTimestamp:yyyy-MM-dd HH:mm:ss} (UK wall clock labelled UTC)");
        return text.ToString();
    }

    private static void Row(StringBuilder text, string step, long count, string note)
        => text.Append(CultureInfo.InvariantCulture, $"{step,-30} {count,10:N0}  {note}").AppendLine();
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LifelongPrefs.Data;

/// <summary>
/// The loader preset for the UCI "Online Retail" data set (Chen, 2015; CC BY 4.0; a copy with its README and
/// attribution is in <c>samples/data/uci-online-retail/</c>): reads the eight-column CSV (plain or gzip), cleans it
/// step by step and returns an <see cref="InteractionLog"/> of purchases (and, optionally, returns) in time order,
/// plus a <see cref="CleaningReport"/> that counts every step.
/// </summary>
/// <remarks>
/// <para>Cleaning, in this order (each row is counted by the first step that removes it):
/// (1) rows without <c>CustomerID</c> are dropped;
/// (2) cancellation rows (<c>InvoiceNo</c> starting with <c>C</c>) and other rows with quantity ≤ 0 are dropped, or
/// kept as <see cref="EventKind.Return"/> events with their negative quantity (<see cref="OnlineRetailOptions.KeepReturns"/>;
/// zero quantities are always dropped) — what survives with a positive quantity are the "purchase rows" the data
/// README verifies (397,924 rows, 4,339 users, 3,665 items, counted <em>before</em> de-duplication);
/// (3) exact duplicate lines (all eight fields textually equal to an earlier kept line) are dropped;
/// (4) non-product stock codes (<see cref="IsNonProductCode"/>) are dropped.
/// Zero-price lines are kept (they are real, if odd, product lines).</para>
/// <para>Time: <c>InvoiceDate</c> is a naive UK wall-clock time (<c>yyyy-MM-dd HH:mm:ss</c>). It is mapped to a
/// <see cref="DateTimeOffset"/> with offset zero <em>without</em> converting British Summer Time, i.e. the wall clock
/// is labelled UTC, exactly as the source R data frame stored it; summer times are therefore one hour later than the
/// true UTC instant. This keeps the file's own ordering and calendar days. Events are sorted by time, ties in file
/// order (stable), so all lines of one invoice stay together in their original order.</para>
/// <para>Ids: users are <c>CustomerID</c> strings, items <c>StockCode</c> strings, baskets <c>InvoiceNo</c> strings;
/// dense indices are assigned in order of first appearance in the sorted event stream, so they are reproducible.</para>
/// </remarks>
public static partial class OnlineRetail
{
    /// <summary>
    /// The path of the copy shipped with the repository, relative to the repository root (a package does not carry the
    /// data). To find the file from an application, inside a clone or not, call <see cref="LocateSample()"/>.
    /// </summary>
    public const string SamplePath = "samples/data/uci-online-retail/online_retail.csv.gz";

    private static readonly string[] Columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"];

    private static readonly string[] NonProductCodes = ["POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B"];

    /// <summary>Loads and cleans the Online Retail file (<c>.csv</c> or <c>.csv.gz</c>).</summary>
    /// <param name="path">The file path, e.g. the one <see cref="LocateSample()"/> returns.</param>
    /// <param name="options">Cleaning options, or <see langword="null"/> for <see cref="OnlineRetailOptions.Default"/>.</param>
    /// <returns>The cleaned log, the report and item descriptions.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">No file is at <paramref name="path"/> (also when its folder is missing or
    /// the path is a folder); the message names the path and <see cref="LocateSample()"/>.</exception>
    /// <exception cref="CsvFormatException">Strict mode and a line is malformed, or the header lacks a required column.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "A path and a stream overload, both with optional cleaning options; both ship together.")]
    public static OnlineRetailData Load(string path, OnlineRetailOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // FileStream would throw DirectoryNotFoundException for a missing folder (SamplePath outside a clone): say it once.
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The Online Retail file '{path}' does not exist (full path '{Path.GetFullPath(path)}'). "
                + $"OnlineRetail.LocateSample() finds the bundled copy and says how to get it.", path);
        }

        options ??= OnlineRetailOptions.Default;
        using CsvReader reader = CsvReader.Open(path, new CsvReaderOptions { Lenient = options.Lenient });
        return Load(reader, options);
    }

    /// <summary>Loads and cleans Online Retail data from a stream (plain or gzip).</summary>
    /// <param name="stream">The stream; left open.</param>
    /// <param name="options">Cleaning options, or <see langword="null"/> for <see cref="OnlineRetailOptions.Default"/>.</param>
    /// <returns>The cleaned log, the report and item descriptions.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="CsvFormatException">Strict mode and a line is malformed, or the header lacks a required column.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "A path and a stream overload, both with optional cleaning options; both ship together.")]
    public static OnlineRetailData Load(Stream stream, OnlineRetailOptions? options = null)
    {
        options ??= OnlineRetailOptions.Default;
        using var reader = new CsvReader(stream, new CsvReaderOptions { Lenient = options.Lenient }, leaveOpen: true);
        return Load(reader, options);
    }

    /// <summary>
    /// Whether a stock code is not a product: postage (<c>POST</c>, <c>DOT</c>), manual entries (<c>M</c>, also
    /// lower-case), carriage (<c>C2</c>), discounts (<c>D</c>), samples (<c>S</c>), fees (<c>BANK CHARGES</c>,
    /// <c>AMAZONFEE</c>), charity (<c>CRUK</c>), <c>PADS</c>, bad-debt adjustments (<c>B</c>), <c>DCGS…</c> codes and
    /// gift vouchers (<c>gift_0001_…</c>). Exact codes and prefixes compare case-insensitively.
    /// </summary>
    /// <param name="stockCode">The stock code.</param>
    /// <returns><see langword="true"/> for a non-product code.</returns>
    public static bool IsNonProductCode(ReadOnlySpan<char> stockCode)
    {
        foreach (string code in NonProductCodes)
        {
            if (stockCode.Equals(code, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return stockCode.StartsWith("DCGS", StringComparison.OrdinalIgnoreCase)
            || stockCode.StartsWith("gift_0001_", StringComparison.OrdinalIgnoreCase);
    }

    private static OnlineRetailData Load(CsvReader reader, OnlineRetailOptions options)
    {
        var col = new int[Columns.Length];
        for (int i = 0; i < Columns.Length; i++)
        {
            col[i] = -1;
            for (int j = 0; j < reader.Header.Count; j++)
            {
                if (reader.Header[j] == Columns[i])
                {
                    col[i] = j;
                    break;
                }
            }

            if (col[i] < 0)
            {
                throw new CsvFormatException(1, $"the header has no '{Columns[i]}' column (found: {string.Join(", ", reader.Header)})");
            }
        }

        int cInvoice = col[0], cStock = col[1], cDescription = col[2], cQuantity = col[3], cDate = col[4], cPrice = col[5], cCustomer = col[6], cCountry = col[7];
        var report = new CleaningReport { ReturnsKept = options.KeepReturns };
        StringTable invoices = new(), stocks = new(), descriptions = new(), customers = new(), countries = new(), quantities = new(), prices = new();
        var purchaseUsers = new HashSet<int>();
        var purchaseItems = new HashSet<int>();
        var seen = new HashSet<RowKey>();
        var kept = new List<Row>(1 << 16);
        char[] lastDate = new char[19];
        long lastTicks = 0;
        bool haveLastDate = false;
        int order = 0;
        while (reader.Read())
        {
            // Parse every row's typed columns first, so strict mode rejects a bad line wherever it is.
            ReadOnlySpan<char> date = reader.GetField(cDate);
            long ticks;
            if (haveLastDate && date.SequenceEqual(lastDate))
            {
                ticks = lastTicks;
            }
            else if (Timestamps.TryParseSortable(date, out ticks))
            {
                // All lines of an invoice share the date: one parse per invoice.
                date.CopyTo(lastDate);
                lastTicks = ticks;
                haveLastDate = true;
            }
            else
            {
                reader.RejectRecord($"unparsable InvoiceDate '{date}' (expected yyyy-MM-dd HH:mm:ss)");
                continue;
            }

            ReadOnlySpan<char> quantityText = reader.GetField(cQuantity);
            if (!int.TryParse(quantityText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int quantity))
            {
                reader.RejectRecord($"unparsable Quantity '{quantityText}'");
                continue;
            }

            ReadOnlySpan<char> priceText = reader.GetField(cPrice);
            if (!float.TryParse(priceText, NumberStyles.Float, CultureInfo.InvariantCulture, out float price) || !float.IsFinite(price))
            {
                reader.RejectRecord($"unparsable UnitPrice '{priceText}'");
                continue;
            }

            ReadOnlySpan<char> invoice = reader.GetField(cInvoice);
            ReadOnlySpan<char> stock = reader.GetField(cStock);
            if (invoice.IsEmpty || stock.IsEmpty)
            {
                reader.RejectRecord(invoice.IsEmpty ? "empty InvoiceNo" : "empty StockCode");
                continue;
            }

            report.RowsRead++;
            int fileOrder = order++;
            ReadOnlySpan<char> customer = reader.GetField(cCustomer);
            if (customer.IsEmpty)
            {
                report.RowsWithoutCustomer++;
                continue;
            }

            EventKind kind = EventKind.Purchase;
            if (invoice[0] is 'C' or 'c')
            {
                report.CancellationRows++;
                if (!options.KeepReturns || quantity == 0)
                {
                    continue;
                }

                kind = EventKind.Return;
            }
            else if (quantity <= 0)
            {
                report.NonPositiveQuantityRows++;
                if (!options.KeepReturns || quantity == 0)
                {
                    continue;
                }

                kind = EventKind.Return;
            }

            var key = new RowKey(
                invoices.Intern(invoice),
                stocks.Intern(stock),
                descriptions.Intern(reader.GetField(cDescription)),
                quantities.Intern(quantityText),
                ticks,
                prices.Intern(priceText),
                customers.Intern(customer),
                countries.Intern(reader.GetField(cCountry)));
            if (kind == EventKind.Purchase)
            {
                report.PurchaseRows++;
                purchaseUsers.Add(key.Customer);
                purchaseItems.Add(key.Stock);
            }

            if (options.DropDuplicates && !seen.Add(key))
            {
                report.DuplicateRows++;
                continue;
            }

            if (!options.KeepNonProductCodes && IsNonProductCode(stock))
            {
                report.NonProductRows++;
                continue;
            }

            kept.Add(new Row(key, fileOrder, kind, quantity, price));
        }

        report.MalformedRows = reader.Report.Skipped;
        report.CsvReport = reader.Report;
        report.PurchaseUsers = purchaseUsers.Count;
        report.PurchaseItems = purchaseItems.Count;

        // Stable time order: the file position breaks ties, so invoices keep their line order.
        Row[] rows = kept.ToArray();
        Array.Sort(rows, static (a, b) => a.Key.Ticks != b.Key.Ticks ? a.Key.Ticks.CompareTo(b.Key.Ticks) : a.Order.CompareTo(b.Order));

        var log = new InteractionLog();
        int[] userIndex = Filled(customers.Count), itemIndex = Filled(stocks.Count), basketIndex = Filled(invoices.Count);
        var itemDescriptions = new List<string>();
        var userCountries = new List<string>();
        foreach (Row row in rows)
        {
            RowKey k = row.Key;
            if (userIndex[k.Customer] < 0)
            {
                userIndex[k.Customer] = log.Users.GetOrAdd(customers[k.Customer]);
                userCountries.Add(countries[k.Country]);
            }

            if (itemIndex[k.Stock] < 0)
            {
                itemIndex[k.Stock] = log.Items.GetOrAdd(stocks[k.Stock]);
                itemDescriptions.Add(descriptions[k.Description]);
            }
            else if (itemDescriptions[itemIndex[k.Stock]].Length == 0)
            {
                // Keep the first non-empty description an item is seen with.
                itemDescriptions[itemIndex[k.Stock]] = descriptions[k.Description];
            }

            if (basketIndex[k.Invoice] < 0)
            {
                basketIndex[k.Invoice] = log.Baskets.GetOrAdd(invoices[k.Invoice]);
            }

            log.Append(new Interaction(userIndex[k.Customer], itemIndex[k.Stock], k.Ticks, row.Kind, row.Quantity, row.Price, basketIndex[k.Invoice]));
            if (row.Kind == EventKind.Return)
            {
                report.ReturnEvents++;
            }
        }

        report.Events = log.Count;
        report.Users = log.Users.Count;
        report.Items = log.Items.Count;
        report.Baskets = log.Baskets.Count;
        if (rows.Length > 0)
        {
            report.FirstTimestamp = new DateTimeOffset(rows[0].Key.Ticks, TimeSpan.Zero);
            report.LastTimestamp = new DateTimeOffset(rows[^1].Key.Ticks, TimeSpan.Zero);
        }

        return new OnlineRetailData(log, report, itemDescriptions, userCountries);
    }

    private static int[] Filled(int length)
    {
        var array = new int[length];
        Array.Fill(array, -1);
        return array;
    }

    /// <summary>All eight fields of a line, interned (the date as ticks, which is one-to-one for the fixed format).</summary>
    private readonly record struct RowKey(int Invoice, int Stock, int Description, int Quantity, long Ticks, int Price, int Customer, int Country);

    private readonly record struct Row(RowKey Key, int Order, EventKind Kind, float Quantity, float Price);
}

/// <summary>The result of <see cref="OnlineRetail.Load(string, OnlineRetailOptions?)"/>.</summary>
/// <param name="Log">The cleaned events in time order (ties in file order).</param>
/// <param name="Report">What each cleaning step did, with counts.</param>
/// <param name="ItemDescriptions">The first non-empty description of each item, by dense item index ("" if none).</param>
/// <param name="UserCountries">Each user's country (from their first event), by dense user index.</param>
public sealed record OnlineRetailData(
    InteractionLog Log,
    CleaningReport Report,
    IReadOnlyList<string> ItemDescriptions,
    IReadOnlyList<string> UserCountries);

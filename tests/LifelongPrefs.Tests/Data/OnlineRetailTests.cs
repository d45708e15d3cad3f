using System.Diagnostics;
using LifelongPrefs.Data;
using Xunit.Abstractions;

namespace LifelongPrefs.Tests.Data;

/// <summary>
/// Cleaning counts on the real file against the data README's verified numbers (python csv + gzip), and against
/// independent python counts of each cleaning step (noted per assertion).
/// </summary>
public class OnlineRetailTests(ITestOutputHelper output)
{
    [Fact]
    public void Real_file_counts_match_the_readme()
    {
        var watch = Stopwatch.StartNew();
        OnlineRetailData data = SampleFiles.Default;
        output.WriteLine($"load + clean: {watch.Elapsed.TotalSeconds:F2} s (or cached)");
        CleaningReport r = data.Report;
        output.WriteLine(r.ToString());

        // README "Verified numbers".
        Assert.Equal(541_909, r.RowsRead);
        Assert.Equal(135_080, r.RowsWithoutCustomer);
        Assert.Equal(0, r.MalformedRows);
        Assert.Equal(397_924, r.PurchaseRows);
        Assert.Equal(4_339, r.PurchaseUsers);
        Assert.Equal(3_665, r.PurchaseItems);

        // With a customer, all 8,905 cancellation rows have negative quantities, and no other row does
        // (README: 9,288 C rows and 10,624 negative rows overall; the rest have no CustomerID).
        Assert.Equal(8_905, r.CancellationRows);
        Assert.Equal(0, r.NonPositiveQuantityRows);
        Assert.Equal(r.RowsRead, r.RowsWithoutCustomer + r.CancellationRows + r.NonPositiveQuantityRows + r.PurchaseRows);

        // Independent python counts of the later steps: 5,192 exact duplicates among the purchase rows, then 1,549
        // non-product lines, leaving 391,183 events by 4,335 users on 3,659 items in 18,405 invoices.
        Assert.Equal(5_192, r.DuplicateRows);
        Assert.Equal(1_549, r.NonProductRows);
        Assert.Equal(391_183, r.Events);
        Assert.Equal(r.PurchaseRows - r.DuplicateRows - r.NonProductRows, r.Events);
        Assert.Equal(4_335, r.Users);
        Assert.Equal(3_659, r.Items);
        Assert.Equal(18_405, r.Baskets);
        Assert.Equal(0, r.ReturnEvents);
        Assert.Equal(new DateTimeOffset(2010, 12, 1, 8, 26, 0, TimeSpan.Zero), r.FirstTimestamp);
        Assert.Equal(new DateTimeOffset(2011, 12, 9, 12, 50, 0, TimeSpan.Zero), r.LastTimestamp);

        InteractionLog log = data.Log;
        Assert.Equal(r.Events, log.Count);
        Assert.Equal(log.Users.Count, r.Users);
        Assert.Equal(log.Items.Count, data.ItemDescriptions.Count);
        Assert.Equal(log.Users.Count, data.UserCountries.Count);

        // First and last events of the file in time order (ties in file order).
        Interaction first = log.Events[0], last = log.Events[^1];
        Assert.Equal("17850", log.Users.GetId(first.User));
        Assert.Equal("85123A", log.Items.GetId(first.Item));
        Assert.Equal("536365", log.Baskets.GetId(first.Basket));
        Assert.Equal(6f, first.Quantity);
        Assert.Equal(2.55f, first.Value);
        Assert.Equal("WHITE HANGING HEART T-LIGHT HOLDER", data.ItemDescriptions[first.Item]);
        Assert.Equal("United Kingdom", data.UserCountries[first.User]);
        Assert.Equal("12680", log.Users.GetId(last.User));
        Assert.Equal("22138", log.Items.GetId(last.Item));

        long previous = long.MinValue;
        foreach (Interaction e in log.Events)
        {
            Assert.True(e.Ticks >= previous, "events must be in time order");
            Assert.Equal(EventKind.Purchase, e.Kind);
            Assert.True(e.Quantity > 0);
            Assert.False(OnlineRetail.IsNonProductCode(log.Items.GetId(e.Item)));
            previous = e.Ticks;
        }
    }

    [Fact]
    public void Keeping_returns_and_non_product_codes_changes_only_those_steps()
    {
        OnlineRetailData data = OnlineRetail.Load(SampleFiles.OnlineRetail, new OnlineRetailOptions { KeepReturns = true, KeepNonProductCodes = true });
        CleaningReport r = data.Report;
        Assert.True(r.ReturnsKept);
        Assert.Equal(397_924, r.PurchaseRows);
        Assert.Equal(8_905, r.CancellationRows);
        Assert.Equal(0, r.NonProductRows);

        // python: with returns kept, 5,225 duplicates; the 1,915 non-product lines (incl. returns) stay.
        Assert.Equal(5_225, r.DuplicateRows);
        Assert.Equal(397_924 + 8_905 - 5_225, r.Events);
        int returns = 0;
        foreach (Interaction e in data.Log.Events)
        {
            Assert.Equal(e.Kind == EventKind.Return, e.Quantity < 0);
            Assert.Equal(e.Kind == EventKind.Return, data.Log.Baskets.GetId(e.Basket).StartsWith('C'));
            returns += e.Kind == EventKind.Return ? 1 : 0;
        }

        Assert.Equal(r.ReturnEvents, returns);
        Assert.True(returns > 8_000);
    }

    [Fact]
    public void Loading_is_deterministic()
    {
        OnlineRetailData a = SampleFiles.Default;
        using var stream = File.OpenRead(SampleFiles.OnlineRetail);
        OnlineRetailData b = OnlineRetail.Load(stream);
        Assert.Equal(a.Log.Users.Ids, b.Log.Users.Ids);
        Assert.Equal(a.Log.Items.Ids, b.Log.Items.Ids);
        Assert.Equal(a.Log.Events, b.Log.Events);
        Assert.Equal(a.Report.ToString(), b.Report.ToString());
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("DOT", true)]
    [InlineData("m", true)]
    [InlineData("BANK CHARGES", true)]
    [InlineData("DCGS0066P", true)]
    [InlineData("gift_0001_20", true)]
    [InlineData("85123A", false)]
    [InlineData("22138", false)]
    [InlineData("POSTAGE", false)]
    [InlineData("15056BL", false)]
    public void Non_product_codes(string code, bool expected) => Assert.Equal(expected, OnlineRetail.IsNonProductCode(code));

    [Fact]
    public void Small_file_steps_and_ordering()
    {
        const string csv = """
            InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
            2,B1,"late, item",1,2011-01-02 10:00:00,1.5,u2,UK
            1,A1,first,2,2011-01-01 09:00:00,2.5,u1,UK
            1,A2,second,1,2011-01-01 09:00:00,1,u1,UK
            1,A2,second,1,2011-01-01 09:00:00,1,u1,UK
            1,POST,postage,1,2011-01-01 09:00:00,18,u1,UK
            C3,A1,first,-2,2011-01-03 09:00:00,2.5,u1,UK
            4,A1,first,3,2011-01-04 09:00:00,2.5,,UK
            5,A1,first,-1,2011-01-05 09:00:00,2.5,u2,UK
            """;
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv));
        OnlineRetailData data = OnlineRetail.Load(stream);
        CleaningReport r = data.Report;
        Assert.Equal(8, r.RowsRead);
        Assert.Equal(1, r.RowsWithoutCustomer);
        Assert.Equal(1, r.CancellationRows);
        Assert.Equal(1, r.NonPositiveQuantityRows);
        Assert.Equal(5, r.PurchaseRows);
        Assert.Equal(1, r.DuplicateRows);
        Assert.Equal(1, r.NonProductRows);
        Assert.Equal(3, r.Events);
        InteractionLog log = data.Log;

        // Sorted by time: invoice 1 (file order A1, A2) before invoice 2; ids assigned in that order.
        Assert.Equal(["u1", "u2"], log.Users.Ids);
        Assert.Equal(["A1", "A2", "B1"], log.Items.Ids);
        Assert.Equal(["1", "2"], log.Baskets.Ids);
        Assert.Equal("late, item", data.ItemDescriptions[2]);
        Assert.Contains("purchase rows", r.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_line_is_fatal_when_strict_and_counted_when_lenient()
    {
        const string csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            + "1,A1,x,1,2011-01-01 09:00:00,1,u1,UK\n"
            + "1,A2,x,one,2011-01-01 09:00:00,1,u1,UK\n"
            + "1,A3,x,1,2011-13-01 09:00:00,1,u1,UK\n"
            + "1,A4,x,1,2011-01-01 09:00:00,1,u1\n"
            + "1,A5,x,1,2011-01-01 09:00:00,1,u1,UK\n";
        var ex = Assert.Throws<CsvFormatException>(() => OnlineRetail.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv))));
        Assert.Equal(3, ex.LineNumber);
        Assert.Contains("Quantity", ex.Message, StringComparison.Ordinal);

        OnlineRetailData data = OnlineRetail.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), new OnlineRetailOptions { Lenient = true });
        Assert.Equal(3, data.Report.MalformedRows);
        Assert.Equal(2, data.Report.RowsRead);
        Assert.Equal([3L, 4L, 5L], data.Report.CsvReport.Samples.Select(p => p.LineNumber));
        Assert.Equal(["A1", "A5"], data.Log.Items.Ids);
    }

    [Fact]
    public void Missing_column_is_reported_by_name()
    {
        var ex = Assert.Throws<CsvFormatException>(() => OnlineRetail.Load(new MemoryStream("InvoiceNo,StockCode\n1,A\n"u8.ToArray())));
        Assert.Contains("'Description'", ex.Message, StringComparison.Ordinal);
    }
}

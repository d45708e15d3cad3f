using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>The general column-mapped loader: values, defaults, ordering, bad values, id-map stability.</summary>
public class CsvEventLoaderTests
{
    private const string Csv = """
        session,customer,sku,when,action,qty,price,cat,title
        s2,bob,i2,2024-01-02T10:00:00Z,view,1,0,toys,"Robot, red"
        s1,ann,i1,2024-01-01 09:00:00,purchase,2,3.5,,
        s1,ann,i2,2024-01-01 09:00:00,add-to-cart,1,9.25,toys,
        ,bob,i3,2024-01-01T12:00:00+02:00,RATING,1,4,,
        """;

    private static readonly CsvColumnMapping Mapping = new()
    {
        User = "customer",
        Item = "sku",
        Timestamp = "when",
        Kind = "action",
        Quantity = "qty",
        Value = "price",
        Basket = "session",
        Category = "cat",
        Text = "title",
    };

    [Fact]
    public void Streams_events_with_every_mapped_column()
    {
        using var reader = new CsvReader(new StringReader(Csv));
        var events = CsvEventLoader.Read(reader, Mapping).ToList();
        Assert.Equal(4, events.Count);
        Assert.Equal(new InteractionEvent("bob", "i2", new DateTimeOffset(2024, 1, 2, 10, 0, 0, TimeSpan.Zero), EventKind.View, 1, 0, "s2", new ItemAttributes("toys", null, "Robot, red")), events[0]);
        Assert.Equal(new InteractionEvent("ann", "i1", new DateTimeOffset(2024, 1, 1, 9, 0, 0, TimeSpan.Zero), EventKind.Purchase, 2, 3.5f, "s1"), events[1]);
        Assert.Equal(EventKind.AddToCart, events[2].Kind);
        Assert.Equal(EventKind.Rating, events[3].Kind);
        Assert.Null(events[3].BasketId);

        // +02:00 converts to UTC.
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.Zero), events[3].Timestamp);

        // Interning: equal ids share one string.
        Assert.Same(events[1].UserId, events[2].UserId);
    }

    [Fact]
    public void LoadInto_orders_by_time_with_ties_in_file_order_and_keeps_ids_stable()
    {
        using var reader = new CsvReader(new StringReader(Csv));
        var log = new InteractionLog();
        Assert.Equal(4, CsvEventLoader.LoadInto(log, reader, Mapping));

        // ann's two lines share a time and keep file order (i1, i2); bob's +02:00 event (10:00Z) comes next.
        Assert.Equal(["i1", "i2", "i3"], log.Items.Ids);
        Assert.Equal(["ann", "bob"], log.Users.Ids);
        long[] ticks = [.. log.Events.Select(e => e.Ticks)];
        Assert.Equal(ticks.Order(), ticks);

        // Loading more grows the maps without renumbering existing ids.
        using var more = new CsvReader(new StringReader("customer,sku,when\ncarl,i9,2024-02-01\nann,i2,2024-02-02\n"));
        CsvEventLoader.LoadInto(log, more, new CsvColumnMapping { User = "customer", Item = "sku", Timestamp = "when" });
        Assert.Equal(["ann", "bob", "carl"], log.Users.Ids);
        Assert.Equal(["i1", "i2", "i3", "i9"], log.Items.Ids);
        Assert.Equal(1, log.Events[^1].Item);
        Assert.Equal(EventKind.Purchase, log.Events[^1].Kind);
        Assert.Equal(1f, log.Events[^1].Quantity);
        Assert.Equal(-1, log.Events[^1].Basket);
    }

    [Theory]
    [InlineData("u,i,yesterday,1", "time stamp")]
    [InlineData("u,i,2024-01-01,lots", "quantity")]
    [InlineData(",i,2024-01-01,1", "empty user")]
    public void Bad_values_throw_when_strict_and_are_counted_when_lenient(string badLine, string reason)
    {
        string text = $"u,i,t,q\nu,i,2024-01-01,1\n{badLine}\nu,j,2024-01-02,1\n";
        var mapping = new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", Quantity = "q" };
        using (var strict = new CsvReader(new StringReader(text)))
        {
            var ex = Assert.Throws<CsvFormatException>(() => CsvEventLoader.Read(strict, mapping).ToList());
            Assert.Equal(3, ex.LineNumber);
            Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
        }

        using var lenient = new CsvReader(new StringReader(text), new CsvReaderOptions { Lenient = true });
        Assert.Equal(2, CsvEventLoader.Read(lenient, mapping).Count());
        Assert.Equal(1, lenient.Report.Skipped);
        Assert.Equal(3, lenient.Report.Samples[0].LineNumber);
    }

    [Fact]
    public void Strict_failure_leaves_the_log_unchanged()
    {
        var log = new InteractionLog();
        using var reader = new CsvReader(new StringReader("u,i,t\na,x,2024-01-01\nb,y,never\n"));
        Assert.Throws<CsvFormatException>(() => CsvEventLoader.LoadInto(log, reader, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t" }));
        Assert.Equal(0, log.Count);
        Assert.Equal(0, log.Users.Count);
    }

    [Fact]
    public void Unix_and_custom_time_formats()
    {
        using var reader = new CsvReader(new StringReader("u,i,t\na,x,1700000000\n"));
        var e = CsvEventLoader.Read(reader, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = CsvColumnMapping.UnixSeconds }).Single();
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), e.Timestamp);

        using var custom = new CsvReader(new StringReader("u,i,t\na,x,03/02/2024 14:05\n"));
        var c = CsvEventLoader.Read(custom, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = "dd/MM/yyyy HH:mm" }).Single();
        Assert.Equal(new DateTimeOffset(2024, 2, 3, 14, 5, 0, TimeSpan.Zero), c.Timestamp);
    }

    [Fact]
    public void Missing_mapped_column_is_named()
    {
        using var reader = new CsvReader(new StringReader("u,i,t\n"));
        var ex = Assert.Throws<ArgumentException>(() => CsvEventLoader.Read(reader, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", Basket = "invoice" }));
        Assert.Contains("'invoice'", ex.Message, StringComparison.Ordinal);
    }
}

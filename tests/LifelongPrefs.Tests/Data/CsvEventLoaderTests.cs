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

    private static List<InteractionEvent> ReadAll(string text, CsvColumnMapping mapping, CsvReaderOptions? options = null)
    {
        using var reader = new CsvReader(new StringReader(text), options);
        return [.. CsvEventLoader.Read(reader, mapping)];
    }

    [Fact]
    public void Unix_seconds_file_with_tabs_and_no_basket_column()
    {
        // The kind of file that used to stop the sample: tab-separated, Unix seconds, no basket column.
        // 1700000000 s after the epoch is 2023-11-14 22:13:20 UTC; 0 is the epoch; -86400 the day before.
        const string text = "user\titem\tts\nann\tx\t1700000000\nbob\ty\t0\ncid\tz\t-86400\nann\ty\t1700000000.25\n";
        var events = ReadAll(text, new CsvColumnMapping { User = "user", Item = "item", Timestamp = "ts", TimestampFormat = CsvColumnMapping.UnixSeconds },
            new CsvReaderOptions { DetectDelimiter = true });
        Assert.Equal(
            [
                new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero),
                new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2023, 11, 14, 22, 13, 20, 250, TimeSpan.Zero),
            ],
            events.Select(e => e.Timestamp));
        Assert.All(events, e => Assert.Null(e.BasketId));
    }

    [Fact]
    public void Unix_milliseconds_iso_and_custom_patterns()
    {
        var ms = ReadAll("u,i,t\na,x,1700000000123\n", new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = CsvColumnMapping.UnixMilliseconds }).Single();
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, 123, TimeSpan.Zero), ms.Timestamp);

        // "iso" means the same as no format: sortable text, a 'Z' or an offset.
        const string iso = "u,i,t\na,x,2024-01-02 10:00:00\na,y,2024-01-02T12:00:00+02:00\n";
        var named = ReadAll(iso, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = CsvColumnMapping.Iso8601 });
        Assert.Equal([new DateTimeOffset(2024, 1, 2, 10, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 1, 2, 10, 0, 0, TimeSpan.Zero)], named.Select(e => e.Timestamp));

        var us = ReadAll("u,i,t\na,x,12/31/2023 11:59 PM\n", new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = "MM/dd/yyyy hh:mm tt" }).Single();
        Assert.Equal(new DateTimeOffset(2023, 12, 31, 23, 59, 0, TimeSpan.Zero), us.Timestamp);
    }

    [Theory]
    [InlineData(CsvColumnMapping.UnixSeconds, "0", "17e8")]
    [InlineData(CsvColumnMapping.UnixSeconds, "0", "253402300800")] // one second past DateTime.MaxValue
    [InlineData(CsvColumnMapping.UnixSeconds, "0", "-62135596801")] // one second before 0001-01-01
    [InlineData(CsvColumnMapping.UnixMilliseconds, "0", "1.5.3")]
    [InlineData("dd/MM/yyyy", "02/01/2024", "2024-01-02")]
    public void Bad_time_stamps_are_rejected_naming_line_column_and_value(string format, string good, string bad)
    {
        var mapping = new CsvColumnMapping { User = "u", Item = "i", Timestamp = "when", TimestampFormat = format };
        var ex = Assert.Throws<CsvFormatException>(() => ReadAll($"u,i,when\na,x,{good}\nb,y,{bad}\n", mapping));
        Assert.Equal(3, ex.LineNumber);
        Assert.Equal($"CSV line 3: unparsable time stamp '{bad}' in column 'when'", ex.Message);
    }

    [Theory]
    [InlineData("1700000000", "unix-s")]
    [InlineData("1700000000123", "unix-ms")]
    public void Unix_time_under_the_iso_format_names_the_format_to_use(string value, string suggested)
    {
        var ex = Assert.Throws<CsvFormatException>(() => ReadAll($"u,i,t\na,x,{value}\n", new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t" }));
        Assert.Contains($"'{value}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"use the time format '{suggested}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("yyyy-MM-dd 'T")]
    [InlineData(" ")]
    public void Invalid_pattern_is_rejected_before_any_record(string format)
    {
        using var reader = new CsvReader(new StringReader("u,i,t\na,x,2024-01-01\n"));
        var ex = Assert.Throws<ArgumentException>(() => CsvEventLoader.Read(reader, new CsvColumnMapping { User = "u", Item = "i", Timestamp = "t", TimestampFormat = format }));
        Assert.Contains($"'{format}'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, reader.RecordsRead);
    }

    [Fact]
    public void Names_ignore_case_and_numbers_address_columns()
    {
        const string text = "InvoiceNo,CustomerID,StockCode,InvoiceDate\n536365,17850,85123A,2010-12-01 08:26:00\n";
        var byName = ReadAll(text, new CsvColumnMapping { User = "customerid", Item = "STOCKCODE", Timestamp = "invoicedate", Basket = "invoiceno" }).Single();
        var byNumber = ReadAll(text, new CsvColumnMapping { User = "2", Item = "3", Timestamp = "4", Basket = "1" }).Single();
        var expected = new InteractionEvent("17850", "85123A", new DateTimeOffset(2010, 12, 1, 8, 26, 0, TimeSpan.Zero), EventKind.Purchase, BasketId: "536365");
        Assert.Equal(expected, byName);
        Assert.Equal(expected, byNumber);

        // A column literally called "2" is found by its name, not as the second column.
        var literal = ReadAll("1,2,t\na,b,2024-01-01\n", new CsvColumnMapping { User = "1", Item = "2", Timestamp = "3" }).Single();
        Assert.Equal(("a", "b"), (literal.UserId, literal.ItemId));

        var beyond = Assert.Throws<ArgumentException>(() => ReadAll(text, new CsvColumnMapping { User = "2", Item = "3", Timestamp = "5" }));
        Assert.Contains("Column 5", beyond.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => ReadAll(text, new CsvColumnMapping { User = "customer", Item = "3", Timestamp = "4" }));
        Assert.Contains("'customer'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Headerless_file_by_column_numbers()
    {
        const string text = "17850;85123A;1291191960\n13047;22423;1291192020\n";
        var options = new CsvReaderOptions { HasHeader = false, DetectDelimiter = true };
        var mapping = new CsvColumnMapping { User = "1", Item = "2", Timestamp = "3", TimestampFormat = CsvColumnMapping.UnixSeconds };
        var events = ReadAll(text, mapping, options);

        // 1291191960 s = 2010-12-01 08:26:00 UTC (hand-computed: 14944 days + 30360 s).
        Assert.Equal(
            [
                new InteractionEvent("17850", "85123A", new DateTimeOffset(2010, 12, 1, 8, 26, 0, TimeSpan.Zero), EventKind.Purchase),
                new InteractionEvent("13047", "22423", new DateTimeOffset(2010, 12, 1, 8, 27, 0, TimeSpan.Zero), EventKind.Purchase),
            ],
            events);

        var named = Assert.Throws<ArgumentException>(() => ReadAll(text, mapping with { User = "user" }, options));
        Assert.Contains("'user'", named.Message, StringComparison.Ordinal);
        Assert.Contains("no header", named.Message, StringComparison.Ordinal);

        // The width is only known from the first record: the check happens there, before any event is returned.
        using var reader = new CsvReader(new StringReader(text), options);
        var wide = Assert.Throws<ArgumentException>(() => CsvEventLoader.Read(reader, mapping with { Basket = "7" }).ToList());
        Assert.Contains("Column 7 is beyond the 3 columns", wide.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Minimum_value_keeps_ratings_at_or_above_it()
    {
        // Ratings 5, 3, 4, 1, 4.5: "rated 4 or more" keeps the first, third and fifth rows.
        const string text = "user,movie,rating,ts\na,m1,5,1\na,m2,3,2\nb,m1,4,3\nb,m3,1,4\nc,m2,4.5,5\n";
        var mapping = new CsvColumnMapping { User = "user", Item = "movie", Timestamp = "ts", TimestampFormat = CsvColumnMapping.UnixSeconds, Value = "rating", MinimumValue = 4 };
        var kept = ReadAll(text, mapping);
        Assert.Equal([("a", "m1", 5f), ("b", "m1", 4f), ("c", "m2", 4.5f)], kept.Select(e => (e.UserId, e.ItemId, e.Value)));
        Assert.Equal(5, ReadAll(text, mapping with { MinimumValue = null }).Count);

        string path = Path.Combine(Path.GetTempPath(), $"lp-ratings-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, text);
            CsvLoadResult result = CsvEventLoader.Load(path, mapping);
            Assert.Equal(3, result.Log.Count);
            Assert.Equal(2, result.BelowMinimum);
            Assert.Equal(0, result.Report.Skipped);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<ArgumentException>(() => ReadAll(text, mapping with { Value = null }));
        Assert.Throws<ArgumentException>(() => ReadAll(text, mapping with { MinimumValue = float.NaN }));
    }

    [Fact]
    public void Load_reports_the_detected_delimiter_and_item_texts()
    {
        const string text = "user\titem\tt\tdesc\na\tx\t2024-01-02\t\nb\ty\t2024-01-01\tYellow mug\na\tx\t2024-01-03\tRed box\n";
        string path = Path.Combine(Path.GetTempPath(), $"lp-texts-{Guid.NewGuid():N}.tsv");
        try
        {
            File.WriteAllText(path, text);
            var mapping = new CsvColumnMapping { User = "user", Item = "item", Timestamp = "t", Text = "desc" };
            CsvLoadResult result = CsvEventLoader.Load(path, mapping, new CsvReaderOptions { DetectDelimiter = true });
            Assert.Equal('\t', result.Delimiter);

            // Time order puts y (2024-01-01) first; x's first non-empty text is "Red box" (its earlier row has none).
            Assert.Equal(["y", "x"], result.Log.Items.Ids);
            Assert.Equal(["Yellow mug", "Red box"], result.ItemTexts);

            CsvLoadResult plain = CsvEventLoader.Load(path, mapping with { Text = null }, new CsvReaderOptions { DetectDelimiter = true });
            Assert.Equal(["", ""], plain.ItemTexts);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_from_a_stream_equals_load_from_the_file_and_leaves_the_stream_open()
    {
        const string text = "user;item;t;basket\nb;y;2024-01-02;i2\na;x;2024-01-01;i1\na;z;2024-01-01;i1\nbroken\n";
        var mapping = new CsvColumnMapping { User = "user", Item = "item", Timestamp = "t", Basket = "basket" };
        var options = new CsvReaderOptions { DetectDelimiter = true, Lenient = true };
        string path = Path.Combine(Path.GetTempPath(), $"lp-stream-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, text);
            CsvLoadResult fromFile = CsvEventLoader.Load(path, mapping, options);
            using var stream = new MemoryStream(File.ReadAllBytes(path));
            CsvLoadResult fromStream = CsvEventLoader.Load(stream, mapping, options);

            Assert.Equal(3, fromFile.Log.Count);
            Assert.Equal(fromFile.Log.Events, fromStream.Log.Events);
            Assert.Equal(fromFile.Log.Users.Ids, fromStream.Log.Users.Ids);
            Assert.Equal(fromFile.Log.Items.Ids, fromStream.Log.Items.Ids);
            Assert.Equal(fromFile.Log.Baskets.Ids, fromStream.Log.Baskets.Ids);
            Assert.Equal((';', 1L), (fromStream.Delimiter, fromStream.Report.Skipped));
            Assert.Equal(fromFile.Report.Skipped, fromStream.Report.Skipped);
            Assert.True(stream.CanRead);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<ArgumentNullException>(() => CsvEventLoader.Load((Stream)null!, mapping));
        Assert.Throws<ArgumentNullException>(() => CsvEventLoader.Load(new MemoryStream(), null!));
    }
}

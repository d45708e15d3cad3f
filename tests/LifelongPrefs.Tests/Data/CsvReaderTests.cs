using System.IO.Compression;
using System.Text;
using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>RFC-4180 edge cases, gzip, strict vs lenient, against hand-written expected fields.</summary>
public class CsvReaderTests
{
    private static List<string[]> ReadAll(string text, CsvReaderOptions? options = null)
    {
        using var reader = new CsvReader(new StringReader(text), options);
        return ReadAll(reader);
    }

    private static List<string[]> ReadAll(CsvReader reader)
    {
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.GetString(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    [Fact]
    public void Quoted_fields_with_commas_doubled_quotes_and_newlines()
    {
        const string text = "a,b,c\n"
            + "\"x, y\",\"say \"\"hi\"\"\",\"line1\nline2\"\n"
            + "plain,,\"\"\n"
            + "\"\"\"\",\"a\r\nb\",z\n";
        using var reader = new CsvReader(new StringReader(text));
        Assert.Equal(["a", "b", "c"], reader.Header);
        Assert.True(reader.Read());
        Assert.Equal(2, reader.LineNumber);
        Assert.Equal("x, y", reader.GetString(0));
        Assert.Equal("say \"hi\"", reader.GetString(1));
        Assert.Equal("line1\nline2", reader.GetString(2));
        Assert.True(reader.Read());
        Assert.Equal(4, reader.LineNumber);
        Assert.Equal(["plain", "", ""], [reader.GetString(0), reader.GetString(1), reader.GetString(2)]);
        Assert.True(reader.Read());
        Assert.Equal(5, reader.LineNumber);
        Assert.Equal("\"", reader.GetString(0));
        Assert.Equal("a\r\nb", reader.GetString(1)); // line breaks inside quotes are kept verbatim
        Assert.Equal("z", reader.GetString(2));
        Assert.False(reader.Read());
        Assert.Equal(3, reader.RecordsRead);
    }

    [Theory]
    [InlineData("h1,h2\r\n1,2\r\n3,4\r\n")]
    [InlineData("h1,h2\n1,2\n3,4\n")]
    [InlineData("h1,h2\n1,2\n3,4")]
    [InlineData("h1,h2\r\n1,2\r\n\r\n3,4")]
    [InlineData("h1,h2\r1,2\r3,4\r")]
    public void Line_endings_and_blank_lines(string text)
    {
        Assert.Equal([["1", "2"], ["3", "4"]], ReadAll(text));
    }

    [Fact]
    public void Empty_fields_trailing_delimiter_and_custom_delimiter()
    {
        Assert.Equal([["", "", ""], ["a", "", ""]], ReadAll("x,y,z\n,,\na,,\n"));
        Assert.Equal([["a,b", "c"]], ReadAll("p;q\na,b;c\n", new CsvReaderOptions { Delimiter = ';' }));
        Assert.Equal([["1", "2"], ["3", "4"]], ReadAll("1,2\n3,4\n", new CsvReaderOptions { HasHeader = false }));
    }

    [Fact]
    public void Quote_inside_an_unquoted_field_is_literal()
    {
        Assert.Equal([["5\" pipe", "x"]], ReadAll("a,b\n5\" pipe,x\n"));
    }

    [Fact]
    public void Utf8_bom_and_non_ascii_text()
    {
        byte[] bytes = [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("name,v\n\"Café, ☕\",1\n")];
        using var reader = new CsvReader(new MemoryStream(bytes));
        Assert.Equal("name", reader.Header[0]);
        Assert.Equal([["Café, ☕", "1"]], ReadAll(reader));
    }

    [Fact]
    public void Gzip_round_trip_through_a_temp_file_by_magic_bytes()
    {
        const string text = "user,item\n\"u,1\",\"i\"\"1\"\nu2,i2\n";
        string path = Path.Combine(Path.GetTempPath(), $"lp-csv-{Guid.NewGuid():N}.csv.gz");
        string plain = Path.ChangeExtension(path, ".bin");
        try
        {
            using (var file = File.Create(path))
            using (var gz = new GZipStream(file, CompressionLevel.Optimal))
            {
                gz.Write(Encoding.UTF8.GetBytes(text));
            }

            // Same bytes under a neutral extension: detection is by magic bytes, not by name.
            File.Copy(path, plain);
            foreach (string p in new[] { path, plain })
            {
                using CsvReader reader = CsvReader.Open(p);
                Assert.Equal(["user", "item"], reader.Header);
                Assert.Equal([["u,1", "i\"1"], ["u2", "i2"]], ReadAll(reader));
            }

            using (var stream = new MemoryStream(File.ReadAllBytes(path)))
            using (var reader = new CsvReader(stream, leaveOpen: true))
            {
                Assert.Equal(2, ReadAll(reader).Count);
            }
        }
        finally
        {
            File.Delete(path);
            File.Delete(plain);
        }
    }

    [Fact]
    public void Small_buffers_do_not_matter_for_long_fields()
    {
        // A field longer than the 64 K read buffer and the 256-char record buffer.
        string longText = new('x', 200_000);
        var rows = ReadAll($"a,b\n\"{longText}\",\"{longText}\"\"\"\n");
        Assert.Single(rows);
        Assert.Equal(longText, rows[0][0]);
        Assert.Equal(longText + "\"", rows[0][1]);
    }

    [Fact]
    public void Strict_mode_throws_with_line_and_reason()
    {
        var wrongCount = Assert.Throws<CsvFormatException>(() => ReadAll("a,b\n1,2\n1,2,3\n"));
        Assert.Equal(3, wrongCount.LineNumber);
        Assert.Contains("expected 2 fields but found 3", wrongCount.Message, StringComparison.Ordinal);

        var unterminated = Assert.Throws<CsvFormatException>(() => ReadAll("a,b\n1,2\n3,\"open\nmore\n"));
        Assert.Equal(3, unterminated.LineNumber);
        Assert.Contains("unterminated", unterminated.Reason, StringComparison.Ordinal);

        var afterQuote = Assert.Throws<CsvFormatException>(() => ReadAll("a,b\n\"x\"y,2\n"));
        Assert.Equal(2, afterQuote.LineNumber);
        Assert.IsType<FormatException>(afterQuote, exactMatch: false);
    }

    [Fact]
    public void Lenient_mode_skips_counts_and_resumes_at_the_next_record()
    {
        const string text = "a,b\n1,2\n1,2,3\n\"x\"y,2\n4\n5,\"multi\nline\"\n6,7\n8,\"never closed\n9,10\n";
        using var reader = new CsvReader(new StringReader(text), new CsvReaderOptions { Lenient = true, MaxReportedProblems = 2 });
        var rows = ReadAll(reader);
        Assert.Equal([["1", "2"], ["5", "multi\nline"], ["6", "7"]], rows);
        Assert.Equal(4, reader.Report.Skipped);
        Assert.Equal(2, reader.Report.Samples.Count); // only the first two are kept with details
        Assert.Equal(3, reader.Report.Samples[0].LineNumber);
        Assert.Equal(4, reader.Report.Samples[1].LineNumber);
        Assert.Contains("4 malformed", reader.Report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_record_follows_the_mode()
    {
        using (var strict = new CsvReader(new StringReader("a\n1\n")))
        {
            Assert.True(strict.Read());
            Assert.Throws<CsvFormatException>(() => strict.RejectRecord("bad value"));
        }

        using var lenient = new CsvReader(new StringReader("a\n1\n"), new CsvReaderOptions { Lenient = true });
        Assert.True(lenient.Read());
        lenient.RejectRecord("bad value");
        Assert.Equal(new CsvProblem(2, "bad value"), lenient.Report.Samples[0]);
    }

    [Theory]
    [InlineData("user\titem\tnote\nu1\ti1\ta,b;c\n", '\t')]
    [InlineData("user;item;note\nu1;i1;a,b\n", ';')]
    [InlineData("user|item|note\nu1|i1|x\n", '|')]
    [InlineData("\"a\tb\",\"c;d\",note\nu1,i1,x\n", ',')] // delimiters inside quotes do not count
    [InlineData("\n\r\nuser\titem\tnote\nu1\ti1\tx\n", '\t')] // blank lines before the header are skipped
    public void Detects_the_delimiter_from_the_first_line(string text, char expected)
    {
        using var reader = new CsvReader(new StringReader(text), new CsvReaderOptions { DetectDelimiter = true });
        Assert.Equal(expected, reader.Delimiter);
        Assert.Equal(3, reader.Header.Count);
        Assert.True(reader.Read());
        Assert.Equal(3, reader.FieldCount);
        Assert.Equal("u1", reader.GetString(0));
        Assert.Equal("i1", reader.GetString(1));
    }

    [Fact]
    public void Detection_ties_prefer_tab_and_falls_back_when_no_candidate_occurs()
    {
        // One tab, one comma: the tie goes to tab.
        using (var tie = new CsvReader(new StringReader("a\tb,c\n"), new CsvReaderOptions { DetectDelimiter = true }))
        {
            Assert.Equal('\t', tie.Delimiter);
            Assert.Equal(["a", "b,c"], tie.Header);
        }

        // A one-column file and an empty one keep the configured delimiter.
        using (var single = new CsvReader(new StringReader("id\n1\n"), new CsvReaderOptions { DetectDelimiter = true, Delimiter = ';' }))
        {
            Assert.Equal(';', single.Delimiter);
        }

        using (var empty = new CsvReader(new StringReader(""), new CsvReaderOptions { DetectDelimiter = true }))
        {
            Assert.Equal(',', empty.Delimiter);
            Assert.False(empty.Read());
        }

        // Without a header the first record decides, and it is still returned as data.
        Assert.Equal([["1", "2"], ["3", "4"]], ReadAll("1\t2\n3\t4\n", new CsvReaderOptions { DetectDelimiter = true, HasHeader = false }));

        // Without detection the configured delimiter is used even when another one dominates.
        using var fixedComma = new CsvReader(new StringReader("a\tb\tc\n"));
        Assert.Equal(',', fixedComma.Delimiter);
        Assert.Equal(["a\tb\tc"], fixedComma.Header);
    }

    [Fact]
    public void Detection_reads_on_when_the_text_reader_returns_one_character_at_a_time()
    {
        using var reader = new CsvReader(new TrickleReader("a\tb\tc\n1\t2\t3\n"), new CsvReaderOptions { DetectDelimiter = true });
        Assert.Equal('\t', reader.Delimiter);
        Assert.Equal([["1", "2", "3"]], ReadAll(reader));
    }

    /// <summary>A text reader that hands out one character per call, as a slow or chunked source may.</summary>
    private sealed class TrickleReader(string text) : TextReader
    {
        private int _next;

        public override int Read(char[] buffer, int index, int count)
        {
            if (_next >= text.Length || count == 0)
            {
                return 0;
            }

            buffer[index] = text[_next++];
            return 1;
        }
    }

    [Fact]
    public void GetOrdinal_prefers_the_exact_name_then_ignores_case_and_surrounding_space()
    {
        using var reader = new CsvReader(new StringReader("CustomerID, StockCode ,Date,date\n"));
        Assert.Equal(0, reader.GetOrdinal("customerid"));
        Assert.Equal(1, reader.GetOrdinal("stockcode"));
        Assert.Equal(2, reader.GetOrdinal("Date"));
        Assert.Equal(3, reader.GetOrdinal("date"));
        var ambiguous = Assert.Throws<ArgumentException>(() => reader.GetOrdinal("DATE"));
        Assert.Contains("'Date'", ambiguous.Message, StringComparison.Ordinal);
        Assert.Contains("'date'", ambiguous.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentException>(() => reader.GetOrdinal("price"));
        Assert.Contains("'price'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("CustomerID", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Argument_validation()
    {
        Assert.Throws<ArgumentException>(() => new CsvReader(new StringReader("a"), new CsvReaderOptions { Delimiter = '"' }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CsvReader(new StringReader("a"), new CsvReaderOptions { MaxReportedProblems = -1 }));
        using var reader = new CsvReader(new StringReader("a,b\n1,2\n"));
        var missing = Assert.Throws<ArgumentException>(() => reader.GetOrdinal("c"));
        Assert.Contains("'c'", missing.Message, StringComparison.Ordinal);
        Assert.True(reader.Read());
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.GetField(2).ToString());
        Assert.Throws<FileNotFoundException>(() => CsvReader.Open(Path.Combine(Path.GetTempPath(), "no-such-file-lp.csv")));
        Assert.Throws<CsvFormatException>(() => new CsvReader(new StringReader("\"a,b\n")));
    }
}

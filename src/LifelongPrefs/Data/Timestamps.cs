using System.Globalization;

namespace LifelongPrefs.Data;

/// <summary>Time stamp parsing shared by the loaders.</summary>
internal static class Timestamps
{
    /// <summary>
    /// Parses exactly <c>yyyy-MM-dd HH:mm:ss</c> (or with a 'T' separator) by hand — the hot path of the Online
    /// Retail loader, several times faster than <see cref="DateTime.TryParseExact(string, string, IFormatProvider, DateTimeStyles, out DateTime)"/> — and returns the
    /// wall-clock ticks taken as UTC.
    /// </summary>
    internal static bool TryParseSortable(ReadOnlySpan<char> s, out long ticks)
    {
        ticks = 0;
        if (s.Length != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!Digits(s[..4], out int year) || !Digits(s.Slice(5, 2), out int month) || !Digits(s.Slice(8, 2), out int day)
            || !Digits(s.Slice(11, 2), out int hour) || !Digits(s.Slice(14, 2), out int minute) || !Digits(s.Slice(17, 2), out int second))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks;
        return true;
    }

    /// <summary>
    /// Parses a time stamp by a <see cref="CsvColumnMapping.TimestampFormat"/> into UTC ticks: <see langword="null"/> or
    /// <see cref="CsvColumnMapping.Iso8601"/> for flexible ISO-8601-style text (no offset means UTC), Unix seconds or
    /// milliseconds (an optional sign and fraction, e.g. <c>1700000000.25</c>), or an exact .NET custom pattern.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<char> s, string? format, out long utcTicks)
    {
        utcTicks = 0;
        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces;
        DateTimeOffset value;
        switch (format)
        {
            case null:
            case CsvColumnMapping.Iso8601:
                if (TryParseSortable(s, out utcTicks))
                {
                    return true;
                }

                if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, styles, out value))
                {
                    return false;
                }

                break;
            case CsvColumnMapping.UnixSeconds:
                return TryParseUnix(s, TimeSpan.TicksPerSecond, out utcTicks);
            case CsvColumnMapping.UnixMilliseconds:
                return TryParseUnix(s, TimeSpan.TicksPerMillisecond, out utcTicks);
            default:
                if (!DateTimeOffset.TryParseExact(s, format, CultureInfo.InvariantCulture, styles, out value))
                {
                    return false;
                }

                break;
        }

        utcTicks = value.UtcTicks;
        return true;
    }

    /// <summary>
    /// Checks that <paramref name="format"/> is a format <see cref="TryParse"/> can use, so that a bad pattern is
    /// reported once, up front, instead of rejecting every record.
    /// </summary>
    /// <exception cref="ArgumentException">The format is empty or not a valid .NET date and time pattern.</exception>
    internal static void ValidateFormat(string? format, string paramName)
    {
        if (format is null or CsvColumnMapping.Iso8601 or CsvColumnMapping.UnixSeconds or CsvColumnMapping.UnixMilliseconds)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(format))
        {
            throw new ArgumentException($"The time stamp format must be '{CsvColumnMapping.Iso8601}', '{CsvColumnMapping.UnixSeconds}', '{CsvColumnMapping.UnixMilliseconds}' or a .NET pattern, not '{format}'.", paramName);
        }

        try
        {
            // Formatting throws on the same malformed patterns (a lone '%', an unclosed quote) that parsing would.
            _ = DateTimeOffset.UnixEpoch.ToString(format, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"The time stamp format '{format}' is not a valid .NET date and time pattern.", paramName);
        }
    }

    /// <summary>
    /// Parses a Unix time in whole or fractional units of <paramref name="ticksPerUnit"/> ticks (fractions below
    /// one tick are dropped toward the earlier tick). Fails on anything outside the <see cref="DateTime"/> range.
    /// </summary>
    private static bool TryParseUnix(ReadOnlySpan<char> s, long ticksPerUnit, out long utcTicks)
    {
        utcTicks = 0;
        s = s.Trim();
        long epoch = DateTime.UnixEpoch.Ticks;
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole))
        {
            // Range-check in units before multiplying, so the product cannot overflow.
            if (whole < -epoch / ticksPerUnit || whole > (DateTime.MaxValue.Ticks - epoch) / ticksPerUnit)
            {
                return false;
            }

            utcTicks = epoch + (whole * ticksPerUnit);
            return true;
        }

        // A fraction (rare: some exports write seconds as 1700000000.25): decimal keeps the digits exact.
        const NumberStyles fractional = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;
        if (!decimal.TryParse(s, fractional, CultureInfo.InvariantCulture, out decimal units)
            || units < -epoch / ticksPerUnit || units > (DateTime.MaxValue.Ticks - epoch) / ticksPerUnit)
        {
            return false;
        }

        utcTicks = epoch + (long)decimal.Floor(units * ticksPerUnit);
        return utcTicks >= 0 && utcTicks <= DateTime.MaxValue.Ticks;
    }

    /// <summary>
    /// A hint to append to an "unparsable time stamp" message: text of digits under the ISO format is most likely
    /// Unix time (13 or more digits: milliseconds), so name the format that would read it; "" otherwise.
    /// </summary>
    internal static string Hint(ReadOnlySpan<char> s, string? format)
    {
        s = s.Trim();
        if (format is not (null or CsvColumnMapping.Iso8601) || s.IsEmpty)
        {
            return string.Empty;
        }

        int digits = 0;
        foreach (char c in s[0] == '-' ? s[1..] : s)
        {
            if (c is >= '0' and <= '9')
            {
                digits++;
            }
            else if (c != '.')
            {
                return string.Empty;
            }
        }

        return digits == 0 ? string.Empty
            : $" (it looks like Unix time: use the time format '{(digits >= 13 ? CsvColumnMapping.UnixMilliseconds : CsvColumnMapping.UnixSeconds)}')";
    }

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (char c in s)
        {
            uint d = (uint)(c - '0');
            if (d > 9)
            {
                return false;
            }

            value = (value * 10) + (int)d;
        }

        return true;
    }

    /// <summary>A span of <paramref name="ticks"/> in days (fractional; the one conversion the models' time features share).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static double Days(long ticks) => ticks / (double)TimeSpan.TicksPerDay;

    /// <summary>The index of the first event at or after <paramref name="ticks"/> in events sorted by time (binary search).</summary>
    /// <param name="events">The events, oldest first.</param>
    /// <param name="ticks">The instant.</param>
    /// <returns>An index in [0, events length].</returns>
    internal static int FirstAtOrAfter(ReadOnlySpan<Interaction> events, long ticks)
    {
        int lo = 0, hi = events.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (events[mid].Ticks < ticks)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}

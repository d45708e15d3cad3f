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

    /// <summary>Parses a time stamp by a <see cref="CsvColumnMapping.TimestampFormat"/> into UTC ticks.</summary>
    internal static bool TryParse(ReadOnlySpan<char> s, string? format, out long utcTicks)
    {
        utcTicks = 0;
        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces;
        DateTimeOffset value;
        switch (format)
        {
            case null:
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
            case CsvColumnMapping.UnixMilliseconds:
                if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long unix))
                {
                    return false;
                }

                try
                {
                    value = format == CsvColumnMapping.UnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(unix) : DateTimeOffset.FromUnixTimeMilliseconds(unix);
                }
                catch (ArgumentOutOfRangeException)
                {
                    return false;
                }

                break;
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
}

namespace LifelongPrefs.Data;

/// <summary>Delimiter detection of <see cref="CsvReader"/>: the first line decides, outside quotes.</summary>
internal sealed partial class CsvReader
{
    /// <summary>
    /// Chooses the delimiter from the first non-empty line without consuming it: reads into the buffer until that
    /// line has ended (or the buffer is full, or input ends), then counts each candidate outside quotes; parsing
    /// then starts at the buffer's first character.
    /// </summary>
    private char DetectDelimiter(char fallback)
    {
        Span<int> counts = stackalloc int[DelimiterCandidates.Length];
        _position = 0;
        _length = 0;
        while (true)
        {
            // A text reader may return less than it could (a stream reader returns one decoded chunk), so keep reading.
            int n = _reader.Read(_buffer, _length, _buffer.Length - _length);
            if (n == 0)
            {
                _endOfInput = true;
            }

            _length += n;
            if (CountFirstLine(counts) || _endOfInput || _length == _buffer.Length)
            {
                break;
            }
        }

        int best = -1;
        for (int k = 0; k < counts.Length; k++)
        {
            if (counts[k] > 0 && (best < 0 || counts[k] > counts[best]))
            {
                best = k;
            }
        }

        return best < 0 ? fallback : DelimiterCandidates[best];
    }

    /// <summary>Counts the delimiter candidates of the buffered first line; true when its line end was seen.</summary>
    private bool CountFirstLine(Span<int> counts)
    {
        counts.Clear();
        bool quoted = false, started = false;
        for (int i = 0; i < _length; i++)
        {
            char c = _buffer[i];
            if (c is '\n' or '\r')
            {
                // Blank lines before the first record are skipped by the parser too.
                if (started && !quoted)
                {
                    return true;
                }

                continue;
            }

            started = true;

            // A doubled quote inside a quoted field toggles twice and so changes nothing.
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && DelimiterCandidates.IndexOf(c) is int k and >= 0)
            {
                counts[k]++;
            }
        }

        return false;
    }
}

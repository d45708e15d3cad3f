using System.Buffers.Binary;

namespace LifelongPrefs.Persistence;

/// <summary>
/// Reads the event journal back for recovery: every record from a sequence number on, each length and checksum
/// verified; an incompletely written last record is cut off and counted, anything else wrong is a
/// <see cref="TrackerStateException"/>.
/// </summary>
internal static class JournalReader
{
    /// <summary>
    /// Calls <paramref name="apply"/> with every record whose sequence number is at least <paramref name="from"/>, in
    /// order, and returns the next sequence number and the torn bytes cut from the end of the last segment.
    /// </summary>
    /// <param name="directory">The persistence directory.</param>
    /// <param name="from">The first sequence number wanted (a checkpoint's cover point; 0 without a checkpoint).</param>
    /// <param name="apply">Receives each payload (valid until it returns) and its sequence number.</param>
    /// <param name="truncateTorn">Whether to cut a torn tail off the file, so later appends follow a clean journal.</param>
    /// <exception cref="TrackerStateException">A segment header or a complete record is corrupt, or records are missing.</exception>
    internal static (long Next, long TornBytes) Replay(string directory, long from, Action<ReadOnlySpan<byte>, long> apply, bool truncateTorn)
    {
        List<(long First, string Path)> segments = JournalFormat.Segments(directory);
        long next = from;
        long torn = 0;
        bool started = false;
        for (int s = 0; s < segments.Count; s++)
        {
            (long first, string path) = segments[s];
            bool last = s == segments.Count - 1;
            if (s + 1 < segments.Count && segments[s + 1].First <= from)
            {
                continue; // wholly before the checkpoint (its deletion was interrupted)
            }

            if (first > next)
            {
                throw new TrackerStateException($"The journal is missing records {next} to {first - 1}: segment '{Path.GetFileName(path)}' starts at {first}.");
            }

            if (started && first != next)
            {
                throw new TrackerStateException($"Journal segment '{Path.GetFileName(path)}' starts at record {first}, but the segment before it ended at {next}.");
            }

            started = true;
            (long end, long cut) = ReadSegment(path, first, from, last, apply, truncateTorn);
            next = Math.Max(next, end);
            torn += cut;
        }

        return (next, torn);
    }

    private static (long End, long Torn) ReadSegment(string path, long first, long from, bool last, Action<ReadOnlySpan<byte>, long> apply, bool truncateTorn)
    {
        string name = Path.GetFileName(path);
        long sequence = first;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
        {
            long length = file.Length;
            Span<byte> header = stackalloc byte[JournalFormat.HeaderLength];
            if (length < JournalFormat.HeaderLength)
            {
                if (last && AllZeroOrShort(file, length))
                {
                    // Torn while its header was being written: the segment holds nothing.
                    return (first, length);
                }

                throw new TrackerStateException($"Journal segment '{name}' is {length} bytes, shorter than its {JournalFormat.HeaderLength}-byte header.");
            }

            file.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != JournalFormat.Magic)
            {
                throw new TrackerStateException($"'{name}' is not a journal segment (no LLPJ magic).");
            }

            if (JournalFormat.Crc32C(0, header[..20]) != BinaryPrimitives.ReadUInt32LittleEndian(header[20..]))
            {
                throw new TrackerStateException($"Journal segment '{name}' has a corrupt header (checksum mismatch).");
            }

            uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (version != JournalFormat.Version)
            {
                throw new TrackerStateException($"Journal segment '{name}' has format version {version}; this build reads version {JournalFormat.Version}.");
            }

            if (BinaryPrimitives.ReadInt64LittleEndian(header[8..]) != first)
            {
                throw new TrackerStateException($"Journal segment '{name}' says it starts at record {BinaryPrimitives.ReadInt64LittleEndian(header[8..])}, not {first} as its name says.");
            }

            long position = JournalFormat.HeaderLength;
            byte[] payload = new byte[256];
            Span<byte> prefix = stackalloc byte[JournalFormat.RecordPrefix];
            while (position < length)
            {
                long remaining = length - position;
                if (remaining < JournalFormat.RecordPrefix)
                {
                    return Torn(last, name, position, length, sequence, file, truncateTorn, path);
                }

                file.ReadExactly(prefix);
                uint declared = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
                if (declared == 0 || declared > JournalFormat.MaxPayload || declared > remaining - JournalFormat.RecordPrefix)
                {
                    if (last && (declared > remaining - JournalFormat.RecordPrefix || AllZeroFrom(file, position, length)))
                    {
                        return Torn(last, name, position, length, sequence, file, truncateTorn, path);
                    }

                    throw new TrackerStateException($"Journal segment '{name}' declares a record of {declared} bytes at offset {position} ({remaining} bytes remain).");
                }

                if (payload.Length < declared)
                {
                    payload = new byte[Math.Max((int)declared, 2 * payload.Length)];
                }

                Span<byte> body = payload.AsSpan(0, (int)declared);
                file.ReadExactly(body);
                if (JournalFormat.RecordCrc(prefix[..4], body) != BinaryPrimitives.ReadUInt32LittleEndian(prefix[4..]))
                {
                    throw new TrackerStateException($"Journal segment '{name}' has a corrupt record {sequence} at offset {position} (checksum mismatch).");
                }

                if (sequence >= from)
                {
                    apply(body, sequence);
                }

                sequence++;
                position += JournalFormat.RecordPrefix + declared;
            }

        }

        return (sequence, 0);
    }

    private static (long End, long Torn) Torn(bool last, string name, long position, long length, long sequence, FileStream file, bool truncate, string path)
    {
        if (!last)
        {
            throw new TrackerStateException($"Journal segment '{name}' ends inside a record at offset {position}, but it is not the last segment.");
        }

        file.Dispose();
        if (truncate)
        {
            using var cut = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
            cut.SetLength(position);
            cut.Flush(true);
        }

        return (sequence, length - position);
    }

    private static bool AllZeroOrShort(FileStream file, long length) => length == 0 || AllZeroFrom(file, 0, length);

    private static bool AllZeroFrom(FileStream file, long position, long length)
    {
        long saved = file.Position;
        file.Position = position;
        Span<byte> chunk = stackalloc byte[4096];
        try
        {
            for (long at = position; at < length;)
            {
                int n = file.Read(chunk[..(int)Math.Min(chunk.Length, length - at)]);
                if (n <= 0 || chunk[..n].ContainsAnyExcept((byte)0))
                {
                    return false;
                }

                at += n;
            }

            return true;
        }
        finally
        {
            file.Position = saved;
        }
    }
}

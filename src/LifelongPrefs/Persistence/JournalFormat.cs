using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace LifelongPrefs.Persistence;

/// <summary>
/// The byte layout of the event journal (README.md beside this file): segment files <c>journal-&lt;first sequence&gt;.seg</c>,
/// each a 24-byte header, then records of <c>uint32</c> payload length, <c>uint32</c> CRC-32C of the length and the
/// payload, and the payload.
/// </summary>
internal static class JournalFormat
{
    /// <summary>"LLPJ" read as a little-endian uint.</summary>
    internal const uint Magic = 0x4A504C4C;

    /// <summary>The journal format version this build writes and reads.</summary>
    internal const uint Version = 1;

    /// <summary>Bytes of a segment header: magic, version, first sequence number, reserved, CRC-32C of the 20 bytes before it.</summary>
    internal const int HeaderLength = 24;

    /// <summary>Bytes before a record's payload: its length and its checksum.</summary>
    internal const int RecordPrefix = 8;

    /// <summary>The longest payload a record may declare (far above the longest event: ids and a text are bounded by the options).</summary>
    internal const int MaxPayload = 16 << 20;

    private const string Prefix = "journal-";
    private const string Suffix = ".seg";

    /// <summary>Gets the file name of the segment whose first record has <paramref name="firstSequence"/>.</summary>
    internal static string SegmentName(long firstSequence) =>
        Prefix + firstSequence.ToString("D19", CultureInfo.InvariantCulture) + Suffix;

    /// <summary>Lists the segment files of a directory with their first sequence numbers, in order.</summary>
    internal static List<(long First, string Path)> Segments(string directory)
    {
        var segments = new List<(long, string)>();
        if (!System.IO.Directory.Exists(directory))
        {
            return segments;
        }

        foreach (string path in System.IO.Directory.EnumerateFiles(directory, Prefix + "*" + Suffix))
        {
            string name = Path.GetFileName(path);
            string digits = name[Prefix.Length..^Suffix.Length];
            if (digits.Length == 19 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long first))
            {
                segments.Add((first, path));
            }
        }

        segments.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return segments;
    }

    /// <summary>Lays out a segment header.</summary>
    internal static void WriteHeader(Span<byte> header, long firstSequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], firstSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Crc32C(0, header[..20]));
    }

    /// <summary>The checksum of a record: CRC-32C over its length field and its payload.</summary>
    internal static uint RecordCrc(ReadOnlySpan<byte> lengthField, ReadOnlySpan<byte> payload) => Crc32C(Crc32C(0, lengthField), payload);

    /// <summary>CRC-32C (Castagnoli), continued from <paramref name="crc"/> (0 to start); hardware-accelerated where the CPU has it.</summary>
    internal static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            c = BitOperations.Crc32C(c, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            c = BitOperations.Crc32C(c, data[i]);
        }

        return ~c;
    }
}

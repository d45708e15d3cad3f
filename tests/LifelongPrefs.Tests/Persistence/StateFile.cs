using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The tests' own reading and writing of the container layout documented in <c>src/LifelongPrefs/Persistence/README.md</c>,
/// written from that description, so that tests can craft states that are well-checksummed but wrong in one way.
/// </summary>
internal sealed class StateFile
{
    internal sealed class Entry(string name, byte kind, long count, byte[] data)
    {
        public string Name { get; set; } = name;

        public byte Kind { get; set; } = kind;

        public long Count { get; set; } = count;

        public byte[] Data { get; set; } = data;

        /// <summary>The byte length written into the table; null for <c>Data.Length</c>.</summary>
        public long? DeclaredBytes { get; set; }
    }

    public uint Version { get; set; }

    public ushort Type { get; set; }

    public int Format { get; set; }

    public ulong Fingerprint { get; set; }

    public List<Entry> Sections { get; } = [];

    /// <summary>Bytes appended after the sections and counted in the total length.</summary>
    public byte[] Extra { get; set; } = [];

    /// <summary>The total length written into the prologue; null for the true length.</summary>
    public long? DeclaredTotal { get; set; }

    internal static StateFile Parse(byte[] bytes)
    {
        ReadOnlySpan<byte> b = bytes;
        var file = new StateFile
        {
            Version = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
            Type = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]),
            Format = BinaryPrimitives.ReadInt32LittleEndian(b[12..]),
            Fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
        };
        int count = BinaryPrimitives.ReadInt32LittleEndian(b[32..]);
        int tableLength = BinaryPrimitives.ReadInt32LittleEndian(b[36..]);
        int at = 44, payload = 44 + tableLength + 4;
        for (int s = 0; s < count; s++)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
            string name = Encoding.ASCII.GetString(b.Slice(at + 2, nameLength));
            at += 2 + nameLength;
            byte kind = b[at];
            long elements = BinaryPrimitives.ReadInt64LittleEndian(b[(at + 2)..]);
            int length = (int)BinaryPrimitives.ReadInt64LittleEndian(b[(at + 10)..]);
            at += 22;
            file.Sections.Add(new Entry(name, kind, elements, b.Slice(payload, length).ToArray()));
            payload += length;
        }

        return file;
    }

    internal byte[] Build()
    {
        var table = new MemoryStream();
        Span<byte> fixedPart = stackalloc byte[22];
        Span<byte> nameLength = stackalloc byte[2];
        foreach (Entry e in Sections)
        {
            fixedPart.Clear();
            var name = Encoding.ASCII.GetBytes(e.Name);
            BinaryPrimitives.WriteUInt16LittleEndian(nameLength, (ushort)name.Length);
            table.Write(nameLength);
            table.Write(name);
            fixedPart[0] = e.Kind;
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[2..], e.Count);
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[10..], e.DeclaredBytes ?? e.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[18..], Crc32.HashToUInt32(e.Data));
            table.Write(fixedPart);
        }

        byte[] tableBytes = table.ToArray();
        long total = 44 + tableBytes.Length + 4 + Sections.Sum(e => e.DeclaredBytes ?? e.Data.Length) + Extra.Length;
        var prologue = new byte[44];
        BinaryPrimitives.WriteUInt32LittleEndian(prologue, 0x46504C4C);
        BinaryPrimitives.WriteUInt32LittleEndian(prologue.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt16LittleEndian(prologue.AsSpan(8), Type);
        BinaryPrimitives.WriteInt32LittleEndian(prologue.AsSpan(12), Format);
        BinaryPrimitives.WriteUInt64LittleEndian(prologue.AsSpan(16), Fingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(prologue.AsSpan(24), DeclaredTotal ?? total);
        BinaryPrimitives.WriteInt32LittleEndian(prologue.AsSpan(32), Sections.Count);
        BinaryPrimitives.WriteInt32LittleEndian(prologue.AsSpan(36), tableBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(prologue.AsSpan(40), Crc32.HashToUInt32(prologue.AsSpan(0, 40)));

        var output = new MemoryStream();
        output.Write(prologue);
        output.Write(tableBytes);
        var tableCrc = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tableCrc, Crc32.HashToUInt32(tableBytes));
        output.Write(tableCrc);
        foreach (Entry e in Sections)
        {
            output.Write(e.Data);
        }

        output.Write(Extra);
        return output.ToArray();
    }
}

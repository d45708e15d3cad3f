using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace LifelongPrefs.Persistence;

/// <summary>The container half of <see cref="ModelStateReader"/>: reading and checking the bytes (header, section table,
/// sections, checksums, lengths before allocation) before any model sees a section.</summary>
internal sealed partial class ModelStateReader
{
    private static void Fill(Stream stream, Span<byte> target, Parse parse)
    {
        if (stream.ReadAtLeast(target, target.Length, throwOnEndOfStream: false) < target.Length)
        {
            throw parse.Truncated();
        }
    }

    private static async ValueTask FillAsync(Stream stream, Memory<byte> target, Parse parse, CancellationToken cancellationToken)
    {
        if (await stream.ReadAtLeastAsync(target, target.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < target.Length)
        {
            throw parse.Truncated();
        }
    }

    /// <summary>One section as read: its table entry, then its data (typed arrays in native byte order).</summary>
    private sealed class Section(string name, SectionKind kind, long count, long byteLength, uint crc)
    {
        internal string Name { get; } = name;

        internal SectionKind Kind { get; } = kind;

        internal long Count { get; } = count;

        internal long ByteLength { get; } = byteLength;

        internal uint Crc { get; } = crc;

        internal Array? Data { get; set; }

        internal int[]? Offsets { get; set; }

        internal int[]? Columns { get; set; }

        internal float[]? Values { get; set; }
    }

    /// <summary>One array of a section being filled: its declared size, what is allocated and what is filled so far.</summary>
    private sealed class Part(long bytes, Type type, bool allocateAll)
    {
        internal long Bytes { get; } = bytes;

        internal int ElementSize { get; } = type == typeof(byte) ? 1 : type == typeof(long) || type == typeof(double) ? 8 : 4;

        internal long Filled { get; set; }

        // A seekable stream has proved the bytes are there: allocate once. Otherwise start at one chunk and double.
        internal Array Data { get; private set; } = New(type, allocateAll ? bytes : Math.Min(bytes, ModelStateFormat.ChunkBytes));

        internal Span<byte> AllBytes => AsBytes(Data);

        /// <summary>Returns the unfilled bytes that are allocated, growing the array first when it is full.</summary>
        internal Span<byte> Free()
        {
            Span<byte> bytesNow = AsBytes(Data);
            if (Filled == bytesNow.Length && Filled < Bytes)
            {
                Array grown = New(type, Math.Min(Bytes, 2 * Filled));
                bytesNow.CopyTo(AsBytes(grown));
                Data = grown;
                bytesNow = AsBytes(Data);
            }

            return bytesNow[(int)Filled..];
        }

        private static Array New(Type type, long bytes) =>
            type == typeof(byte) ? new byte[bytes]
            : type == typeof(long) ? new long[bytes / 8]
            : type == typeof(double) ? new double[bytes / 8]
            : type == typeof(float) ? new float[bytes / 4]
            : new int[bytes / 4];

        private static Span<byte> AsBytes(Array data) => data switch
        {
            byte[] b => b,
            long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
            double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
            _ => MemoryMarshal.AsBytes(((int[])data).AsSpan()),
        };
    }

    /// <summary>The parse of one container: prologue, table, then the sections' bytes in table order.</summary>
    private sealed class Parse(ModelStateHeader expected, string model, Stream stream)
    {
        private readonly List<Section> _order = [];
        private readonly Dictionary<string, Section> _sections = new(StringComparer.Ordinal);
        private ulong _fingerprint;
        private int _format;
        private long _total;
        private int _count;
        private bool _allocateAll;
        private int _section = -1;
        private Part[] _parts = [];
        private int _part;

        internal ModelStateException Truncated() => new($"The saved {model} state is truncated (the stream ended before the {(_total > 0 ? $"{_total} bytes its header declares" : "header")}).");

        private ModelStateException Invalid(string what) => new($"The saved {model} state is invalid: {what}.");

        /// <summary>Checks the prologue (CRC first) and returns the buffer for the section table.</summary>
        internal byte[] Prologue(ReadOnlySpan<byte> prologue)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(prologue);
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(prologue[4..]);
            if (Crc32.HashToUInt32(prologue[..ModelStateFormat.PrologueLength]) != BinaryPrimitives.ReadUInt32LittleEndian(prologue[ModelStateFormat.PrologueLength..]))
            {
                // Only the magic and the two known versions are named: any other value in a header whose checksum
                // failed is noise, and naming it would mislead.
                throw magic != ModelStateFormat.Magic ? new ModelStateException("Not a LifelongPrefs model state (no 'LLPF' magic number).")
                    : version == 1 ? new ModelStateException(
                        $"The {model} state was written in container format version 1, which this build (container format version {ModelStateFormat.Version}) no longer reads; fit the model again and save it anew.")
                    : new ModelStateException($"The saved {model} state is corrupted (header checksum mismatch).");
            }

            if (magic != ModelStateFormat.Magic)
            {
                throw new ModelStateException("Not a LifelongPrefs model state (no 'LLPF' magic number).");
            }

            if (version != ModelStateFormat.Version)
            {
                throw new ModelStateException($"The {model} state was written in container format version {version}; this build reads container format version {ModelStateFormat.Version}.");
            }

            var type = (ModelTypeId)BinaryPrimitives.ReadUInt16LittleEndian(prologue[8..]);
            if (type != expected.Type)
            {
                throw new ModelStateException(
                    $"The state was saved by model type {ModelStateHeader.NameOf(type)} (type id {(ushort)type}), not by {model} (type id {(ushort)expected.Type}).");
            }

            int format = BinaryPrimitives.ReadInt32LittleEndian(prologue[12..]);
            int oldest = expected.OldestStateFormat is > 0 and var o ? Math.Min(o, expected.StateFormat) : expected.StateFormat;
            if (format < oldest || format > expected.StateFormat || BinaryPrimitives.ReadUInt16LittleEndian(prologue[10..]) != 0)
            {
                string reads = oldest == expected.StateFormat ? $"{expected.StateFormat}" : $"{oldest} to {expected.StateFormat}";
                throw new ModelStateException($"The {model} state has {model} state format {format}; this build reads {model} state format {reads}.");
            }

            _format = format;

            _fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(prologue[16..]);
            _total = BinaryPrimitives.ReadInt64LittleEndian(prologue[24..]);
            _count = BinaryPrimitives.ReadInt32LittleEndian(prologue[32..]);
            int tableLength = BinaryPrimitives.ReadInt32LittleEndian(prologue[36..]);
            long afterPrologue = _total - ModelStateFormat.PrologueWithCrc;
            if (_total < ModelStateFormat.PrologueWithCrc + 4 || tableLength < 0 || tableLength > afterPrologue - 4
                || tableLength > (long)_count * (ModelStateFormat.EntryFixedLength + ModelStateFormat.MaxNameLength)
                || _count < 0 || _count > ModelStateFormat.MaxSections || (long)_count * ModelStateFormat.EntryFixedLength > tableLength)
            {
                throw Invalid($"the header declares {_total} bytes, {_count} sections and a {tableLength}-byte section table, which do not fit together");
            }

            if (stream.CanSeek)
            {
                long remaining = stream.Length - stream.Position;
                if (remaining < afterPrologue)
                {
                    throw new ModelStateException($"The saved {model} state is truncated: its header declares {_total} bytes, but only {remaining + ModelStateFormat.PrologueWithCrc} are there.");
                }

                _allocateAll = true;
            }

            return new byte[tableLength + 4];
        }

        /// <summary>Checks the table's CRC and every entry (name, kind, lengths, duplicates, the sum against the total).</summary>
        internal void Table(ReadOnlySpan<byte> buffer)
        {
            ReadOnlySpan<byte> table = buffer[..^4];
            if (Crc32.HashToUInt32(table) != BinaryPrimitives.ReadUInt32LittleEndian(buffer[^4..]))
            {
                throw new ModelStateException($"The saved {model} state is corrupted (section table checksum mismatch).");
            }

            long payload = _total - ModelStateFormat.PrologueWithCrc - buffer.Length, sum = 0;
            int at = 0;
            for (int s = 0; s < _count; s++)
            {
                if (table.Length - at < ModelStateFormat.EntryFixedLength)
                {
                    throw Invalid($"section table ends inside entry {s}");
                }

                int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(table[at..]);
                if (nameLength == 0 || nameLength > ModelStateFormat.MaxNameLength || table.Length - at < ModelStateFormat.EntryFixedLength + nameLength)
                {
                    throw Invalid($"section {s} has a name of {nameLength} bytes");
                }

                string name = Encoding.ASCII.GetString(table.Slice(at + 2, nameLength));
                at += 2 + nameLength;
                var kind = (SectionKind)table[at];
                byte reserved = table[at + 1];
                long count = BinaryPrimitives.ReadInt64LittleEndian(table[(at + 2)..]);
                long bytes = BinaryPrimitives.ReadInt64LittleEndian(table[(at + 10)..]);
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(table[(at + 18)..]);
                at += 22;
                if (!ModelStateFormat.IsValidName(name))
                {
                    throw Invalid($"section {s} has an invalid name");
                }

                if (!Enum.IsDefined(kind) || reserved != 0)
                {
                    throw Invalid($"section '{name}' has unknown kind {(byte)kind}");
                }

                if (count < 0 || count >= int.MaxValue || bytes < 0 || bytes > payload - sum || !LengthFits(kind, count, bytes))
                {
                    throw Invalid($"section '{name}' declares {count} elements in {bytes} bytes, which does not fit its kind {kind} or the {payload - sum} bytes left");
                }

                var section = new Section(name, kind, count, bytes, crc);
                if (!_sections.TryAdd(name, section))
                {
                    throw Invalid($"section '{name}' appears twice");
                }

                _order.Add(section);
                sum += bytes;
            }

            if (at != table.Length || sum != payload)
            {
                throw Invalid($"{payload - sum} bytes of the declared length lie outside every section");
            }
        }

        private static bool LengthFits(SectionKind kind, long count, long bytes)
        {
            if (kind is not (SectionKind.Csr or SectionKind.CsrFloat32))
            {
                return bytes == count * ModelStateFormat.ElementSize(kind);
            }

            long entries = bytes - 4 * (count + 1), perEntry = kind == SectionKind.Csr ? 4 : 8;
            return entries >= 0 && entries % perEntry == 0 && entries / perEntry < int.MaxValue;
        }

        /// <summary>Gets the unfilled, allocated bytes of the current part, moving to the next part or section as needed.</summary>
        internal bool NextTarget(out Span<byte> target)
        {
            while (true)
            {
                if (_part < _parts.Length)
                {
                    Part part = _parts[_part];
                    if (part.Filled < part.Bytes)
                    {
                        target = part.Free();
                        return true;
                    }

                    _part++;
                    continue;
                }

                if (_section >= 0)
                {
                    Complete(_order[_section]);
                }

                if (++_section == _order.Count)
                {
                    target = default;
                    return false;
                }

                _parts = Parts(_order[_section]);
                _part = 0;
            }
        }

        /// <summary>The length of the next target (for reads through a chunk).</summary>
        internal bool NextTargetLength(out int length)
        {
            bool more = NextTarget(out Span<byte> target);
            length = target.Length;
            return more;
        }

        /// <summary>Records that <paramref name="count"/> bytes of the current target were filled.</summary>
        internal void Advance(int count) => _parts[_part].Filled += count;

        /// <summary>Copies <paramref name="bytes"/> (at most the current target's length) into the current target.</summary>
        internal void Accept(ReadOnlySpan<byte> bytes)
        {
            NextTarget(out Span<byte> target);
            bytes.CopyTo(target);
            Advance(bytes.Length);
        }

        /// <summary>Checks the options fingerprint and returns the reader.</summary>
        internal ModelStateReader Finish()
        {
            if (_fingerprint != expected.Fingerprint)
            {
                string saved = _sections.TryGetValue(ModelStateWriter.OptionsSection, out Section? text) && text.Data is byte[] b
                    ? Encoding.UTF8.GetString(b) : string.Empty;
                // Only the text the saved fingerprint was taken of may vouch for the state. Its unused tail may differ
                // (BindingPrefix: a tracker whose learner applies no continual strategy), and so may options that only
                // steer later steps (ToleratedOptions).
                bool genuine = OptionsFingerprint.Of(saved) == _fingerprint;
                bool boundPartMatches = genuine && expected.BindingPrefix is { } prefix && saved.StartsWith(prefix, StringComparison.Ordinal);
                bool tolerated = genuine && expected.ToleratedOptions is { Count: > 0 } names
                    && OptionsFingerprint.AgreeExcept(saved, expected.Options, names);
                if (!boundPartMatches && !tolerated)
                {
                    throw new ModelStateException(
                        $"The {model} state was saved with other options (fingerprint {_fingerprint:x16}, this model {expected.Fingerprint:x16}): {OptionsFingerprint.Difference(saved, expected.Options)}.");
                }
            }

            if (!_sections.TryGetValue(ModelStateWriter.OptionsSection, out Section? options) || options.Kind != SectionKind.Utf8)
            {
                throw Invalid("it has no options section");
            }

            return new ModelStateReader(model, _format, _sections);
        }

        private Part[] Parts(Section section)
        {
            Type? single = section.Kind switch
            {
                SectionKind.Float32 => typeof(float),
                SectionKind.Float64 => typeof(double),
                SectionKind.Int32 => typeof(int),
                SectionKind.Int64 => typeof(long),
                SectionKind.Utf8 => typeof(byte),
                _ => null,
            };
            if (single is not null)
            {
                return [new Part(section.ByteLength, single, _allocateAll)];
            }

            long offsets = 4 * (section.Count + 1), rest = section.ByteLength - offsets;
            return section.Kind == SectionKind.Csr
                ? [new Part(offsets, typeof(int), _allocateAll), new Part(rest, typeof(int), _allocateAll)]
                : [new Part(offsets, typeof(int), _allocateAll), new Part(rest / 2, typeof(int), _allocateAll), new Part(rest / 2, typeof(float), _allocateAll)];
        }

        /// <summary>Checks a fully read section's CRC, converts it to native order, checks its values and stores its arrays.</summary>
        private void Complete(Section section)
        {
            var crc = new Crc32();
            foreach (Part part in _parts)
            {
                crc.Append(part.AllBytes);
            }

            if (crc.GetCurrentHashAsUInt32() != section.Crc)
            {
                throw new ModelStateException($"The saved {model} state is corrupted (checksum mismatch in section '{section.Name}').");
            }

            foreach (Part part in _parts)
            {
                ModelStateFormat.FromLittleEndian(part.AllBytes, part.ElementSize);
            }

            switch (section.Kind)
            {
                case SectionKind.Float32:
                    section.Data = _parts[0].Data;
                    RequireFinite(section, (float[])section.Data);
                    break;
                case SectionKind.Float64:
                    double[] doubles = (double[])_parts[0].Data;
                    if (doubles.Length > 0 && !TensorPrimitives.IsFiniteAll<double>(doubles))
                    {
                        throw Invalid($"section '{section.Name}' holds NaN or infinite values");
                    }

                    section.Data = doubles;
                    break;
                case SectionKind.Int32:
                case SectionKind.Int64:
                    section.Data = _parts[0].Data;
                    break;
                case SectionKind.Utf8:
                    byte[] text = (byte[])_parts[0].Data;
                    try
                    {
                        _ = new UTF8Encoding(false, true).GetCharCount(text);
                    }
                    catch (DecoderFallbackException error)
                    {
                        throw new ModelStateException($"The saved {model} state's section '{section.Name}' is not UTF-8 text.", error);
                    }

                    section.Data = text;
                    break;
                default:
                    int[] offsets = (int[])_parts[0].Data, columns = (int[])_parts[1].Data;
                    if (offsets[0] != 0 || offsets[^1] != columns.Length)
                    {
                        throw Invalid($"section '{section.Name}' has offsets from {offsets[0]} to {offsets[^1]} over {columns.Length} entries");
                    }

                    for (int r = 1; r < offsets.Length; r++)
                    {
                        if (offsets[r] < offsets[r - 1])
                        {
                            throw Invalid($"section '{section.Name}' has decreasing offsets at row {r - 1}");
                        }
                    }

                    (section.Offsets, section.Columns) = (offsets, columns);
                    if (section.Kind == SectionKind.CsrFloat32)
                    {
                        section.Values = (float[])_parts[2].Data;
                        RequireFinite(section, section.Values);
                    }

                    break;
            }
        }

        private void RequireFinite(Section section, float[] values)
        {
            if (values.Length > 0 && !TensorPrimitives.IsFiniteAll<float>(values))
            {
                throw Invalid($"section '{section.Name}' holds NaN or infinite values");
            }
        }
    }
}

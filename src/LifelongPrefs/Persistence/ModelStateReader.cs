using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using LifelongPrefs.Nn;
using LifelongPrefs.Training;

namespace LifelongPrefs.Persistence;

/// <summary>
/// Reads one state container and hands its sections to the model by name, after checking everything that can be
/// checked without knowing the model: header checksum, version, type id, state format, lengths, section table,
/// section checksums, finiteness of every float and the shape of every CSR section.
/// </summary>
/// <remarks>
/// <para>
/// Reading consumes exactly the container's declared length, so states written back to back in one stream load one
/// after the other. No header field is interpreted before the header's CRC has matched, and no section is allocated
/// before its length has been checked against the declared total (and, for a seekable stream, against the bytes
/// left in it); a non-seekable stream fills each section in growing steps, so a short stream that claims a huge
/// section fails after allocating about as much as it really held.
/// </para>
/// <para>
/// A model then takes the sections it needs (each accessor checks kind and element count and throws
/// <see cref="ModelStateException"/> naming the section) and calls <see cref="EnsureAllConsumed"/>, which rejects
/// any section it did not take, before it changes anything.
/// </para>
/// </remarks>
internal sealed class ModelStateReader
{
    private readonly Dictionary<string, Section> _sections;
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    private ModelStateReader(string model, Dictionary<string, Section> sections)
    {
        Model = model;
        _sections = sections;
        _consumed.Add(ModelStateWriter.OptionsSection);
    }

    /// <summary>Gets the display name of the model being loaded (for messages).</summary>
    internal string Model { get; }

    /// <summary>Reads and checks one container from <paramref name="stream"/>.</summary>
    /// <param name="stream">A readable stream positioned at the container.</param>
    /// <param name="expected">The loading model's header.</param>
    /// <param name="model">The loading model's display name, for messages.</param>
    /// <returns>The reader over the checked sections.</returns>
    /// <exception cref="ModelStateException">The data is not a valid state for this model.</exception>
    internal static ModelStateReader Read(Stream stream, ModelStateHeader expected, string model)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var parse = new Parse(expected, model, stream);
        Span<byte> prologue = stackalloc byte[ModelStateFormat.PrologueWithCrc];
        Fill(stream, prologue, parse);
        byte[] table = parse.Prologue(prologue);
        Fill(stream, table, parse);
        parse.Table(table);
        while (parse.NextTarget(out Span<byte> target))
        {
            Fill(stream, target, parse);
            parse.Advance(target.Length);
        }

        return parse.Finish();
    }

    /// <summary>Reads and checks one container with asynchronous stream reads (one pooled 1 MiB chunk).</summary>
    /// <param name="stream">A readable stream positioned at the container.</param>
    /// <param name="expected">The loading model's header.</param>
    /// <param name="model">The loading model's display name, for messages.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>The reader over the checked sections.</returns>
    /// <exception cref="ModelStateException">The data is not a valid state for this model.</exception>
    internal static async Task<ModelStateReader> ReadAsync(Stream stream, ModelStateHeader expected, string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var parse = new Parse(expected, model, stream);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ModelStateFormat.ChunkBytes);
        try
        {
            await FillAsync(stream, chunk.AsMemory(0, ModelStateFormat.PrologueWithCrc), parse, cancellationToken).ConfigureAwait(false);
            byte[] table = parse.Prologue(chunk.AsSpan(0, ModelStateFormat.PrologueWithCrc));
            await FillAsync(stream, table, parse, cancellationToken).ConfigureAwait(false);
            parse.Table(table);
            while (parse.NextTargetLength(out int length))
            {
                int count = Math.Min(length, chunk.Length);
                await FillAsync(stream, chunk.AsMemory(0, count), parse, cancellationToken).ConfigureAwait(false);
                parse.Accept(chunk.AsSpan(0, count));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return parse.Finish();
    }

    /// <summary>Whether the state has a section called <paramref name="name"/>.</summary>
    internal bool Has(string name) => _sections.ContainsKey(name);

    /// <summary>Takes a float32 section, optionally of exactly <paramref name="count"/> elements (every value is finite).</summary>
    internal float[] Floats(string name, long count = -1) => Take<float[]>(name, SectionKind.Float32, count);

    /// <summary>Takes a float64 section, optionally of exactly <paramref name="count"/> elements (every value is finite).</summary>
    internal double[] Doubles(string name, long count = -1) => Take<double[]>(name, SectionKind.Float64, count);

    /// <summary>Takes an int32 section, optionally of exactly <paramref name="count"/> elements.</summary>
    internal int[] Ints(string name, long count = -1) => Take<int[]>(name, SectionKind.Int32, count);

    /// <summary>Takes an int64 section, optionally of exactly <paramref name="count"/> elements.</summary>
    internal long[] Longs(string name, long count = -1) => Take<long[]>(name, SectionKind.Int64, count);

    /// <summary>Takes a one-element int32 section.</summary>
    internal int Int(string name) => Ints(name, 1)[0];

    /// <summary>Takes a one-element int64 section.</summary>
    internal long Long(string name) => Longs(name, 1)[0];

    /// <summary>Takes a one-element int32 section that must be 0 or 1.</summary>
    internal bool Flag(string name)
    {
        int value = Int(name);
        Require((uint)value <= 1u, $"section '{name}' holds {value}, not 0 or 1");
        return value == 1;
    }

    /// <summary>
    /// Takes a CSR section of <paramref name="rows"/> rows (any number when negative) whose columns all lie in [0, <paramref name="columns"/>);
    /// offsets start at 0 and never decrease (checked on read).
    /// </summary>
    internal (int[] Offsets, int[] Columns) Csr(string name, int rows, int columns)
    {
        Section section = Get(name, SectionKind.Csr, rows);
        CheckColumns(section, columns);
        return (section.Offsets!, section.Columns!);
    }

    /// <summary>As <see cref="Csr"/>, for a section with one finite float value per entry.</summary>
    internal (int[] Offsets, int[] Columns, float[] Values) CsrValues(string name, int rows, int columns)
    {
        Section section = Get(name, SectionKind.CsrFloat32, rows);
        CheckColumns(section, columns);
        return (section.Offsets!, section.Columns!, section.Values!);
    }

    /// <summary>Takes a CSR section written by <see cref="ModelStateWriter.AddSets"/>: each row strictly ascending.</summary>
    internal List<HashSet<int>> Sets(string name, int columns)
    {
        var (offsets, items) = Csr(name, -1, columns);
        var sets = new List<HashSet<int>>(offsets.Length - 1);
        for (int r = 0; r + 1 < offsets.Length; r++)
        {
            ReadOnlySpan<int> row = items.AsSpan(offsets[r], offsets[r + 1] - offsets[r]);
            for (int k = 1; k < row.Length; k++)
            {
                Require(row[k] > row[k - 1], $"row {r} of section '{name}' is not strictly ascending");
            }

            sets.Add([.. row]);
        }

        return sets;
    }

    /// <summary>Takes a CSR section written by <see cref="ModelStateWriter.AddLists"/>.</summary>
    internal List<List<int>> Lists(string name, int columns)
    {
        var (offsets, items) = Csr(name, -1, columns);
        var lists = new List<List<int>>(offsets.Length - 1);
        for (int r = 0; r + 1 < offsets.Length; r++)
        {
            lists.Add([.. items.AsSpan(offsets[r], offsets[r + 1] - offsets[r])]);
        }

        return lists;
    }

    /// <summary>
    /// Takes one float32 section per parameter, named by its path, of the length <paramref name="length"/> gives
    /// (the parameter's current length by default, or e.g. the saved catalog's for a table that will grow).
    /// </summary>
    /// <returns>The saved values, in the order of <paramref name="named"/>.</returns>
    internal float[][] Parameters(IReadOnlyList<KeyValuePair<string, Parameter>> named, Func<Parameter, long>? length = null)
    {
        var values = new float[named.Count][];
        for (int i = 0; i < named.Count; i++)
        {
            values[i] = Floats(named[i].Key, length?.Invoke(named[i].Value) ?? named[i].Value.Length);
        }

        return values;
    }

    /// <summary>
    /// Takes the sections <see cref="ModelStateWriter.AddOptimizer"/> wrote for an optimizer of
    /// <paramref name="optimizer"/>'s type: every state buffer, keyed by parameter path, and the step count.
    /// </summary>
    /// <param name="optimizer">An optimizer of the saved type (its parameters give the paths; it is not changed).</param>
    /// <param name="named">The paths of the optimizer's parameters.</param>
    /// <param name="length">The saved length of each parameter's state (its current length by default).</param>
    /// <returns>The saved state, to apply with <see cref="SavedOptimizer.ApplyTo"/>.</returns>
    internal SavedOptimizer Optimizer(Optimizer optimizer, IEnumerable<KeyValuePair<string, Parameter>> named, Func<Parameter, long>? length = null)
    {
        string prefix = OptimizerNames.Prefix(optimizer);
        var buffers = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Parameter> pair in named)
        {
            var slots = new float[optimizer.StateCount][];
            for (int slot = 0; slot < slots.Length; slot++)
            {
                slots[slot] = Floats($"{prefix}.{OptimizerNames.Slot(optimizer, slot)}.{pair.Key}", length?.Invoke(pair.Value) ?? pair.Value.Length);
            }

            buffers[pair.Key] = slots;
        }

        long steps = Long(prefix + ".steps");
        Require(steps >= 0, $"the optimizer step count is {steps}");
        return new SavedOptimizer(buffers, steps);
    }

    /// <summary>Takes and validates the generator state <c>rng.&lt;name&gt;</c>; apply it with <see cref="SeededRandom.SetState"/>.</summary>
    internal int[] Random(string name)
    {
        int[] state = Ints("rng." + name, SeededRandom.StateLength);
        try
        {
            SeededRandom.ValidateState(state);
        }
        catch (ArgumentException error)
        {
            throw new ModelStateException($"The saved {Model} state's random generator '{name}' is invalid.", error);
        }

        return state;
    }

    /// <summary>Throws unless <paramref name="condition"/> holds, with a message naming the model and <paramref name="what"/>.</summary>
    internal void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new ModelStateException($"The saved {Model} state is inconsistent: {what}.");
        }
    }

    /// <summary>Throws if the state holds a section the model did not take (call after taking every section, before applying).</summary>
    internal void EnsureAllConsumed()
    {
        string[] unused = [.. _sections.Keys.Where(name => !_consumed.Contains(name)).Order(StringComparer.Ordinal)];
        if (unused.Length > 0)
        {
            throw new ModelStateException($"The saved {Model} state has sections this model does not use: {string.Join(", ", unused.Take(8))}.");
        }
    }

    private void CheckColumns(Section section, int columns)
    {
        foreach (int column in section.Columns!)
        {
            Require((uint)column < (uint)columns, $"section '{section.Name}' refers to column {column} of {columns}");
        }
    }

    private T Take<T>(string name, SectionKind kind, long count)
        where T : class => (T)(object)Get(name, kind, count).Data!;

    private Section Get(string name, SectionKind kind, long count)
    {
        if (!_sections.TryGetValue(name, out Section? section))
        {
            throw new ModelStateException($"The saved {Model} state has no section '{name}'.");
        }

        if (section.Kind != kind)
        {
            throw new ModelStateException($"The saved {Model} state's section '{name}' is {section.Kind}, not {kind}.");
        }

        if (count >= 0 && section.Count != count)
        {
            throw new ModelStateException($"The saved {Model} state's section '{name}' has {section.Count} elements; expected {count}.");
        }

        _consumed.Add(name);
        return section;
    }

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
            if (format != expected.StateFormat || BinaryPrimitives.ReadUInt16LittleEndian(prologue[10..]) != 0)
            {
                throw new ModelStateException($"The {model} state has {model} state format {format}; this build reads {model} state format {expected.StateFormat}.");
            }

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
                throw new ModelStateException(
                    $"The {model} state was saved with other options (fingerprint {_fingerprint:x16}, this model {expected.Fingerprint:x16}): {OptionsFingerprint.Difference(saved, expected.Options)}.");
            }

            if (!_sections.TryGetValue(ModelStateWriter.OptionsSection, out Section? options) || options.Kind != SectionKind.Utf8)
            {
                throw Invalid("it has no options section");
            }

            return new ModelStateReader(model, _sections);
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

/// <summary>An optimizer's saved state buffers keyed by parameter path, and its step count.</summary>
/// <param name="Buffers">For each parameter path, one array per state slot.</param>
/// <param name="Steps">The applied-step count.</param>
internal sealed record SavedOptimizer(Dictionary<string, float[][]> Buffers, long Steps)
{
    /// <summary>Copies the buffers into <paramref name="optimizer"/> by path and restores its step count.</summary>
    /// <param name="optimizer">An optimizer of the saved type whose parameters already have the saved shapes.</param>
    /// <param name="named">The paths of its parameters.</param>
    internal void ApplyTo(Optimizer optimizer, IEnumerable<KeyValuePair<string, Parameter>> named)
    {
        Dictionary<Parameter, string> paths = OptimizerNames.Paths(named);
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            float[][] slots = Buffers[paths[optimizer.Parameters[i]]];
            for (int slot = 0; slot < slots.Length; slot++)
            {
                slots[slot].CopyTo(optimizer.GetState(i, slot));
            }
        }

        optimizer.RestoreStepCount(Steps);
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace LifelongPrefs.Persistence;

/// <summary>Returns the native bytes of one part of a section (read when the state is written, never copied).</summary>
/// <returns>The bytes.</returns>
internal delegate ReadOnlySpan<byte> ByteSource();

/// <summary>
/// Collects a model's named sections and writes them as one state container (layout in README.md beside this
/// file): the header with every section's kind, count, length and CRC first, then the sections' bytes.
/// </summary>
/// <remarks>
/// Sections refer to the model's own arrays and tensors; nothing is copied until <see cref="WriteTo"/> streams
/// each span straight to the target (on a little-endian machine as its own bytes). The CRCs are computed in a first
/// pass over the same memory, so the header can precede the data without buffering the state. The model must not
/// change between adding its sections and writing them, which the single-writer contract of
/// <c>Fit</c>/<c>Update</c>/<c>Save</c> guarantees.
/// </remarks>
internal sealed class ModelStateWriter
{
    /// <summary>The section that holds the canonical options text.</summary>
    internal const string OptionsSection = "options";

    private readonly ModelStateHeader _header;
    private readonly List<Entry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Starts a state for <paramref name="header"/>; the options text becomes its first section.</summary>
    /// <param name="header">The model's type id, state format and options.</param>
    internal ModelStateWriter(ModelStateHeader header)
    {
        _header = header;
        byte[] options = Encoding.UTF8.GetBytes(header.Options);
        Add(OptionsSection, SectionKind.Utf8, options.Length, new Part(() => options, 1));
    }

    /// <summary>Adds a float32 section over <paramref name="values"/>.</summary>
    internal void AddFloats(string name, float[] values) =>
        Add(name, SectionKind.Float32, values.Length, new Part(() => MemoryMarshal.AsBytes(values.AsSpan()), 4));

    /// <summary>Adds a float32 section over a tensor's elements.</summary>
    internal void AddFloats(string name, Tensor tensor) =>
        Add(name, SectionKind.Float32, tensor.Length, new Part(() => MemoryMarshal.AsBytes(tensor.Span), 4));

    /// <summary>Adds a float64 section over <paramref name="values"/>.</summary>
    internal void AddDoubles(string name, double[] values) =>
        Add(name, SectionKind.Float64, values.Length, new Part(() => MemoryMarshal.AsBytes(values.AsSpan()), 8));

    /// <summary>Adds an int32 section over <paramref name="values"/>.</summary>
    internal void AddInts(string name, int[] values) =>
        Add(name, SectionKind.Int32, values.Length, new Part(() => MemoryMarshal.AsBytes(values.AsSpan()), 4));

    /// <summary>Adds an int64 section over <paramref name="values"/>.</summary>
    internal void AddLongs(string name, long[] values) =>
        Add(name, SectionKind.Int64, values.Length, new Part(() => MemoryMarshal.AsBytes(values.AsSpan()), 8));

    /// <summary>Adds a UTF-8 section over <paramref name="bytes"/>.</summary>
    internal void AddUtf8(string name, byte[] bytes) =>
        Add(name, SectionKind.Utf8, bytes.Length, new Part(() => bytes, 1));

    /// <summary>Adds a one-element int64 section.</summary>
    internal void AddLong(string name, long value) => AddLongs(name, [value]);

    /// <summary>Adds a one-element int32 section.</summary>
    internal void AddInt(string name, int value) => AddInts(name, [value]);

    /// <summary>Adds a CSR section: <c>rows + 1</c> offsets, one column per entry and optionally one value per entry.</summary>
    /// <param name="name">The section name.</param>
    /// <param name="offsets">Row starts; <c>offsets[0] = 0</c>, non-decreasing, <c>offsets[^1] = columns.Length</c>.</param>
    /// <param name="columns">The column (item) of each entry.</param>
    /// <param name="values">One value per entry, or null for a pattern-only structure.</param>
    /// <exception cref="ArgumentException">The arrays do not form a CSR structure.</exception>
    internal void AddCsr(string name, int[] offsets, int[] columns, float[]? values = null)
    {
        if (offsets.Length == 0 || offsets[0] != 0 || offsets[^1] != columns.Length || (values is not null && values.Length != columns.Length))
        {
            throw new ArgumentException($"Section '{name}' is not a CSR structure ({offsets.Length} offsets, {columns.Length} columns).", nameof(offsets));
        }

        var offsetPart = new Part(() => MemoryMarshal.AsBytes(offsets.AsSpan()), 4);
        var columnPart = new Part(() => MemoryMarshal.AsBytes(columns.AsSpan()), 4);
        if (values is null)
        {
            Add(name, SectionKind.Csr, offsets.Length - 1, offsetPart, columnPart);
        }
        else
        {
            Add(name, SectionKind.CsrFloat32, offsets.Length - 1, offsetPart, columnPart, new Part(() => MemoryMarshal.AsBytes(values.AsSpan()), 4));
        }
    }

    /// <summary>Adds per-row item sets as a CSR section, each row's items in ascending order.</summary>
    internal void AddSets(string name, IReadOnlyList<HashSet<int>> sets) => AddRows(name, sets.Count, r => sets[r].Order());

    /// <summary>Adds per-row item lists (in their order) as a CSR section.</summary>
    internal void AddLists(string name, IReadOnlyList<List<int>> lists) => AddRows(name, lists.Count, r => lists[r]);

    private void AddRows(string name, int rows, Func<int, IEnumerable<int>> row)
    {
        var offsets = new int[rows + 1];
        var columns = new List<int>();
        for (int r = 0; r < rows; r++)
        {
            columns.AddRange(row(r));
            offsets[r + 1] = columns.Count;
        }

        AddCsr(name, offsets, [.. columns]);
    }

    /// <summary>Adds one float32 section per parameter, named by its dotted path.</summary>
    /// <param name="named">Pairs of path and parameter (e.g. <see cref="Module.NamedParameters"/>).</param>
    internal void AddParameters(IEnumerable<KeyValuePair<string, Parameter>> named)
    {
        foreach (KeyValuePair<string, Parameter> pair in named)
        {
            Parameter parameter = pair.Value;
            Add(pair.Key, SectionKind.Float32, parameter.Length, new Part(() => MemoryMarshal.AsBytes(parameter.Value.Span), 4));
        }
    }

    /// <summary>
    /// Adds an optimizer's state buffers keyed by parameter path (<c>adam.m.&lt;path&gt;</c>, <c>adam.v.&lt;path&gt;</c>)
    /// and its step count (<c>adam.steps</c>).
    /// </summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="named">The paths of the optimizer's parameters (matched by reference).</param>
    /// <exception cref="ArgumentException">An optimizer parameter has no path in <paramref name="named"/>.</exception>
    internal void AddOptimizer(Optimizer optimizer, IEnumerable<KeyValuePair<string, Parameter>> named)
    {
        string prefix = OptimizerNames.Prefix(optimizer);
        Dictionary<Parameter, string> paths = OptimizerNames.Paths(named);
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            if (!paths.TryGetValue(optimizer.Parameters[i], out string? path))
            {
                throw new ArgumentException($"Optimizer parameter {i} ('{optimizer.Parameters[i].Name}') has no path.", nameof(named));
            }

            for (int slot = 0; slot < optimizer.StateCount; slot++)
            {
                int index = i, s = slot;
                Add($"{prefix}.{OptimizerNames.Slot(optimizer, slot)}.{path}", SectionKind.Float32, optimizer.GetState(i, slot).Length,
                    new Part(() => MemoryMarshal.AsBytes(optimizer.GetState(index, s)), 4));
            }
        }

        AddLong($"{prefix}.steps", optimizer.StepCount);
    }

    /// <summary>Adds a random generator's state as the section <c>rng.&lt;name&gt;</c>.</summary>
    internal void AddRandom(string name, SeededRandom random) => AddInts("rng." + name, random.GetState());

    /// <summary>Writes the container to <paramref name="stream"/>, each section straight from the model's memory.</summary>
    /// <param name="stream">A writable stream.</param>
    internal void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(BuildHeader());
        byte[]? scratch = BitConverter.IsLittleEndian ? null : ArrayPool<byte>.Shared.Rent(ModelStateFormat.ChunkBytes);
        try
        {
            foreach (Entry entry in _entries)
            {
                foreach (Part part in entry.Parts)
                {
                    if (scratch is null)
                    {
                        stream.Write(part.Bytes());
                        continue;
                    }

                    long length = part.Bytes().Length;
                    for (long offset = 0; offset < length;)
                    {
                        int count = CopyLittleEndian(part, offset, scratch);
                        stream.Write(scratch, 0, count);
                        offset += count;
                    }
                }
            }
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>Writes the container with asynchronous stream writes, copying through one pooled 1 MiB chunk.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>The write.</returns>
    internal async Task WriteToAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ModelStateFormat.ChunkBytes);
        try
        {
            foreach (Entry entry in _entries)
            {
                foreach (Part part in entry.Parts)
                {
                    long length = part.Bytes().Length;
                    for (long offset = 0; offset < length;)
                    {
                        int count = CopyLittleEndian(part, offset, scratch);
                        await stream.WriteAsync(scratch.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                        offset += count;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Copies up to one chunk of <paramref name="part"/> from <paramref name="offset"/> into <paramref name="scratch"/> as little-endian bytes.</summary>
    private static int CopyLittleEndian(Part part, long offset, byte[] scratch)
    {
        ReadOnlySpan<byte> bytes = part.Bytes();
        int count = (int)Math.Min(ModelStateFormat.ChunkBytes, bytes.Length - offset);
        ModelStateFormat.ToLittleEndian(bytes.Slice((int)offset, count), part.ElementSize, scratch);
        return count;
    }

    /// <summary>Computes every section's length and CRC and lays out the prologue and the section table.</summary>
    private byte[] BuildHeader()
    {
        int tableLength = 0;
        foreach (Entry entry in _entries)
        {
            tableLength += ModelStateFormat.EntryFixedLength + entry.Name.Length;
        }

        var header = new byte[ModelStateFormat.PrologueWithCrc + tableLength + 4];
        Span<byte> table = header.AsSpan(ModelStateFormat.PrologueWithCrc, tableLength);
        long payload = 0;
        int at = 0;
        byte[]? scratch = BitConverter.IsLittleEndian ? null : ArrayPool<byte>.Shared.Rent(ModelStateFormat.ChunkBytes);
        try
        {
            foreach (Entry entry in _entries)
            {
                var crc = new Crc32();
                long bytes = 0;
                foreach (Part part in entry.Parts)
                {
                    bytes += AppendCrc(crc, part, scratch);
                }

                BinaryPrimitives.WriteUInt16LittleEndian(table[at..], (ushort)entry.Name.Length);
                at += 2;
                at += Encoding.ASCII.GetBytes(entry.Name, table[at..]);
                table[at++] = (byte)entry.Kind;
                table[at++] = 0;
                BinaryPrimitives.WriteInt64LittleEndian(table[at..], entry.Count);
                BinaryPrimitives.WriteInt64LittleEndian(table[(at + 8)..], bytes);
                BinaryPrimitives.WriteUInt32LittleEndian(table[(at + 16)..], crc.GetCurrentHashAsUInt32());
                at += 20;
                payload += bytes;
            }
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        Span<byte> prologue = header;
        BinaryPrimitives.WriteUInt32LittleEndian(prologue, ModelStateFormat.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(prologue[4..], ModelStateFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(prologue[8..], (ushort)_header.Type);
        BinaryPrimitives.WriteUInt16LittleEndian(prologue[10..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(prologue[12..], _header.StateFormat);
        BinaryPrimitives.WriteUInt64LittleEndian(prologue[16..], _header.Fingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(prologue[24..], header.Length + payload);
        BinaryPrimitives.WriteInt32LittleEndian(prologue[32..], _entries.Count);
        BinaryPrimitives.WriteInt32LittleEndian(prologue[36..], tableLength);
        BinaryPrimitives.WriteUInt32LittleEndian(prologue[ModelStateFormat.PrologueLength..], Crc32.HashToUInt32(prologue[..ModelStateFormat.PrologueLength]));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(header.Length - 4), Crc32.HashToUInt32(table));
        return header;
    }

    private static long AppendCrc(Crc32 crc, Part part, byte[]? scratch)
    {
        ReadOnlySpan<byte> bytes = part.Bytes();
        if (scratch is null)
        {
            crc.Append(bytes);
            return bytes.Length;
        }

        for (long offset = 0; offset < bytes.Length;)
        {
            int count = CopyLittleEndian(part, offset, scratch);
            crc.Append(scratch.AsSpan(0, count));
            offset += count;
        }

        return bytes.Length;
    }

    private void Add(string name, SectionKind kind, long count, params Part[] parts)
    {
        if (!ModelStateFormat.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid section name (1–{ModelStateFormat.MaxNameLength} ASCII letters, digits, '.', '_', '-', ':').", nameof(name));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"Section '{name}' was added twice.", nameof(name));
        }

        _entries.Add(new Entry(name, kind, count, parts));
    }

    private sealed record Entry(string Name, SectionKind Kind, long Count, Part[] Parts);

    private readonly record struct Part(ByteSource Bytes, int ElementSize);
}

/// <summary>How optimizer state is named in a state: a prefix per optimizer type, a name per state slot.</summary>
internal static class OptimizerNames
{
    /// <summary>Gets the section prefix of <paramref name="optimizer"/> (e.g. <c>adam</c>).</summary>
    internal static string Prefix(Optimizer optimizer) => optimizer switch
    {
        AdamW => "adamw",
        Adam => "adam",
        Adagrad => "adagrad",
        Sgd => "sgd",
        _ => "optimizer",
    };

    /// <summary>Gets the name of state slot <paramref name="slot"/> (Adam's <c>m</c> and <c>v</c>).</summary>
    internal static string Slot(Optimizer optimizer, int slot) => optimizer switch
    {
        Adam or AdamW => slot == 0 ? "m" : "v",
        Adagrad => "sum",
        Sgd => "momentum",
        _ => slot.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Maps each parameter to its path.</summary>
    internal static Dictionary<Parameter, string> Paths(IEnumerable<KeyValuePair<string, Parameter>> named)
    {
        var paths = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        foreach (KeyValuePair<string, Parameter> pair in named)
        {
            paths[pair.Value] = pair.Key;
        }

        return paths;
    }
}

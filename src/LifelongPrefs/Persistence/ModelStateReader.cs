using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

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
internal sealed partial class ModelStateReader
{
    private readonly Dictionary<string, Section> _sections;
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    private ModelStateReader(string model, int stateFormat, Dictionary<string, Section> sections)
    {
        Model = model;
        StateFormat = stateFormat;
        _sections = sections;
        _consumed.Add(ModelStateWriter.OptionsSection);
    }

    /// <summary>Gets the display name of the model being loaded (for messages).</summary>
    internal string Model { get; }

    /// <summary>Gets the model's state-format number the state was written in (see <see cref="ModelStateHeader.OldestStateFormat"/>).</summary>
    internal int StateFormat { get; }

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

    /// <summary>Takes a UTF-8 section's bytes, optionally exactly <paramref name="count"/> of them.</summary>
    internal byte[] Utf8(string name, long count = -1) => Take<byte[]>(name, SectionKind.Utf8, count);

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
}

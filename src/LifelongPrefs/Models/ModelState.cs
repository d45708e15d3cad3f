using LifelongPrefs.Training;
using System.Text;

namespace LifelongPrefs.Models;

/// <summary>A saved model could not be read: wrong format, wrong model type, corrupted or truncated.</summary>
public sealed class ModelStateException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ModelStateException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong with the data.</param>
    public ModelStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed it.</summary>
    /// <param name="message">What is wrong with the data.</param>
    /// <param name="innerException">The underlying error (e.g. end of stream).</param>
    public ModelStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The binary container models save their state in: a magic number, a format version, the model type, named
/// sections (arrays of doubles, floats or ints), and a CRC-32 over everything before it. Little-endian.
/// </summary>
/// <remarks>
/// Reading validates everything before the model is touched: a wrong magic, version or model type, an unknown or
/// missing section, a bad length, a checksum mismatch or a truncated stream all raise
/// <see cref="ModelStateException"/>, so a failed load never leaves a half-restored model.
/// </remarks>
internal static class ModelState
{
    private const uint Magic = 0x46504C4C; // "LLPF"
    private const int Version = 1;

    /// <summary>Writes <paramref name="sections"/> for model type <paramref name="model"/>.</summary>
    internal static void Write(Stream stream, string model, IReadOnlyList<(string Name, Array Values)> sections)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(model);
            writer.Write(sections.Count);
            foreach (var (name, values) in sections)
            {
                writer.Write(name);
                switch (values)
                {
                    case double[] d:
                        writer.Write((byte)0);
                        writer.Write(d.Length);
                        foreach (double v in d)
                        {
                            writer.Write(v);
                        }

                        break;
                    case float[] f:
                        writer.Write((byte)1);
                        writer.Write(f.Length);
                        foreach (float v in f)
                        {
                            writer.Write(v);
                        }

                        break;
                    case int[] i:
                        writer.Write((byte)2);
                        writer.Write(i.Length);
                        foreach (int v in i)
                        {
                            writer.Write(v);
                        }

                        break;
                    default:
                        throw new ArgumentException($"Section '{name}' has unsupported element type {values.GetType()}.", nameof(sections));
                }
            }
        }

        byte[] bytes = buffer.ToArray();
        stream.Write(bytes);
        stream.Write(BitConverter.GetBytes(Crc32(bytes)));
    }

    /// <summary>Reads and fully validates a container written for model type <paramref name="model"/>.</summary>
    internal static Dictionary<string, Array> Read(Stream stream, string model)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        byte[] all = copy.ToArray();
        if (all.Length < 4 + 4 + 4)
        {
            throw new ModelStateException($"The saved {model} state is truncated: {all.Length} bytes.");
        }

        var body = all.AsSpan(0, all.Length - 4);
        uint expected = BitConverter.ToUInt32(all, all.Length - 4);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(all, 0, all.Length - 4), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic)
            {
                throw new ModelStateException("Not a LifelongPrefs model state (wrong magic number).");
            }

            int version = reader.ReadInt32();
            if (version != Version)
            {
                throw new ModelStateException($"Unsupported model state version {version}; this build reads version {Version}.");
            }

            string type = reader.ReadString();
            if (type != model)
            {
                throw new ModelStateException($"The state was saved by a {type} model, not a {model}.");
            }

            if (Crc32(body) != expected)
            {
                throw new ModelStateException($"The saved {model} state is corrupted (checksum mismatch).");
            }

            int count = reader.ReadInt32();
            var sections = new Dictionary<string, Array>(StringComparer.Ordinal);
            for (int s = 0; s < count; s++)
            {
                string name = reader.ReadString();
                byte kind = reader.ReadByte();
                int length = reader.ReadInt32();
                if (length < 0 || length > all.Length)
                {
                    throw new ModelStateException($"Section '{name}' declares an impossible length {length}.");
                }

                sections[name] = kind switch
                {
                    0 => ReadArray(length, reader.ReadDouble),
                    1 => ReadArray(length, reader.ReadSingle),
                    2 => ReadArray(length, reader.ReadInt32),
                    _ => throw new ModelStateException($"Section '{name}' has unknown element kind {kind}."),
                };
            }

            return sections;
        }
        catch (EndOfStreamException error)
        {
            throw new ModelStateException($"The saved {model} state is truncated.", error);
        }
    }

    /// <summary>Returns a section of the expected element type, or throws naming what is missing.</summary>
    internal static T[] Section<T>(Dictionary<string, Array> sections, string name, string model)
    {
        if (!sections.TryGetValue(name, out Array? values) || values is not T[] typed)
        {
            throw new ModelStateException($"The saved {model} state has no {typeof(T).Name}[] section '{name}'.");
        }

        return typed;
    }

    /// <summary>The section that holds an optimizer's applied-step count (as a low/high int pair).</summary>
    internal const string StepCountSection = "adamSteps";

    /// <summary>Appends the optimizer's step count (Adam's bias corrections depend on it) to the sections.</summary>
    internal static void AddStepCount(List<(string Name, Array Values)> sections, long steps) =>
        sections.Add((StepCountSection, new[] { (int)(steps & 0xFFFFFFFF), (int)(steps >> 32) }));

    /// <summary>Reads the step count written by <see cref="AddStepCount"/>, or throws if it is missing or negative.</summary>
    internal static long ReadStepCount(Dictionary<string, Array> sections, string model)
    {
        int[] pair = Section<int>(sections, StepCountSection, model);
        if (pair.Length != 2 || pair[1] < 0)
        {
            throw new ModelStateException($"The saved {model} state has an invalid optimizer step count.");
        }

        return (long)(uint)pair[0] | ((long)pair[1] << 32);
    }

    /// <summary>Appends a random generator's state as the section <c>rng.</c><paramref name="name"/>.</summary>
    internal static void AddRandom(List<(string Name, Array Values)> sections, string name, SeededRandom random) =>
        sections.Add(($"rng.{name}", random.GetState()));

    /// <summary>Reads and validates a generator state written by <see cref="AddRandom"/>; apply it with <see cref="SeededRandom.SetState"/>.</summary>
    internal static int[] ReadRandom(Dictionary<string, Array> sections, string name, string model)
    {
        int[] state = Section<int>(sections, $"rng.{name}", model);
        try
        {
            SeededRandom.ValidateState(state);
        }
        catch (ArgumentException error)
        {
            throw new ModelStateException($"The saved {model} state's random generator '{name}' is invalid.", error);
        }

        return state;
    }

    private static T[] ReadArray<T>(int length, Func<T> read)
    {
        var values = new T[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = read();
        }

        return values;
    }

    /// <summary>CRC-32 (IEEE 802.3 polynomial, reflected), as in zip and PNG.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}

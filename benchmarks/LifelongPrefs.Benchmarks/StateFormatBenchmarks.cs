using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Save and load of a ~64 MB state (a <see cref="BprMf"/> with 80,000 users and 4,096 items at d = 64: the two
/// embedding tables, the item biases and Adam's two moments for each dominate)
/// in the state format of <c>Persistence/</c>, against the version-1 container it replaced (kept below as a private
/// copy: BinaryWriter element by element into a MemoryStream, then a bit-at-a-time CRC-32), in the same run.
/// MB/s = state bytes / mean time (see benchmarks/README.md).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StateFormatBenchmarks : IDisposable
{
    private const int Items = 4096, Users = 80_000, Dimensions = 64;

    private BprMf _model = null!;
    private MemoryStream _target = null!;
    private byte[] _state = [];
    private byte[] _legacyState = [];
    private (string Name, Array Values)[] _legacySections = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        var events = new List<Interaction>();
        for (int u = 0; u < Users; u++)
        {
            for (int k = 0; k < 2; k++)
            {
                events.Add(new Interaction(u, random.Next(Items), k, EventKind.Purchase, 1f, 1f, -1));
            }
        }

        // One epoch, no validation: the benchmark needs a trained state's size, not a good model.
        _model = new BprMf(new BprMfOptions { Dimensions = Dimensions, MaxEpochs = 1, ValidationUsers = 0 });
        _model.Fit(events, Users, Items);
        using (var stream = new MemoryStream())
        {
            _model.Save(stream);
            _state = stream.ToArray();
        }

        // The same payload in the old container: the three parameter tables and Adam's two moments of each.
        float[] Table(int rows, int columns)
        {
            var values = new float[rows * columns];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() - 0.5);
            }

            return values;
        }

        var sections = new List<(string Name, Array Values)>();
        foreach (string moment in new[] { "value", "m", "v" })
        {
            sections.Add(($"users.{moment}", Table(Users, Dimensions)));
            sections.Add(($"items.{moment}", Table(Items, Dimensions)));
            sections.Add(($"itemBias.{moment}", Table(Items, 1)));
        }

        sections.Add(("seenOffsets", new int[Users + 1]));
        sections.Add(("seenItems", new int[Users * 2]));
        _legacySections = [.. sections];
        using (var stream = new MemoryStream())
        {
            LegacyState.Write(stream, "BPR-MF", _legacySections);
            _legacyState = stream.ToArray();
        }

        _target = new MemoryStream(_state.Length + (1 << 20));
        Console.WriteLine($"// state bytes: new {_state.Length:N0}, old {_legacyState.Length:N0}");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _target?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, Description = "Save, old container")]
    [BenchmarkCategory("Save")]
    public long SaveOld()
    {
        _target.Position = 0;
        LegacyState.Write(_target, "BPR-MF", _legacySections);
        return _target.Position;
    }

    [Benchmark(Description = "Save, state format 2")]
    [BenchmarkCategory("Save")]
    public long SaveNew()
    {
        _target.Position = 0;
        _model.Save(_target);
        return _target.Position;
    }

    [Benchmark(Baseline = true, Description = "Load, old container")]
    [BenchmarkCategory("Load")]
    public int LoadOld() => LegacyState.Read(new MemoryStream(_legacyState, writable: false), "BPR-MF").Count;

    [Benchmark(Description = "Load, state format 2")]
    [BenchmarkCategory("Load")]
    public int LoadNew()
    {
        _model.Load(new MemoryStream(_state, writable: false));
        return _model.ItemCount;
    }

    /// <summary>The version-1 container as it was before the state format: the baseline of this suite.</summary>
    private static class LegacyState
    {
        private const uint Magic = 0x46504C4C;

        internal static void Write(Stream stream, string model, (string Name, Array Values)[] sections)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(1);
                writer.Write(model);
                writer.Write(sections.Length);
                foreach (var (name, values) in sections)
                {
                    writer.Write(name);
                    switch (values)
                    {
                        case float[] f:
                            writer.Write((byte)1);
                            writer.Write(f.Length);
                            foreach (float v in f)
                            {
                                writer.Write(v);
                            }

                            break;
                        case int[] ints:
                            writer.Write((byte)2);
                            writer.Write(ints.Length);
                            foreach (int v in ints)
                            {
                                writer.Write(v);
                            }

                            break;
                    }
                }
            }

            byte[] bytes = buffer.ToArray();
            stream.Write(bytes);
            stream.Write(BitConverter.GetBytes(Crc32(bytes)));
        }

        internal static Dictionary<string, Array> Read(Stream stream, string model)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] all = copy.ToArray();
            uint expected = BitConverter.ToUInt32(all, all.Length - 4);
            using var reader = new BinaryReader(new MemoryStream(all, 0, all.Length - 4), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic || reader.ReadInt32() != 1 || reader.ReadString() != model
                || Crc32(all.AsSpan(0, all.Length - 4)) != expected)
            {
                throw new InvalidDataException("bad legacy state");
            }

            int count = reader.ReadInt32();
            var sections = new Dictionary<string, Array>(StringComparer.Ordinal);
            for (int s = 0; s < count; s++)
            {
                string name = reader.ReadString();
                byte kind = reader.ReadByte();
                int length = reader.ReadInt32();
                if (kind == 1)
                {
                    var f = new float[length];
                    for (int i = 0; i < length; i++)
                    {
                        f[i] = reader.ReadSingle();
                    }

                    sections[name] = f;
                }
                else
                {
                    var ints = new int[length];
                    for (int i = 0; i < length; i++)
                    {
                        ints[i] = reader.ReadInt32();
                    }

                    sections[name] = ints;
                }
            }

            return sections;
        }

        private static uint Crc32(ReadOnlySpan<byte> data)
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
}

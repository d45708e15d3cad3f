using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// A drift detector's checkpoint state: saved mid-stream and loaded into a fresh detector, it goes on exactly as the
/// uninterrupted one (the same detections at the same values, the same window), and damaged state is refused.
/// </summary>
public class DetectorStateTests
{
    public static TheoryData<string> Detectors => ["adwin", "page-hinkley"];

    private static IDriftDetector Create(string kind) => kind == "adwin" ? new Adwin(0.01, bucketsPerLevel: 3, checkInterval: 4) : new PageHinkley(0.005, 3, 10);

    /// <summary>Misses at rate 0.2, then 0.8, then 0.3 (seeded), so both detectors fire more than once.</summary>
    private static double[] Stream()
    {
        var rng = new Random(17);
        return [.. Enumerable.Range(0, 1200).Select(i => rng.NextDouble() < (i < 400 ? 0.2 : i < 800 ? 0.8 : 0.3) ? 1.0 : 0.0)];
    }

    private static byte[] Saved(IDriftDetector detector)
    {
        var writer = new ModelStateWriter(new ModelStateHeader(ModelTypeId.Tracker, 1, ""));
        ((IPersistentDetector)detector).WriteState(writer, "d");
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    private static void Load(IDriftDetector detector, byte[] saved)
    {
        ModelStateReader reader = ModelStateReader.Read(new MemoryStream(saved), new ModelStateHeader(ModelTypeId.Tracker, 1, ""), "detector");
        Action apply = ((IPersistentDetector)detector).ReadState(reader, "d");
        reader.EnsureAllConsumed();
        apply();
    }

    [Theory]
    [MemberData(nameof(Detectors))]
    public void Save_mid_stream_load_continue_equals_the_uninterrupted_detector(string kind)
    {
        double[] values = Stream();
        IDriftDetector original = Create(kind);
        var firedBefore = new List<int>();
        for (int i = 0; i < 600; i++)
        {
            if (original.Add(values[i]))
            {
                firedBefore.Add(i);
            }
        }

        Assert.NotEmpty(firedBefore);
        IDriftDetector restored = Create(kind);
        Load(restored, Saved(original));
        Assert.Equal(Saved(original), Saved(restored));
        Assert.Equal((original.Count, original.Mean, original.Detections), (restored.Count, restored.Mean, restored.Detections));
        var expected = new List<int>();
        var actual = new List<int>();
        for (int i = 600; i < values.Length; i++)
        {
            if (original.Add(values[i]))
            {
                expected.Add(i);
            }

            if (restored.Add(values[i]))
            {
                actual.Add(i);
            }
        }

        Assert.NotEmpty(expected);   // the continuation really detects something
        Assert.Equal(expected, actual);
        Assert.Equal(Saved(original), Saved(restored));
    }

    [Fact]
    public void An_Adwin_state_whose_buckets_do_not_add_up_to_its_window_is_refused_and_changes_nothing()
    {
        var source = new Adwin(0.01, bucketsPerLevel: 3, checkInterval: 4);
        foreach (double v in Stream()[..300])
        {
            source.Add(v);
        }

        // Rewrite the window length only (a crafted file with valid checksums), through a writer of our own.
        var crafted = new ModelStateWriter(new ModelStateHeader(ModelTypeId.Tracker, 1, ""));
        ModelStateReader reader = ModelStateReader.Read(new MemoryStream(Saved(source)), new ModelStateHeader(ModelTypeId.Tracker, 1, ""), "detector");
        crafted.AddInts("d.buckets", reader.Ints("d.buckets"));
        long[] counters = reader.Longs("d.counters");
        counters[2] += 1;
        crafted.AddLongs("d.counters", counters);
        crafted.AddDoubles("d.totals", reader.Doubles("d.totals"));
        crafted.AddDoubles("d.sums", reader.Doubles("d.sums"));
        crafted.AddDoubles("d.squares", reader.Doubles("d.squares"));
        using var stream = new MemoryStream();
        crafted.WriteTo(stream);

        var target = new Adwin(0.01, bucketsPerLevel: 3, checkInterval: 4);
        target.Add(1);
        byte[] before = Saved(target);
        Assert.Throws<ModelStateException>(() => Load(target, stream.ToArray()));
        Assert.Equal(before, Saved(target));
    }
}

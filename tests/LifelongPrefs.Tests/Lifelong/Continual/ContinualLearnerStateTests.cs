using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;
using LifelongPrefs.Privacy;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>
/// The continual learner's own save/load: save → load into a fresh learner → update is byte-identical to the
/// uninterrupted learner's update (every strategy, and DP-SGD), and a damaged state is refused with nothing changed.
/// </summary>
public class ContinualLearnerStateTests
{
    private static readonly ShiftStream Stream = new(users: 40, before: 8, after: 9, heldOut: 2, seed: 9);

    public static TheoryData<string> Strategies => ["all", "private", "fit-only"];

    private static ContinualOptions OptionsOf(string strategy) => strategy == "private"
        ? new ContinualOptions
        {
            ReplayCapacity = 120, ReplayRecentPerUser = 2, EwcStrength = 1e-3f, Seed = 4,
            DifferentialPrivacy = new DpOptions { Enabled = true, NoiseMultiplier = 1, SamplingRate = 0.3, ClipNorm = 1 },
        }
        : new ContinualOptions
        {
            ReplayCapacity = 120, ReplayRatio = 1, ReplayRecentPerUser = 3, ReplayStratification = ReplayStratification.ByItemPopularity,
            EwcStrength = 1e-3f, DistillationWeight = 0.5f, DistillationCandidates = 10, RecencyHalfLife = TimeSpan.FromDays(5), Seed = 4,
        };

    private static ContinualLearner Fresh(string strategy) => new(new BprMf(new BprMfOptions
    {
        Dimensions = 8, BatchSize = 64, MaxEpochs = 6, ValidationUsers = 0, UpdateEpochs = 3, Seed = 2,
    }), OptionsOf(strategy));

    private static byte[] Saved(ContinualLearner learner)
    {
        using var stream = new MemoryStream();
        learner.Save(stream);
        return stream.ToArray();
    }

    private static float[] Scores(ContinualLearner model)
    {
        var all = new float[Stream.Users * ShiftStream.Items];
        for (int u = 0; u < Stream.Users; u++)
        {
            model.Score(u, [], all.AsSpan(u * ShiftStream.Items, ShiftStream.Items));
        }

        return all;
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Save_load_update_equals_the_uninterrupted_update(string strategy)
    {
        Interaction[][] chunks = [.. Stream.AfterIn(3)];
        ContinualLearner original = Fresh(strategy);
        original.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        if (strategy != "fit-only")
        {
            original.Update(chunks[0], Stream.Users, ShiftStream.Items);
        }

        byte[] saved = Saved(original);
        ContinualLearner restored = Fresh(strategy);
        using (var stream = new MemoryStream(saved))
        {
            restored.Load(stream);
            Assert.Equal(stream.Length, stream.Position);
        }

        Assert.Equal(saved, Saved(restored));
        Assert.Equal(Scores(original), Scores(restored));
        Assert.Equal(original.PrivateSteps, restored.PrivateSteps);

        float[] before = Scores(original);
        foreach (Interaction[] chunk in chunks[1..])
        {
            original.Update(chunk, Stream.Users, ShiftStream.Items);
            restored.Update(chunk, Stream.Users, ShiftStream.Items);
        }

        Assert.NotEqual(before, Scores(original));   // the updates really trained
        Assert.Equal(Saved(original), Saved(restored));
        Assert.Equal(Scores(original), Scores(restored));
        Assert.Equal(original.PrivacySpent(1e-5), restored.PrivacySpent(1e-5));
    }

    [Fact]
    public async Task SaveAsync_and_LoadAsync_give_the_same_bytes_as_the_synchronous_path()
    {
        ContinualLearner original = Fresh("all");
        original.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        byte[] saved = Saved(original);
        using var stream = new MemoryStream();
        await original.SaveAsync(stream);
        Assert.Equal(saved, stream.ToArray());
        ContinualLearner restored = Fresh("all");
        stream.Position = 0;
        await restored.LoadAsync(stream);
        Assert.Equal(saved, Saved(restored));
    }

    [Fact]
    public void A_damaged_state_is_refused_with_ModelStateException_and_changes_nothing()
    {
        ContinualLearner source = Fresh("all");
        source.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        source.Update(Stream.AfterIn(3).First(), Stream.Users, ShiftStream.Items);
        byte[] saved = Saved(source);

        ContinualLearner target = Fresh("all");
        target.Fit(Stream.Before[..(Stream.Before.Length / 2)], Stream.Users, ShiftStream.Items);
        byte[] untouched = Saved(target);
        var rng = new Random(20261202);
        for (int trial = 0; trial < 60; trial++)
        {
            byte[] damaged = (byte[])saved.Clone();
            if (trial % 3 == 0)
            {
                damaged = damaged.AsSpan(0, rng.Next(damaged.Length)).ToArray();
            }
            else
            {
                damaged[rng.Next(damaged.Length)] ^= (byte)(1 << rng.Next(8));
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = Record.Exception(() => target.Load(new MemoryStream(damaged)));
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.True(error is ModelStateException, $"trial {trial}: {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            Assert.True(allocated < 16L << 20, $"trial {trial} allocated {allocated} bytes");
            Assert.Equal(untouched, Saved(target));
        }
    }

    [Fact]
    public void A_state_of_other_strategies_is_refused_naming_the_option()
    {
        ContinualLearner source = Fresh("all");
        source.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        ContinualOptions options = OptionsOf("all");
        options.ReplayRatio = 2;
        var other = new ContinualLearner(new BprMf(new BprMfOptions
        {
            Dimensions = 8, BatchSize = 64, MaxEpochs = 6, ValidationUsers = 0, UpdateEpochs = 3, Seed = 2,
        }), options);
        ModelStateException error = Assert.Throws<ModelStateException>(() => other.Load(new MemoryStream(Saved(source))));
        Assert.Contains("ReplayRatio", error.Message, StringComparison.Ordinal);
    }
}

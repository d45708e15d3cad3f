using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class SasRecStateTests
{
    private static SasRecOptions Options(SasRecLoss loss, int dimensions = 8) => new() { Dimensions = dimensions, Blocks = 1, Heads = 2, MaxLength = 6, Dropout = 0.1f,
        MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 8, LearningRate = 1e-2f, Loss = loss, Negatives = 4, Patience = 1, ValidationUsers = 0, Seed = 7 };

    private static Interaction[] Events(int users, int items, int perUser, int seed, long start = 0)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int k = 0; k < perUser; k++)
        {
            for (int u = 0; u < users; u++)
            {
                long t = start + events.Count;
                events.Add(new Interaction(u, random.Next(items), t, EventKind.Purchase, 1f, 1f, (int)(t / 2)));
            }
        }

        return [.. events];
    }

    private static Interaction[] History(int user, params int[] items) =>
        [.. items.Select((item, k) => new Interaction(user, item, k, EventKind.Purchase, 1f, 1f, k))];

    private static float[] Scores(SasRec model, int user, Interaction[] history)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, history, scores);
        return scores;
    }

    private static byte[] Saved(SasRec model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData(SasRecLoss.FullSoftmax)]
    [InlineData(SasRecLoss.BinaryCrossEntropy)]
    [InlineData(SasRecLoss.SampledSoftmax)]
    public void Round_trip_gives_bit_identical_scores_and_update_keeps_working(SasRecLoss loss)
    {
        var original = new SasRec(Options(loss));
        original.Fit(Events(12, 15, 6, 1), 12, 15);
        original.Update(Events(14, 18, 2, 2, 1000), 14, 18); // the item table grew past a fresh instance's

        var restored = new SasRec(Options(loss));
        restored.Load(new MemoryStream(Saved(original)));
        Assert.Equal(original.ItemCount, restored.ItemCount);
        foreach (Interaction[] history in new[] { History(0, 1, 2, 3), History(5, 17), History(9), History(2, 4, 4, 9, 10, 11, 12, 13, 14) })
        {
            int user = history.Length > 0 ? history[0].User : 3;
            Assert.Equal(Scores(original, user, history), Scores(restored, user, history));
        }

        // Everything saved is restored, Adam's step count included: saving the restored model gives the same bytes.
        Assert.Equal(Saved(original), Saved(restored));

        restored.Update(Events(16, 22, 2, 3, 5000), 16, 22);
        Assert.Equal(22, restored.ItemCount);
        float[] scores = Scores(restored, 15, History(15, 20, 21));
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Loading_into_a_model_with_a_larger_catalog_replaces_it()
    {
        var source = new SasRec(Options(SasRecLoss.FullSoftmax));
        source.Fit(Events(6, 5, 4, 5), 6, 5);
        var target = new SasRec(Options(SasRecLoss.FullSoftmax));
        target.Fit(Events(10, 20, 4, 6), 10, 20);

        target.Load(new MemoryStream(Saved(source)));
        Assert.Equal(5, target.ItemCount);
        Interaction[] history = History(1, 0, 3);
        Assert.Equal(Scores(source, 1, history), Scores(target, 1, history));
        target.Update(Events(8, 7, 1, 7, 900), 8, 7);
        Assert.Equal(7, target.ItemCount);
    }

    [Fact]
    public void Corrupt_or_truncated_state_is_rejected_and_the_model_is_unchanged()
    {
        var source = new SasRec(Options(SasRecLoss.SampledSoftmax));
        source.Fit(Events(10, 12, 5, 8), 10, 12);
        byte[] bytes = Saved(source);

        var target = new SasRec(Options(SasRecLoss.SampledSoftmax));
        target.Fit(Events(5, 9, 4, 9), 5, 9);
        Interaction[] history = History(1, 2, 3);
        float[] before = Scores(target, 1, history);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(flipped)));
        foreach (int length in new[] { 0, 3, 11, 40, bytes.Length / 3, bytes.Length / 2, bytes.Length - 5, bytes.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(bytes, 0, length)));
        }

        Assert.Equal(9, target.ItemCount);
        Assert.Equal(before, Scores(target, 1, history));
    }

    [Fact]
    public void State_from_another_model_type_or_other_options_is_rejected()
    {
        var popularity = new Popularity();
        popularity.Fit(Events(4, 6, 3, 10), 4, 6);
        using var other = new MemoryStream();
        popularity.Save(other);

        var target = new SasRec(Options(SasRecLoss.FullSoftmax));
        target.Fit(Events(4, 6, 3, 11), 4, 6);
        Interaction[] history = History(0, 1);
        float[] before = Scores(target, 0, history);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(other.ToArray())));

        var wider = new SasRec(Options(SasRecLoss.FullSoftmax, dimensions: 4));
        wider.Fit(Events(4, 6, 3, 12), 4, 6);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(Saved(wider))));
        var otherLoss = new SasRec(Options(SasRecLoss.BinaryCrossEntropy));
        otherLoss.Fit(Events(4, 6, 3, 12), 4, 6);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(Saved(otherLoss))));

        Assert.Equal(before, Scores(target, 0, history));
    }
}

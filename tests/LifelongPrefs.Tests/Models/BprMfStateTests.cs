using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class BprMfStateTests
{
    private static readonly BprMfOptions Options = Sized(8);

    private static BprMfOptions Sized(int dimensions) => new() { Dimensions = dimensions, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 32,
        LearningRate = 0.05f, Seed = 5, ValidationUsers = 5 };

    private static Interaction[] Events(int count, int users, int items, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
            new Interaction(random.Next(users), random.Next(items), i * TimeSpan.TicksPerHour, EventKind.Purchase, 1f, 1f, -1))];
    }

    private static float[] Scores(BprMf model, int user, Interaction[] history)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, history, scores);
        return scores;
    }

    private static byte[] Saved(ISavableRecommender model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Round_trip_restores_scores_bit_identically()
    {
        Interaction[] events = Events(300, 20, 30, 1);
        var original = new BprMf(Options);
        original.Fit(events, 20, 30);

        var restored = new BprMf(Options);
        restored.Load(new MemoryStream(Saved(original)));
        Assert.Equal(original.ItemCount, restored.ItemCount);
        foreach (int user in new[] { 0, 3, 7, 19 })
        {
            Interaction[] history = [.. events.Where(e => e.User == user)];
            Assert.Equal(Scores(original, user, history), Scores(restored, user, history));
        }

        // A user index beyond the tables (fold-in from history) also scores identically.
        Assert.Equal(Scores(original, 25, events[..10]), Scores(restored, 25, events[..10]));
        Assert.Equal(Saved(original), Saved(restored));
    }

    [Fact]
    public void Update_after_load_works_and_grows()
    {
        var original = new BprMf(Options);
        original.Fit(Events(300, 20, 30, 1), 20, 30);
        var restored = new BprMf(Options);
        restored.Load(new MemoryStream(Saved(original)));

        restored.Update(Events(100, 25, 35, 2), 25, 35);
        Assert.Equal(35, restored.ItemCount);
        float[] scores = Scores(restored, 22, []);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        Assert.Equal(35, Scores(restored, 3, Events(5, 25, 35, 3)).Length);
    }

    [Fact]
    public void Corrupt_or_truncated_state_is_rejected_and_the_model_is_unchanged()
    {
        var source = new BprMf(Options);
        source.Fit(Events(200, 10, 12, 3), 10, 12);
        byte[] bytes = Saved(source);

        var target = new BprMf(Options);
        target.Fit(Events(50, 5, 14, 4), 5, 14);
        Interaction[] history = Events(5, 5, 14, 6);
        float[] before = Scores(target, 1, history), beforeNew = Scores(target, 9, history);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(flipped)));
        foreach (int length in new[] { 0, 3, 11, 40, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(bytes, 0, length)));
        }

        Assert.Equal(14, target.ItemCount);
        Assert.Equal(before, Scores(target, 1, history));
        Assert.Equal(beforeNew, Scores(target, 9, history));
    }

    [Fact]
    public void State_from_another_model_type_or_dimensions_is_rejected()
    {
        var target = new BprMf(Options);
        target.Fit(Events(100, 8, 10, 7), 8, 10);
        float[] before = Scores(target, 2, []);

        var popularity = new Popularity();
        popularity.Fit(Events(100, 8, 10, 7), 8, 10);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(Saved(popularity))));

        var wider = new BprMf(Sized(4));
        wider.Fit(Events(100, 8, 10, 7), 8, 10);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(Saved(wider))));

        Assert.Equal(before, Scores(target, 2, []));
    }
}

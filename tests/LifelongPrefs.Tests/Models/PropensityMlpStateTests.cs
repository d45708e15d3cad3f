using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class PropensityMlpStateTests
{
    private const long Day = TimeSpan.TicksPerDay;

    /// <summary>Weekly baskets: each user's two staples plus one random item, over a small catalog.</summary>
    private static List<Interaction> Baskets(int users, int firstUser, int items, int baskets, long startDay, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int b = 0; b < baskets; b++)
        {
            for (int u = 0; u < users; u++)
            {
                int user = firstUser + u;
                long ticks = (startDay + b * 7) * Day + user * TimeSpan.TicksPerMinute;
                int basket = user * 1000 + b;
                var set = new SortedSet<int> { user % items, (user * 7 + 3) % items, random.Next(items) };
                foreach (int item in set)
                {
                    events.Add(new Interaction(user, item, ticks, EventKind.Purchase, 1f + random.Next(3), 2f, basket));
                }
            }
        }

        return events;
    }

    private static PropensityMlpOptions Small(int hidden1 = 8) => new() { Hidden1 = hidden1, Hidden2 = 4, MaxEpochs = 3, Patience = 3, UpdateEpochs = 1,
        BatchSize = 32, LearningRate = 0.01f, NegativesPerPositive = 3, RepeatNegativesPerPositive = 1, ValidationUsers = 3, Seed = 5 };

    private static float[] Scores(PropensityMlp model, int user, List<Interaction> events)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, events.Where(e => e.User == user).ToArray(), scores);
        return scores;
    }

    private static byte[] Saved(PropensityMlp model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Round_trip_gives_bit_identical_scores()
    {
        List<Interaction> events = Baskets(12, 0, 15, 5, 0, 1);
        var original = new PropensityMlp(Small());
        original.Fit(events, 12, 15);
        var restored = new PropensityMlp(Small());
        restored.Load(new MemoryStream(Saved(original)));

        Assert.Equal(original.ItemCount, restored.ItemCount);
        foreach (int user in new[] { 0, 4, 11 })
        {
            Assert.Equal(Scores(original, user, events), Scores(restored, user, events));
        }

        // A user with no history and one with a foreign history.
        Assert.Equal(Scores(original, 20, events), Scores(restored, 20, events));
        Assert.Equal(original.HoldoutClassification, restored.HoldoutClassification);
        Assert.Equal(Saved(original), Saved(restored));
    }

    [Fact]
    public void Update_after_load_works_and_grows()
    {
        List<Interaction> events = Baskets(12, 0, 15, 5, 0, 2);
        var original = new PropensityMlp(Small());
        original.Fit(events, 12, 15);
        var restored = new PropensityMlp(Small());
        restored.Load(new MemoryStream(Saved(original)));

        List<Interaction> more = Baskets(16, 0, 18, 2, 40, 3);
        restored.Update(more, 16, 18);
        Assert.Equal(18, restored.ItemCount);
        float[] scores = Scores(restored, 15, more);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Corrupt_or_truncated_state_is_rejected_and_the_target_is_unchanged()
    {
        List<Interaction> events = Baskets(12, 0, 15, 5, 0, 4);
        var source = new PropensityMlp(Small());
        source.Fit(events, 12, 15);
        byte[] bytes = Saved(source);

        List<Interaction> other = Baskets(6, 0, 10, 4, 0, 5);
        var target = new PropensityMlp(Small());
        target.Fit(other, 6, 10);
        float[] before = Scores(target, 2, other);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(flipped)));
        foreach (int length in new[] { 0, 3, 11, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(bytes, 0, length)));
        }

        Assert.Equal(10, target.ItemCount);
        Assert.Equal(before, Scores(target, 2, other));
    }

    [Fact]
    public void State_of_another_model_type_or_other_options_is_rejected()
    {
        List<Interaction> events = Baskets(6, 0, 10, 4, 0, 6);
        var popularity = new Popularity();
        popularity.Fit(events, 6, 10);
        using var stream = new MemoryStream();
        popularity.Save(stream);

        var target = new PropensityMlp(Small());
        target.Fit(events, 6, 10);
        float[] before = Scores(target, 1, events);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(stream.ToArray())));

        var wider = new PropensityMlp(Small(hidden1: 9));
        wider.Fit(events, 6, 10);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(Saved(wider))));
        Assert.Equal(before, Scores(target, 1, events));
    }
}

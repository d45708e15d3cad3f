using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class RepeatAwareStateTests
{
    private static readonly RepeatAwareOptions Small = Sized(8);

    private static RepeatAwareOptions Sized(int hidden) => new() { Hidden = hidden, MaxEpochs = 3, Patience = 3, UpdateEpochs = 1,
        BatchSize = 32, LearningRate = 0.01f, ExploreCandidates = 5, RandomNegatives = 5, ValidationUsers = 4, Seed = 3 };

    private static List<Interaction> Baskets(int users, int baskets, int items, int seed, int firstUser = 0, int dayOffset = 0)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int b = 0; b < baskets; b++)
        {
            for (int u = firstUser; u < firstUser + users; u++)
            {
                long ticks = TimeSpan.TicksPerDay * (b + 1 + dayOffset) + u + (1L << 40);
                int basket = (b + dayOffset) * 1000 + u;
                events.Add(new Interaction(u, u % items, ticks, EventKind.Purchase, 1f, 2f, basket));
                events.Add(new Interaction(u, random.Next(items), ticks, EventKind.Purchase, 1f, 1f, basket));
            }
        }

        events.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));
        return events;
    }

    private static RepeatAware Fitted(int seed = 1)
    {
        var model = new RepeatAware(Small);
        model.Fit(Baskets(12, 4, 15, seed), 12, 15);
        return model;
    }

    private static byte[] Saved(RepeatAware model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    private static float[] Scores(RepeatAware model, int user, List<Interaction> events)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, events.Where(e => e.User == user).ToArray(), scores);
        return scores;
    }

    [Fact]
    public void Round_trip_scores_bit_identically()
    {
        RepeatAware source = Fitted();
        List<Interaction> events = Baskets(12, 4, 15, 1);
        var target = new RepeatAware(Small);
        target.Load(new MemoryStream(Saved(source)));
        Assert.Equal(source.ItemCount, target.ItemCount);
        foreach (int user in new[] { 0, 3, 7, 11 })
        {
            Assert.Equal(Scores(source, user, events), Scores(target, user, events));
        }

        Assert.Equal(Saved(source), Saved(target));
    }

    [Fact]
    public void Update_after_load_works_and_grows()
    {
        var target = new RepeatAware(Small);
        target.Load(new MemoryStream(Saved(Fitted())));
        List<Interaction> more = Baskets(14, 2, 18, 9, firstUser: 0, dayOffset: 10);
        target.Update(more, 14, 18);
        Assert.Equal(18, target.ItemCount);
        float[] scores = Scores(target, 13, more);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Corrupt_or_truncated_state_is_rejected_and_the_model_is_unchanged()
    {
        byte[] bytes = Saved(Fitted(1));
        RepeatAware target = Fitted(2);
        List<Interaction> events = Baskets(12, 4, 15, 2);
        float[] before = Scores(target, 5, events);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(flipped)));
        foreach (int length in new[] { 0, 3, 11, 40, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(bytes, 0, length)));
        }

        Assert.Equal(before, Scores(target, 5, events));
    }

    [Fact]
    public void State_of_another_model_type_or_other_options_is_rejected()
    {
        var knn = new ItemKnn();
        knn.Fit(Baskets(12, 4, 15, 1), 12, 15);
        using var other = new MemoryStream();
        knn.Save(other);
        RepeatAware target = Fitted(2);
        List<Interaction> events = Baskets(12, 4, 15, 2);
        float[] before = Scores(target, 4, events);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(other.ToArray())));

        var wider = new RepeatAware(Sized(9));
        Assert.Throws<ModelStateException>(() => wider.Load(new MemoryStream(Saved(Fitted()))));
        Assert.Equal(before, Scores(target, 4, events));
    }
}

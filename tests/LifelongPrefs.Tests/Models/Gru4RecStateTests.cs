using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class Gru4RecStateTests
{
    private const int Items = 12;
    private const int Users = 15;

    private static List<Interaction> Walks(int firstUser, int users, int seed, int items = Items, int itemOffset = 0)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int u = firstUser; u < firstUser + users; u++)
        {
            int item = random.Next(items), length = 4 + random.Next(5);
            for (int k = 0; k < length; k++)
            {
                events.Add(new Interaction(u, itemOffset + item, events.Count, EventKind.Purchase, 1f, 1f, events.Count));
                item = (item + 1) % items;
            }
        }

        return events;
    }

    private static Gru4RecOptions Small(Gru4RecLoss loss = Gru4RecLoss.FullSoftmax, bool tie = false, int seed = 3, int width = 8) =>
        new() { Dimensions = width, HiddenSize = width, MaxLength = 5, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 8, LearningRate = 0.02f,
            TieOutput = tie, Loss = loss, Negatives = 4, Patience = 2, ValidationUsers = 3, Seed = seed };

    private static float[] Scores(Gru4Rec model, int user, IReadOnlyList<Interaction> events)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, events.Where(e => e.User == user).ToArray(), scores);
        return scores;
    }

    private static (Gru4Rec Model, List<Interaction> Events, byte[] State) Trained(Gru4RecOptions options)
    {
        List<Interaction> events = Walks(0, Users, 1);
        var model = new Gru4Rec(options);
        model.Fit(events, Users, Items);
        using var stream = new MemoryStream();
        model.Save(stream);
        return (model, events, stream.ToArray());
    }

    [Theory]
    [InlineData(Gru4RecLoss.FullSoftmax, false)]
    [InlineData(Gru4RecLoss.FullSoftmax, true)]
    [InlineData(Gru4RecLoss.SampledSoftmax, false)]
    public void Round_trip_scores_bit_identically(Gru4RecLoss loss, bool tie)
    {
        (Gru4Rec model, List<Interaction> events, byte[] state) = Trained(Small(loss, tie));
        var restored = new Gru4Rec(Small(loss, tie));
        restored.Load(new MemoryStream(state));
        Assert.Equal(model.ItemCount, restored.ItemCount);
        foreach (int user in new[] { 0, 4, 9, Users + 2 })
        {
            Assert.Equal(Scores(model, user, events), Scores(restored, user, events));
        }

        // Everything saved is restored, Adam's step count included: saving the restored model gives the same bytes.
        using var again = new MemoryStream();
        restored.Save(again);
        Assert.Equal(state, again.ToArray());
    }

    [Theory]
    [InlineData(Gru4RecLoss.FullSoftmax)]
    [InlineData(Gru4RecLoss.SampledSoftmax)]
    public void Update_after_load_works_and_grows(Gru4RecLoss loss)
    {
        (_, List<Interaction> events, byte[] state) = Trained(Small(loss));
        var restored = new Gru4Rec(Small(loss));
        restored.Load(new MemoryStream(state));
        List<Interaction> fresh = Walks(Users, 5, 2, items: 3, itemOffset: Items);
        restored.Update(fresh, Users + 5, Items + 3);
        Assert.Equal(Items + 3, restored.ItemCount);
        float[] scores = Scores(restored, Users + 1, fresh);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        Assert.All(Scores(restored, 2, events), s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Corrupt_or_truncated_state_is_rejected_and_leaves_the_model_unchanged()
    {
        (_, List<Interaction> events, byte[] state) = Trained(Small());
        // The target is a differently trained model, so an accidental partial load would change its scores.
        var target = new Gru4Rec(Small(seed: 9));
        target.Fit(events, Users, Items);
        float[] before = Scores(target, 4, events);

        byte[] corrupt = (byte[])state.Clone();
        corrupt[corrupt.Length / 2] ^= 0x10;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(corrupt)));
        foreach (int length in new[] { 0, 3, 11, 40, state.Length / 3, state.Length / 2, state.Length - 5, state.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(state[..length])));
        }

        Assert.Equal(before, Scores(target, 4, events));
        Assert.Equal(Items, target.ItemCount);
    }

    [Fact]
    public void State_of_another_model_type_or_other_options_is_rejected()
    {
        List<Interaction> events = Walks(0, Users, 1);
        var popularity = new Popularity();
        popularity.Fit(events, Users, Items);
        using var stream = new MemoryStream();
        popularity.Save(stream);

        var target = new Gru4Rec(Small());
        target.Fit(events, Users, Items);
        float[] before = Scores(target, 3, events);
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(stream.ToArray())));

        (_, _, byte[] state) = Trained(Small());
        Assert.Throws<ModelStateException>(() => new Gru4Rec(Small(width: 6)).Load(new MemoryStream(state)));
        Assert.Throws<ModelStateException>(() => new Gru4Rec(Small(Gru4RecLoss.SampledSoftmax)).Load(new MemoryStream(state)));
        Assert.Equal(before, Scores(target, 3, events));
    }
}

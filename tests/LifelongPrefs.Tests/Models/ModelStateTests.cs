using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Models;

public class ModelStateTests
{
    private static Interaction[] Events(int count, int users, int items, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
            new Interaction(random.Next(users), random.Next(items), i * TimeSpan.TicksPerHour, EventKind.Purchase, 1f, 1f, -1))];
    }

    private static float[] Scores(IRecommender model, int user, Interaction[] history)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, history, scores);
        return scores;
    }

    public static TheoryData<string> Models => new() { "Popularity", "DecayedPopularity", "PersonalPopularity", "ItemKNN" };

    private static ISavableRecommender Create(string name) => name switch
    {
        "Popularity" => new Popularity(),
        "DecayedPopularity" => new Popularity(halfLifeDays: 2),
        "PersonalPopularity" => new PersonalPopularity(),
        _ => new ItemKnn(),
    };

    private static byte[] Saved(ISavableRecommender model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Save_then_load_restores_scores_and_continuing_equals_an_uninterrupted_run(string name)
    {
        Interaction[] first = Events(300, 20, 30, 1), second = Events(100, 25, 35, 2);
        Interaction[] history = first[..40];
        ISavableRecommender original = Create(name);
        original.Fit(first, 20, 30);

        ISavableRecommender restored = Create(name);
        restored.Load(new MemoryStream(Saved(original)));
        Assert.Equal(Scores(original, 3, history), Scores(restored, 3, history));

        original.Update(second, 25, 35);
        restored.Update(second, 25, 35);
        Assert.Equal(Scores(original, 22, history), Scores(restored, 22, history));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Corrupt_or_truncated_state_is_rejected_and_the_model_is_unchanged(string name)
    {
        ISavableRecommender source = Create(name);
        source.Fit(Events(200, 10, 12, 3), 10, 12);
        byte[] bytes = Saved(source);

        ISavableRecommender target = Create(name);
        target.Fit(Events(50, 5, 12, 4), 5, 12);
        float[] before = Scores(target, 1, []);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(flipped)));
        foreach (int length in new[] { 0, 3, 11, bytes.Length / 3, bytes.Length - 1 })
        {
            Assert.Throws<ModelStateException>(() => target.Load(new MemoryStream(bytes, 0, length)));
        }

        Assert.Equal(before, Scores(target, 1, []));
    }

    [Fact]
    public void State_of_another_model_type_or_other_options_is_rejected()
    {
        var popularity = new Popularity();
        popularity.Fit(Events(50, 5, 6, 5), 5, 6);
        byte[] bytes = Saved(popularity);

        var error = Assert.Throws<ModelStateException>(() => new ItemKnn().Load(new MemoryStream(bytes)));
        Assert.Contains("Popularity", error.Message, StringComparison.Ordinal);
        Assert.Throws<ModelStateException>(() => new Popularity(halfLifeDays: 3).Load(new MemoryStream(bytes)));
        Assert.Throws<ModelStateException>(() => new Popularity().Load(new MemoryStream("not a model state"u8.ToArray())));
    }
}

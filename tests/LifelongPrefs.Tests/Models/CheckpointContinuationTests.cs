using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// Checkpoint-then-continue equals an uninterrupted run, for every savable model: a model that is saved after
/// <c>Fit</c>, loaded into a fresh instance and updated must end in exactly the state (bytes and scores) of the
/// model that was updated without the round trip. This needs every piece of training state in the checkpoint:
/// parameters, optimizer moments and step count, histories, samplers, and the random generators' positions.
/// </summary>
public class CheckpointContinuationTests
{
    private const int Users = 14, Items = 16, NewUsers = 17, NewItems = 19;

    public static TheoryData<string> Models => new()
    {
        "Popularity", "PersonalPopularity", "ItemKNN", "BPR-MF", "MLP", "GRU4Rec", "GRU4Rec sampled", "SASRec", "SASRec sampled", "RepeatAware", "TIFU-KNN", "UP-CF",
        "RepeatExplore",
    };

    /// <summary>A small, fast instance of the named model (shared by the hardening properties).</summary>
    internal static ISavableRecommender Create(string name) => name switch
    {
        "Popularity" => new Popularity(),
        "PersonalPopularity" => new PersonalPopularity(),
        "ItemKNN" => new ItemKnn(),
        "BPR-MF" => new BprMf(new BprMfOptions { Dimensions = 8, MaxEpochs = 3, UpdateEpochs = 2, BatchSize = 16, Patience = 3, ValidationUsers = 3, Seed = 5 }),
        "MLP" => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 8, Hidden2 = 4, Dropout = 0.2f, MaxEpochs = 2, Patience = 2, UpdateEpochs = 2,
            BatchSize = 16, NegativesPerPositive = 3, RepeatNegativesPerPositive = 1, ValidationUsers = 3, Seed = 5 }),
        "GRU4Rec" => new Gru4Rec(Gru4RecOptions(Gru4RecLoss.FullSoftmax)),
        "GRU4Rec sampled" => new Gru4Rec(Gru4RecOptions(Gru4RecLoss.SampledSoftmax)),
        "SASRec" => new SasRec(SasRecOptions(SasRecLoss.FullSoftmax)),
        "SASRec sampled" => new SasRec(SasRecOptions(SasRecLoss.SampledSoftmax)),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions { Hidden = 8, MaxEpochs = 2, Patience = 2, UpdateEpochs = 2, BatchSize = 16,
            ExploreCandidates = 5, RandomNegatives = 4, ValidationUsers = 3, Seed = 5 }),
        "TIFU-KNN" => new TifuKnn(new TifuKnnOptions { Neighbors = [2, 4], GroupCounts = [3], Alphas = [0.2f, 0.6f], ValidationUsers = 3, Seed = 5 }),
        "UP-CF" => new UpCf(new UpCfOptions { Recencies = [1, 3], Asymmetries = [0.25f, 0.75f], Localities = [3], ValidationUsers = 3, Seed = 5 }),
        "RepeatExplore" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 5, OwnCandidates = 3, ContextItems = 3,
            CooccurrenceItems = 4, Seed = 5 }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model"),
    };

    private static Gru4RecOptions Gru4RecOptions(Gru4RecLoss loss) => new() { Dimensions = 8, HiddenSize = 8, MaxLength = 5, MaxEpochs = 2,
        UpdateEpochs = 2, BatchSize = 8, Loss = loss, Negatives = 4, Patience = 2, ValidationUsers = 3, Seed = 5 };

    private static SasRecOptions SasRecOptions(SasRecLoss loss) => new() { Dimensions = 8, Blocks = 1, Heads = 2, MaxLength = 6, Dropout = 0.2f,
        MaxEpochs = 2, UpdateEpochs = 2, BatchSize = 8, Loss = loss, Negatives = 4, Patience = 2, ValidationUsers = 3, Seed = 5 };

    /// <summary>Weekly two-item baskets: a staple per user plus a random item; <paramref name="firstDay"/> moves them in time.</summary>
    internal static List<Interaction> Baskets(int users, int items, int weeks, int firstDay, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        for (int w = 0; w < weeks; w++)
        {
            for (int u = 0; u < users; u++)
            {
                long ticks = (TimeSpan.TicksPerDay * (firstDay + (7 * w))) + (u * TimeSpan.TicksPerMinute);
                int basket = ((firstDay + (7 * w)) * 100) + u;
                events.Add(new Interaction(u, u % items, ticks, EventKind.Purchase, 1f, 2f, basket));
                events.Add(new Interaction(u, random.Next(items), ticks + 1, EventKind.Purchase, 2f, 1f, basket));
            }
        }

        return events;
    }

    internal static byte[] Saved(ISavableRecommender model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    private static float[] Scores(IRecommender model, int user, List<Interaction> events)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, events.Where(e => e.User == user).ToArray(), scores);
        return scores;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Saving_loading_and_updating_equals_updating_without_the_round_trip(string name)
    {
        List<Interaction> first = Baskets(Users, Items, 5, 0, 1);
        List<Interaction> second = Baskets(NewUsers, NewItems, 2, 40, 2);   // new users and new items

        ISavableRecommender uninterrupted = Create(name);
        uninterrupted.Fit(first, Users, Items);
        byte[] checkpoint = Saved(uninterrupted);

        ISavableRecommender resumed = Create(name);
        resumed.Load(new MemoryStream(checkpoint));

        uninterrupted.Update(second, NewUsers, NewItems);
        resumed.Update(second, NewUsers, NewItems);

        List<Interaction> all = [.. first, .. second];
        foreach (int user in new[] { 0, 5, Users - 1, Users, NewUsers - 1 })
        {
            Assert.Equal(Scores(uninterrupted, user, all), Scores(resumed, user, all));
        }

        Assert.Equal(Saved(uninterrupted), Saved(resumed));

        // And the update really trained: the state moved away from the checkpoint.
        Assert.NotEqual(checkpoint, Saved(resumed));
    }
}

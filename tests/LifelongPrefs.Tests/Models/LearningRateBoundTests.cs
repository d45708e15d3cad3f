using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// Every learned model steps with Adam, whose step per parameter is bounded by about its learning rate, so the options
/// accept rates in (0, 1] only: a rate of 1e30 used to pass the "positive, finite" check and train to infinite and then
/// NaN weights, which <c>Save</c> wrote and <c>Load</c> refused. At the largest rate allowed, on data with extreme (but
/// valid) quantities and values, every model must train and update to finite parameters — which a save and load of its
/// state proves, since <c>Load</c> rejects a non-finite float in any section.
/// </summary>
public class LearningRateBoundTests
{
    private const int Users = 12, Items = 10;

    public static TheoryData<string, float> OutOfRange => new()
    {
        { "BPR-MF", 1e30f }, { "MLP", 1.0001f }, { "GRU4Rec", float.PositiveInfinity }, { "SASRec", 2f }, { "RepeatAware", 10f },
        { "RepeatExplore", 1e30f }, { "RepeatExplore gate", 1.5f }, { "BPR-MF", float.NaN }, { "SASRec", -1f }, { "RepeatExplore", 0f },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void A_learning_rate_outside_zero_to_one_is_rejected_naming_the_option_and_the_value(string model, float rate)
    {
        var e = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Create(model, rate));
        Assert.Equal(model == "RepeatExplore gate" ? "GateLearningRate" : "LearningRate", e.ParamName);
        Assert.Contains(rate.ToString(System.Globalization.CultureInfo.CurrentCulture), e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Learned => ["BPR-MF", "MLP", "GRU4Rec", "SASRec", "RepeatAware", "RepeatExplore", "RepeatExplore gate"];

    [Theory]
    [MemberData(nameof(Learned))]
    public void At_the_largest_allowed_rate_training_and_updates_keep_every_parameter_finite(string name)
    {
        ISavableRecommender model = Create(name, 1f);
        var random = new Random(name.Sum(c => c * 17));
        model.Fit(Extreme(random, 0), Users, Items);
        for (int round = 1; round <= 3; round++)
        {
            model.Update(Extreme(random, round * 100), Users, Items);
        }

        // The oracle: a model of the same options loads the state, and Load checks every float section is finite.
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        ISavableRecommender copy = Create(name, 1f);
        copy.Load(stream);
        var scores = new float[Items];
        copy.Score(0, Extreme(random, 999).Where(e => e.User == 0).ToArray(), scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s), $"score {s}"));
    }

    /// <summary>Baskets of three items per user and day with quantities and values up to 1e6 (valid, but far from the usual 1–10).</summary>
    private static List<Interaction> Extreme(Random random, int firstDay)
    {
        var events = new List<Interaction>();
        for (int day = 0; day < 6; day++)
        {
            for (int u = 0; u < Users; u++)
            {
                long ticks = TimeSpan.TicksPerDay * (firstDay + day + 1);
                for (int k = 0; k < 3; k++)
                {
                    float quantity = random.Next(2) == 0 ? 1f : 1e6f, value = random.Next(2) == 0 ? 1f : 1e6f;
                    events.Add(new Interaction(u, (u + (k * random.Next(1, 4))) % Items, ticks, EventKind.Purchase, quantity, value,
                        ((firstDay + day) * Users) + u));
                }
            }
        }

        return events;
    }

    private static ISavableRecommender Create(string name, float rate) => name switch
    {
        "BPR-MF" => new BprMf(new BprMfOptions { Dimensions = 8, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 8, ValidationUsers = 3, Seed = 3, LearningRate = rate }),
        "MLP" => new PropensityMlp(new PropensityMlpOptions { Hidden1 = 8, Hidden2 = 4, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 8, ValidationUsers = 3,
            Seed = 3, LearningRate = rate }),
        "GRU4Rec" => new Gru4Rec(new Gru4RecOptions { Dimensions = 8, HiddenSize = 8, MaxLength = 5, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 8,
            Negatives = 4, ValidationUsers = 3, Seed = 3, LearningRate = rate }),
        "SASRec" => new SasRec(new SasRecOptions { Dimensions = 8, Blocks = 1, Heads = 2, MaxLength = 6, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 8,
            Negatives = 4, ValidationUsers = 3, Seed = 3, LearningRate = rate }),
        "RepeatAware" => new RepeatAware(new RepeatAwareOptions { Hidden = 8, MaxEpochs = 4, UpdateEpochs = 2, BatchSize = 8, ExploreCandidates = 4,
            RandomNegatives = 3, ValidationUsers = 3, Seed = 3, LearningRate = rate }),
        "RepeatExplore" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 4, Seed = 3, LearningRate = rate }),
        "RepeatExplore gate" => new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 4, Seed = 3, GateLearningRate = rate }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model"),
    };
}

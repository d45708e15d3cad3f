using System.Runtime.CompilerServices;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// One checked-in state per model variant after <see cref="StateModels.Fitted"/> and one <see cref="IRecommender.Update"/>
/// with <see cref="NewEvents"/>: written by the models as they were before they moved onto <see cref="UserHistories"/>,
/// so a fresh fit and update must still end with exactly the saved scores (the oracle is the earlier code's own output).
/// </summary>
/// <remarks>
/// The update continues a user's last basket (the sequence models' open basket), opens new baskets, adds an event
/// without a basket, a return, a new user and a new item: every way the per-user histories grow. Regenerate only
/// after a deliberate change of a model's training, with <c>LLPF_REGENERATE_UPDATED_FIXTURES=1</c>.
/// </remarks>
public class UpdatedFixtureTests
{
    private const string RegenerateVariable = "LLPF_REGENERATE_UPDATED_FIXTURES";

    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public void A_fit_and_update_scores_as_the_checked_in_state_of_the_earlier_code(string name)
    {
        ISavableRecommender fresh = Updated(name);
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
        {
            File.WriteAllBytes(Path.Combine(SourceFolder(), name + ".updated.llpf"), StateModels.Saved(fresh));
            return;
        }

        string path = Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", name + ".updated.llpf");
        Assert.True(File.Exists(path), $"Missing fixture {path}.");
        ISavableRecommender loaded = StateModels.Create(name);
        loaded.Load(new MemoryStream(File.ReadAllBytes(path)));
        Assert.Equal(loaded.ItemCount, fresh.ItemCount);
        Assert.Equal(AllScores(loaded), AllScores(fresh));
    }

    /// <summary>A model fitted on <see cref="StateModels.Log"/> and updated with <see cref="NewEvents"/> (one more user and item).</summary>
    internal static ISavableRecommender Updated(string name)
    {
        ISavableRecommender model = StateModels.Fitted(name);
        model.Update(NewEvents(), StateModels.Users + 1, StateModels.Items + 1);
        return model;
    }

    /// <summary>A fifth week: user 0 adds to its week-3 basket, users 1–3 open new baskets, user 4 buys without a basket, user 9 and item 11 are new.</summary>
    internal static List<Interaction> NewEvents()
    {
        long week = 28 * TimeSpan.TicksPerDay;
        return
        [
            new Interaction(0, 5, (21 * TimeSpan.TicksPerDay) + 5, EventKind.Purchase, 1f, 2f, 300),
            new Interaction(0, 0, (21 * TimeSpan.TicksPerDay) + 6, EventKind.Purchase, 1f, 2f, 300),
            new Interaction(1, 11, week + 10, EventKind.Purchase, 1f, 3f, 401),
            new Interaction(1, 1, week + 11, EventKind.Purchase, 2f, 1f, 401),
            new Interaction(2, 7, week + 20, EventKind.Purchase, 1f, 1f, 402),
            new Interaction(2, 7, week + 21, EventKind.Purchase, 1f, 1f, 402),
            new Interaction(2, 3, week + 22, EventKind.Return, 1f, 1f, 402),
            new Interaction(3, 3, week + 30, EventKind.Purchase, 1f, 1f, 403),
            new Interaction(4, 8, week + 40, EventKind.Purchase, 1f, 1f, -1),
            new Interaction(4, 2, week + 40, EventKind.Purchase, 1f, 1f, -1),
            new Interaction(9, 11, week + 50, EventKind.Purchase, 1f, 4f, 409),
            new Interaction(9, 4, week + 51, EventKind.Purchase, 1f, 4f, 409),
            new Interaction(9, 6, week + (7 * TimeSpan.TicksPerDay), EventKind.Purchase, 1f, 4f, 509),
        ];
    }

    /// <summary>Every user's scores over the log and the new events, concatenated.</summary>
    private static float[] AllScores(IRecommender model)
    {
        List<Interaction> all = [.. StateModels.Log(), .. NewEvents()];
        var scores = new float[model.ItemCount];
        var result = new List<float>();
        for (int u = 0; u <= StateModels.Users; u++)
        {
            model.Score(u, [.. all.Where(e => e.User == u)], scores);
            result.AddRange(scores);
        }

        return [.. result];
    }

    private static string SourceFolder([CallerFilePath] string file = "") => Path.Combine(Path.GetDirectoryName(file)!, "Fixtures");
}

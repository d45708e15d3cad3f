using System.Runtime.CompilerServices;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// One checked-in state per model variant, written in container format version 2 by a small deterministic fit on
/// <see cref="StateModels.Log"/>. Loading it must give exactly the scores of a model fitted freshly with the same
/// seed and data; a later container version must still load these files or reject them with a clear message.
/// </summary>
/// <remarks>
/// To regenerate (after a deliberate change of a model's training, options or state layout), run the tests with
/// <c>LLPF_REGENERATE_FIXTURES=1</c>: <c>LLPF_REGENERATE_FIXTURES=1 dotnet test tests/LifelongPrefs.Tests -c Release
/// --filter "FullyQualifiedName~FixtureTests"</c> rewrites <c>tests/LifelongPrefs.Tests/Persistence/Fixtures/*.llpf</c>
/// in the source tree; commit the new files with the change that needed them.
/// </remarks>
public class FixtureTests
{
    private const string RegenerateVariable = "LLPF_REGENERATE_FIXTURES";

    // The states after one update (<c>*.updated.llpf</c>) were written by the models as they were before they moved onto
    // UserHistories: a fresh fit and update must still end with exactly their scores. Regenerate only after a
    // deliberate change of a model's training.
    private const string RegenerateUpdatedVariable = "LLPF_REGENERATE_UPDATED_FIXTURES";

    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public void The_checked_in_fixture_loads_and_scores_as_a_fresh_fit(string name)
    {
        ISavableRecommender oracle = StateModels.Fitted(name);
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
        {
            File.WriteAllBytes(Path.Combine(SourceFolder(), name + ".llpf"), StateModels.Saved(oracle));
            return;
        }

        string path = Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", name + ".llpf");
        Assert.True(File.Exists(path), $"Missing fixture {path}; regenerate with {RegenerateVariable}=1.");
        byte[] fixture = File.ReadAllBytes(path);
        Assert.Equal(2u, BitConverter.ToUInt32(fixture, 4));   // the container version the fixtures were written in
        Assert.True(fixture.Length < 16 * 1024, $"Fixture {name} has {fixture.Length} bytes; keep fixtures small.");

        ISavableRecommender loaded = StateModels.Create(name);
        loaded.Load(new MemoryStream(fixture));
        Assert.Equal(oracle.ItemCount, loaded.ItemCount);
        Assert.Equal(StateModels.AllScores(oracle), StateModels.AllScores(loaded));
        byte[] saved = StateModels.Saved(oracle);
        if (StateFormat(saved) == StateFormat(fixture))
        {
            Assert.Equal(fixture, StateModels.Saved(loaded));

            // The fixtures were written by the earlier code: a fresh fit must still train to exactly their state.
            Assert.Equal(fixture, saved);
            return;
        }

        // The model's layout has moved on (e.g. the history store replaced derived sequences): the old state must
        // still continue exactly as the fresh fit does, and re-save in the current layout.
        Assert.True(StateFormat(fixture) < StateFormat(saved), $"{name}: fixture format {StateFormat(fixture)}, current {StateFormat(saved)}.");
        ISavableRecommender resaved = StateModels.Create(name);
        resaved.Load(new MemoryStream(StateModels.Saved(loaded)));
        Assert.Equal(StateFormat(saved), StateFormat(StateModels.Saved(resaved)));
        Assert.Equal(StateModels.AllScores(oracle), StateModels.AllScores(resaved));
        oracle.Update(NewEvents(), StateModels.Users + 1, StateModels.Items + 1);
        loaded.Update(NewEvents(), StateModels.Users + 1, StateModels.Items + 1);
        Assert.Equal(StateModels.AllScores(oracle), StateModels.AllScores(loaded));
    }

    /// <summary>The model's own state-format number in a state's prologue.</summary>
    private static int StateFormat(byte[] state) => BitConverter.ToInt32(state, 12);

    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public void A_fit_and_update_scores_as_the_checked_in_state_of_the_earlier_code(string name)
    {
        ISavableRecommender fresh = Updated(name);
        if (Environment.GetEnvironmentVariable(RegenerateUpdatedVariable) == "1")
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

using System.Runtime.CompilerServices;
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
        oracle.Update(UpdatedFixtureTests.NewEvents(), StateModels.Users + 1, StateModels.Items + 1);
        loaded.Update(UpdatedFixtureTests.NewEvents(), StateModels.Users + 1, StateModels.Items + 1);
        Assert.Equal(StateModels.AllScores(oracle), StateModels.AllScores(loaded));
    }

    /// <summary>The model's own state-format number in a state's prologue.</summary>
    private static int StateFormat(byte[] state) => BitConverter.ToInt32(state, 12);

    private static string SourceFolder([CallerFilePath] string file = "") => Path.Combine(Path.GetDirectoryName(file)!, "Fixtures");
}

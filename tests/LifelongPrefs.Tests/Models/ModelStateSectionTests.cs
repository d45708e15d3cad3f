using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

/// <summary>The shared checkpoint sections for an optimizer's step count and a random generator's state.</summary>
public class ModelStateSectionTests
{
    private static Dictionary<string, Array> RoundTrip(List<(string Name, Array Values)> sections)
    {
        using var stream = new MemoryStream();
        ModelState.Write(stream, "Test", sections);
        stream.Position = 0;
        return ModelState.Read(stream, "Test");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4_294_967_295L)]        // all low bits set: the low half must be read as unsigned
    [InlineData(123_456_789_012_345L)]
    public void Step_counts_round_trip(long steps)
    {
        var sections = new List<(string Name, Array Values)>();
        ModelState.AddStepCount(sections, steps);
        Assert.Equal(steps, ModelState.ReadStepCount(RoundTrip(sections), "Test"));
    }

    [Fact]
    public void Random_states_round_trip_and_continue_the_sequence()
    {
        var random = new SeededRandom(17);
        random.Next();
        var sections = new List<(string Name, Array Values)>();
        ModelState.AddRandom(sections, "random", random);
        var restored = new SeededRandom(1);
        restored.SetState(ModelState.ReadRandom(RoundTrip(sections), "random", "Test"));
        Assert.Equal(random.Next(), restored.Next());
    }

    [Fact]
    public void Missing_negative_or_malformed_sections_are_rejected()
    {
        Dictionary<string, Array> empty = RoundTrip([]);
        Assert.Throws<ModelStateException>(() => ModelState.ReadStepCount(empty, "Test"));
        Assert.Throws<ModelStateException>(() => ModelState.ReadRandom(empty, "random", "Test"));

        Dictionary<string, Array> negative = RoundTrip([(ModelState.StepCountSection, new[] { 5, -1 })]);
        Assert.Throws<ModelStateException>(() => ModelState.ReadStepCount(negative, "Test"));
        Dictionary<string, Array> shortPair = RoundTrip([(ModelState.StepCountSection, new[] { 5 })]);
        Assert.Throws<ModelStateException>(() => ModelState.ReadStepCount(shortPair, "Test"));

        int[] state = new SeededRandom(3).GetState();
        state[^1] = (state[^2] + 3) % 56;   // positions not 21 apart
        Dictionary<string, Array> badRandom = RoundTrip([("rng.random", state)]);
        ModelStateException e = Assert.Throws<ModelStateException>(() => ModelState.ReadRandom(badRandom, "random", "Test"));
        Assert.IsType<ArgumentException>(e.InnerException);
        Dictionary<string, Array> truncated = RoundTrip([("rng.random", new int[10])]);
        Assert.Throws<ModelStateException>(() => ModelState.ReadRandom(truncated, "random", "Test"));
    }
}

using LifelongPrefs.Persistence;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

/// <summary>The shared state sections for an optimizer's step count and a random generator's state.</summary>
public class ModelStateSectionTests
{
    private static readonly ModelStateHeader Header = new(ModelTypeId.Popularity, 1, OptionsFingerprint.Canonical(new { Test = 1 }));

    private static ModelStateReader RoundTrip(Action<ModelStateWriter> add)
    {
        var writer = new ModelStateWriter(Header);
        add(writer);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return ModelStateReader.Read(stream, Header, "Test");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4_294_967_295L)]        // all low bits set: a split into two ints would have to read the low half unsigned
    [InlineData(123_456_789_012_345L)]
    public void Step_counts_round_trip(long steps)
    {
        var parameter = new LifelongPrefs.Nn.Parameter("w", new LifelongPrefs.Tensors.Tensor(2));
        var optimizer = new Adam([parameter]);
        optimizer.RestoreStepCount(steps);
        KeyValuePair<string, LifelongPrefs.Nn.Parameter>[] named = [new("w", parameter)];
        ModelStateReader reader = RoundTrip(w => w.AddOptimizer(optimizer, named));
        Assert.Equal(steps, reader.Optimizer(optimizer, named).Steps);
        reader.EnsureAllConsumed();
    }

    [Fact]
    public void Random_states_round_trip_and_continue_the_sequence()
    {
        var random = new SeededRandom(17);
        random.Next();
        var restored = new SeededRandom(1);
        restored.SetState(RoundTrip(w => w.AddRandom("random", random)).Random("random"));
        Assert.Equal(random.Next(), restored.Next());
    }

    [Fact]
    public void Missing_negative_or_malformed_sections_are_rejected()
    {
        var parameter = new LifelongPrefs.Nn.Parameter("w", new LifelongPrefs.Tensors.Tensor(2));
        var optimizer = new Adam([parameter]);
        KeyValuePair<string, LifelongPrefs.Nn.Parameter>[] named = [new("w", parameter)];
        ModelStateReader empty = RoundTrip(_ => { });
        Assert.Throws<ModelStateException>(() => empty.Optimizer(optimizer, named));
        Assert.Throws<ModelStateException>(() => empty.Random("random"));

        ModelStateReader negative = RoundTrip(w =>
        {
            w.AddFloats("adam.m.w", new float[2]);
            w.AddFloats("adam.v.w", new float[2]);
            w.AddLong("adam.steps", -1);
        });
        Assert.Throws<ModelStateException>(() => negative.Optimizer(optimizer, named));
        ModelStateReader wrongKind = RoundTrip(w => w.AddInts("adam.m.w", new int[2]));
        Assert.Throws<ModelStateException>(() => wrongKind.Optimizer(optimizer, named));

        int[] state = new SeededRandom(3).GetState();
        state[^1] = (state[^2] + 3) % 56;   // positions not 21 apart
        ModelStateException e = Assert.Throws<ModelStateException>(() => RoundTrip(w => w.AddInts("rng.random", state)).Random("random"));
        Assert.IsType<ArgumentException>(e.InnerException);
        Assert.Throws<ModelStateException>(() => RoundTrip(w => w.AddInts("rng.random", new int[10])).Random("random"));
    }

    [Fact]
    public void A_section_the_model_does_not_take_is_rejected()
    {
        ModelStateReader reader = RoundTrip(w => w.AddInt("extra", 5));
        ModelStateException e = Assert.Throws<ModelStateException>(reader.EnsureAllConsumed);
        Assert.Contains("extra", e.Message, StringComparison.Ordinal);
    }
}

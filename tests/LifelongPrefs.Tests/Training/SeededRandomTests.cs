using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// <see cref="SeededRandom"/> against the oracle it promises to equal (<c>new Random(seed)</c>, the runtime's own
/// seeded generator) and the checkpoint property it exists for: a restored state continues the same sequence.
/// </summary>
public class SeededRandomTests
{
    private static readonly int[] s_edgeSeeds = [0, 1, -1, 42, 2024, int.MaxValue, int.MinValue, int.MinValue + 1, 161_803_398, -161_803_398];

    /// <summary>One draw of every kind a model uses, mixed so that the streams must stay aligned call by call.</summary>
    private static double[] Draws(Random random, int count)
    {
        var values = new double[count * 8];
        byte[] bytes = new byte[3];
        int[] deck = [0, 1, 2, 3, 4, 5, 6];
        for (int i = 0; i < count; i++)
        {
            int o = i * 8;
            values[o] = random.Next();
            values[o + 1] = random.Next(i + 1);
            values[o + 2] = random.Next(-i, (3 * i) + 1);
            values[o + 3] = random.Next(int.MinValue, int.MaxValue);   // the wide-range path
            values[o + 4] = random.NextDouble();
            values[o + 5] = random.NextSingle();
            random.NextBytes(bytes);
            values[o + 6] = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
            random.Shuffle(deck);
            values[o + 7] = deck[0] + (10 * deck[3]) + (100 * deck[6]);
        }

        return values;
    }

    [Fact]
    public void Draws_equal_the_runtime_seeded_generator_on_edge_seeds()
    {
        foreach (int seed in s_edgeSeeds)
        {
            Assert.Equal(Draws(new Random(seed), 2_000), Draws(new SeededRandom(seed), 2_000));
        }
    }

    [Property(MaxTest = 100)]
    public Property Draws_equal_the_runtime_seeded_generator_on_any_seed() =>
        Prop.ForAll(Arb.From(Gen.Choose(int.MinValue, int.MaxValue)), seed =>
            Assert.Equal(Draws(new Random(seed), 300), Draws(new SeededRandom(seed), 300)));

    [Fact]
    public void A_restored_state_continues_exactly_where_it_was_saved()
    {
        var random = new SeededRandom(7);
        Draws(random, 123);
        int[] state = random.GetState();
        double[] expected = Draws(random, 500);
        long[] expected64 = [random.NextInt64(), random.NextInt64(1_000_000_000_000L), random.NextInt64(-5, 5)];

        var other = new SeededRandom(99);   // a different seed and position: the state replaces both
        other.SetState(state);
        Assert.Equal(expected, Draws(other, 500));
        long[] actual64 = [other.NextInt64(), other.NextInt64(1_000_000_000_000L), other.NextInt64(-5, 5)];
        Assert.Equal(expected64, actual64);
        Assert.Equal(99, other.Seed);

        // Restoring into the same instance rewinds it, so references held by layers and samplers follow along.
        random.SetState(state);
        Assert.Equal(expected, Draws(random, 500));
    }

    [Fact]
    public void The_initial_state_round_trips_before_any_draw()
    {
        var fresh = new SeededRandom(5);
        var other = new SeededRandom(6);
        other.SetState(fresh.GetState());
        Assert.Equal(Draws(new Random(5), 50), Draws(other, 50));
    }

    [Fact]
    public void Sixty_four_bit_draws_cover_their_ranges_without_bias()
    {
        var random = new SeededRandom(11);
        var counts = new int[6];
        for (int i = 0; i < 60_000; i++)
        {
            long value = random.NextInt64(-3, 3);
            Assert.InRange(value, -3, 2);
            counts[value + 3]++;
        }

        // Each of 6 values expects 10 000 draws; the standard deviation is about 91, so ±500 is > 5 sigma.
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Equal(0, random.NextInt64(0));
        Assert.Equal(8, random.NextInt64(8, 8));
        for (int i = 0; i < 1_000; i++)
        {
            Assert.InRange(random.NextInt64(), 0, long.MaxValue - 1);
            Assert.InRange(random.NextInt64(long.MinValue, long.MaxValue), long.MinValue, long.MaxValue - 1);
        }
    }

    [Fact]
    public void Bad_states_and_arguments_are_rejected_and_leave_the_generator_unchanged()
    {
        var random = new SeededRandom(3);
        random.Next();
        int[] good = random.GetState();

        Assert.Equal("state", Assert.Throws<ArgumentException>(() => random.SetState(good.AsSpan(1))).ParamName);
        int[] badPositions = (int[])good.Clone();
        badPositions[^1] = (badPositions[^2] + 5) % 56;
        ArgumentException e = Assert.Throws<ArgumentException>(() => random.SetState(badPositions));
        Assert.Contains("positions", e.Message, StringComparison.Ordinal);
        int[] outOfRange = (int[])good.Clone();
        outOfRange[^2] = 56;
        Assert.Throws<ArgumentException>(() => random.SetState(outOfRange));
        Assert.Equal(good, random.GetState());

        Assert.Throws<ArgumentOutOfRangeException>(() => random.Next(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.Next(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt64(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt64(5, 4));
        Assert.Throws<ArgumentNullException>(() => random.NextBytes(null!));
        Assert.Equal(good, random.GetState());
    }
}

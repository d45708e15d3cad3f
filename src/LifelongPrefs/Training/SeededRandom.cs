namespace LifelongPrefs.Training;

/// <summary>
/// A seeded <see cref="Random"/> whose state can be saved and restored, so that training resumed from a
/// checkpoint draws exactly the numbers an uninterrupted run would have drawn.
/// </summary>
/// <remarks>
/// <para>
/// The generator is Knuth's subtractive method (<i>The Art of Computer Programming</i>, vol. 2, §3.6, with
/// the 55-word lag table seeded as in Numerical Recipes' <c>ran3</c>), which is also what
/// <c>new Random(seed)</c> uses in .NET. The draws of <see cref="Next()"/>, <see cref="Next(int)"/>,
/// <see cref="Next(int, int)"/>, <see cref="NextDouble"/>, <see cref="NextSingle"/>,
/// <see cref="NextBytes(byte[])"/> and of <see cref="Random.Shuffle{T}(Span{T})"/> are therefore identical to
/// those of <c>new Random(seed)</c> (the tests compare them over many seeds), so a model that switches to this
/// type keeps its results. The 64-bit draws (<see cref="NextInt64()"/> and its overloads) are built from the same
/// stream in this type's own way.
/// </para>
/// <para>
/// <see cref="GetState"/> copies the 58 integers of state and <see cref="SetState"/> restores them in place, so
/// every layer or sampler holding a reference to this instance continues from the restored point. Not thread-safe,
/// like <see cref="Random"/>: give each thread its own instance.
/// </para>
/// </remarks>
public sealed class SeededRandom : Random
{
    /// <summary>The number of integers in the state returned by <see cref="GetState"/>.</summary>
    public const int StateLength = TableLength + 2;

    private const int TableLength = 56;
    private const int Modulus = int.MaxValue;
    private const int SeedOffset = 161_803_398;

    private readonly int[] _table = new int[TableLength];
    private int _next;
    private int _nextLagged;

    /// <summary>Creates a generator whose sequence is determined by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any value; the same seed always gives the same sequence.</param>
    public SeededRandom(int seed)
    {
        Seed = seed;
        int magnitude = seed == int.MinValue ? int.MaxValue : Math.Abs(seed);
        int previous = SeedOffset - magnitude;
        _table[TableLength - 1] = previous;
        int value = 1;
        int slot = 0;
        for (int i = 1; i < TableLength - 1; i++)
        {
            // Fill the table in the order 21, 42, 8, 29, ... (steps of 21 modulo 55).
            slot += 21;
            if (slot >= TableLength - 1)
            {
                slot -= TableLength - 1;
            }

            _table[slot] = value;
            value = previous - value;
            if (value < 0)
            {
                value += Modulus;
            }

            previous = _table[slot];
        }

        // Four warm-up rounds mix the table before the first draw.
        for (int round = 0; round < 4; round++)
        {
            for (int i = 1; i < TableLength; i++)
            {
                int lagged = i + 30;
                if (lagged >= TableLength - 1)
                {
                    lagged -= TableLength - 1;
                }

                _table[i] -= _table[1 + lagged];
                if (_table[i] < 0)
                {
                    _table[i] += Modulus;
                }
            }
        }

        _next = 0;
        _nextLagged = 21;
    }

    /// <summary>Gets the seed this generator was created with (restoring a state does not change it).</summary>
    public int Seed { get; }

    /// <summary>Copies the generator's current state (<see cref="StateLength"/> integers).</summary>
    /// <returns>A new array that <see cref="SetState"/> accepts.</returns>
    public int[] GetState()
    {
        var state = new int[StateLength];
        _table.CopyTo(state, 0);
        state[TableLength] = _next;
        state[TableLength + 1] = _nextLagged;
        return state;
    }

    /// <summary>
    /// Restores a state returned by <see cref="GetState"/>: the following draws repeat those that followed it.
    /// </summary>
    /// <param name="state">Exactly <see cref="StateLength"/> integers from <see cref="GetState"/>.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="state"/> has the wrong length, or its two positions are outside [0, 55] or not 21 apart; the
    /// generator is then unchanged.
    /// </exception>
    public void SetState(ReadOnlySpan<int> state)
    {
        ValidateState(state);
        state[..TableLength].CopyTo(_table);
        _next = state[TableLength];
        _nextLagged = state[TableLength + 1];
    }

    /// <summary>Throws the <see cref="ArgumentException"/> that <see cref="SetState"/> would throw for <paramref name="state"/>.</summary>
    /// <param name="state">A candidate state.</param>
    internal static void ValidateState(ReadOnlySpan<int> state)
    {
        if (state.Length != StateLength)
        {
            throw new ArgumentException($"A {nameof(SeededRandom)} state has {StateLength} integers, but {state.Length} were given.", nameof(state));
        }

        int next = state[TableLength], lagged = state[TableLength + 1];
        if ((uint)next >= TableLength || (uint)lagged >= TableLength || Distance(next, lagged) != 21)
        {
            throw new ArgumentException(
                $"The state's positions ({next}, {lagged}) are not a valid pair (both in [0, 55], the second 21 ahead of the first).", nameof(state));
        }
    }

    /// <summary>Returns a non-negative integer less than <see cref="int.MaxValue"/>.</summary>
    /// <returns>The next value of the sequence.</returns>
    public override int Next() => NextRaw();

    /// <summary>Returns an integer in [0, <paramref name="maxValue"/>).</summary>
    /// <param name="maxValue">The exclusive upper bound; non-negative (0 returns 0).</param>
    /// <returns>The next value, or 0 when <paramref name="maxValue"/> is 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxValue"/> is negative.</exception>
    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (int)(Sample() * maxValue);
    }

    /// <summary>Returns an integer in [<paramref name="minValue"/>, <paramref name="maxValue"/>).</summary>
    /// <param name="minValue">The inclusive lower bound.</param>
    /// <param name="maxValue">The exclusive upper bound; not less than <paramref name="minValue"/> (equal returns it).</param>
    /// <returns>The next value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minValue"/> is greater than <paramref name="maxValue"/>.</exception>
    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        long range = (long)maxValue - minValue;
        return range <= int.MaxValue
            ? (int)(Sample() * range) + minValue
            : (int)((long)(SampleWide() * range) + minValue);
    }

    /// <summary>Returns a double in [0, 1).</summary>
    /// <returns>The next value.</returns>
    public override double NextDouble() => Sample();

    /// <summary>Returns a float in [0, 1).</summary>
    /// <returns>The next value.</returns>
    public override float NextSingle()
    {
        while (true)
        {
            // A double just below 1 can round up to 1f; such a draw is discarded to keep the interval half-open.
            float value = (float)Sample();
            if (value < 1f)
            {
                return value;
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/> with random bytes.</summary>
    /// <param name="buffer">The bytes to fill.</param>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    public override void NextBytes(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        NextBytes(buffer.AsSpan());
    }

    /// <summary>Fills <paramref name="buffer"/> with random bytes.</summary>
    /// <param name="buffer">The bytes to fill.</param>
    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)NextRaw();
        }
    }

    /// <summary>Returns a non-negative 64-bit integer less than <see cref="long.MaxValue"/>.</summary>
    /// <returns>The next value.</returns>
    public override long NextInt64()
    {
        while (true)
        {
            long value = (long)(NextUInt64() >> 1);
            if (value != long.MaxValue)
            {
                return value;
            }
        }
    }

    /// <summary>Returns a 64-bit integer in [0, <paramref name="maxValue"/>).</summary>
    /// <param name="maxValue">The exclusive upper bound; non-negative (0 returns 0).</param>
    /// <returns>The next value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxValue"/> is negative.</exception>
    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return NextInt64(0, maxValue);
    }

    /// <summary>Returns a 64-bit integer in [<paramref name="minValue"/>, <paramref name="maxValue"/>).</summary>
    /// <param name="minValue">The inclusive lower bound.</param>
    /// <param name="maxValue">The exclusive upper bound; not less than <paramref name="minValue"/> (equal returns it).</param>
    /// <returns>The next value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minValue"/> is greater than <paramref name="maxValue"/>.</exception>
    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        ulong range = (ulong)(maxValue - minValue);
        if (range <= 1)
        {
            return minValue;
        }

        // Rejection sampling on the smallest power-of-two mask that covers the range: unbiased.
        ulong mask = ulong.MaxValue >> System.Numerics.BitOperations.LeadingZeroCount(range - 1);
        while (true)
        {
            ulong value = NextUInt64() & mask;
            if (value < range)
            {
                return (long)(value + (ulong)minValue);
            }
        }
    }

    /// <summary>Returns a double in [0, 1) with the generator's 31-bit resolution.</summary>
    /// <returns>The next value.</returns>
    protected override double Sample() => NextRaw() * (1.0 / Modulus);

    /// <summary>A value in [0, 1) with the finer resolution needed for ranges wider than <see cref="int.MaxValue"/>.</summary>
    private double SampleWide()
    {
        int value = NextRaw();
        if (NextRaw() % 2 == 0)
        {
            value = -value;
        }

        return (value + (double)(int.MaxValue - 1)) / ((2.0 * int.MaxValue) - 1);
    }

    /// <summary>64 bits from three draws (31 + 31 + 2 bits).</summary>
    private ulong NextUInt64() => ((ulong)(uint)NextRaw() << 33) ^ ((ulong)(uint)NextRaw() << 2) ^ (uint)(NextRaw() & 3);

    /// <summary>The core step: x[n] = x[n−55] − x[n−24] modulo 2³¹ − 1 over the lag table.</summary>
    private int NextRaw()
    {
        int next = _next + 1;
        if (next >= TableLength)
        {
            next = 1;
        }

        int lagged = _nextLagged + 1;
        if (lagged >= TableLength)
        {
            lagged = 1;
        }

        int value = _table[next] - _table[lagged];
        if (value == Modulus)
        {
            value--;
        }

        if (value < 0)
        {
            value += Modulus;
        }

        _table[next] = value;
        _next = next;
        _nextLagged = lagged;
        return value;
    }

    /// <summary>How far <paramref name="lagged"/> is ahead of <paramref name="next"/> on the cycle 1..55 (0 counts as 55's predecessor).</summary>
    private static int Distance(int next, int lagged)
    {
        // Positions advance through 1..55 (0 only before the first draw), so compare them on that cycle.
        int a = next == 0 ? 55 : next, b = lagged == 0 ? 55 : lagged;
        int d = b - a;
        return d < 0 ? d + 55 : d;
    }
}

using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// ADWIN, the adaptive sliding window of Bifet and Gavaldà ("Learning from Time-Changing Data with Adaptive
/// Windowing", SDM 2007), in its exponential-histogram form (ADWIN2): it keeps a window of the most recent values and
/// drops its oldest part whenever some split of the window into an older and a newer part shows means that differ by
/// more than chance allows. A drop is a detected change; the window then describes the stream since the change.
/// </summary>
/// <remarks>
/// <para>
/// <b>Test.</b> For a split into an older part of n₀ values and a newer part of n₁ (mean μ̂₀, μ̂₁), with
/// m = 1 / (1/n₀ + 1/n₁), n = n₀ + n₁, the window's variance σ̂² and δ' = δ / n, the parts differ when
/// <c>|μ̂₀ − μ̂₁| &gt; ε_cut = √((2/m)·σ̂²·ln(2/δ')) + (2/(3m))·ln(2/δ')</c> (the paper's variance-based bound, its
/// section 4). The paper's guarantees (Theorem 3.1, for the Hoeffding form of the bound): while the mean stays
/// constant, each step shrinks the window with probability at most δ; and if the means of two parts differ by more
/// than 2·ε_cut, the window shrinks with probability at least 1 − δ.
/// </para>
/// <para>
/// <b>Memory and time.</b> Values are summarised in buckets of 2^L values, at most <c>M</c> per level (sum and sum
/// of squared deviations), so memory is O(M·log n) and fixed at construction (no allocation per value). Splits are
/// tested only at bucket boundaries, every <c>checkInterval</c> values (as in the paper's implementation), at
/// O(M·log n) per test. A value's effect on the totals is exact; only where the window may be cut is approximate.
/// </para>
/// </remarks>
public sealed class Adwin : IDriftDetector, IPersistentDetector
{
    private const int MaxLevels = 62;
    private const int MinSide = 5;  // a part smaller than this is never tested: its mean is too noisy to mean anything
    private readonly double _delta;
    private readonly int _perLevel, _checkInterval;
    private readonly double[] _sums, _squares;   // [level * (M + 1) + position], position 0 the newest bucket of its level
    private readonly int[] _buckets = new int[MaxLevels];
    private int _levels, _sinceCheck;
    private long _width;
    private double _total, _deviation;           // the window's sum and sum of squared deviations from its mean

    /// <summary>Creates a detector.</summary>
    /// <param name="delta">The confidence δ: the bound on the probability of a false detection per step.</param>
    /// <param name="bucketsPerLevel">M, the buckets kept per size (more is a finer choice of cut points; at least 2).</param>
    /// <param name="checkInterval">Values between two tests of the splits (1 tests after every value).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not in (0, 1), <paramref name="bucketsPerLevel"/>
    /// is less than 2, or <paramref name="checkInterval"/> is less than 1.</exception>
    public Adwin(double delta = 0.002, int bucketsPerLevel = 5, int checkInterval = 32)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, $"'{nameof(delta)}' must lie in (0, 1); it is {delta}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(bucketsPerLevel, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(checkInterval, 1);
        (_delta, _perLevel, _checkInterval) = (delta, bucketsPerLevel, checkInterval);
        _sums = new double[MaxLevels * (bucketsPerLevel + 1)];
        _squares = new double[_sums.Length];
    }

    /// <summary>Gets the window's length.</summary>
    public long Count => _width;

    /// <summary>Gets the window's mean (0 when it is empty).</summary>
    public double Mean => _width == 0 ? 0 : _total / _width;

    /// <summary>Gets the window's variance (0 when it holds fewer than two values).</summary>
    public double Variance => _width < 2 ? 0 : Math.Max(0, _deviation / _width);

    /// <inheritdoc/>
    public int Detections { get; private set; }

    /// <summary>Takes the next value; returns whether the window was cut (a change was detected) after it.</summary>
    /// <param name="value">The value; finite.</param>
    /// <returns>Whether a change was detected.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite (nothing is recorded).</exception>
    public bool Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"'{nameof(value)}' must be finite; it is {value}.");
        }

        // The totals: the new value joins a window of n values with mean μ, so the squared deviations grow by n/(n+1)·(x − μ)².
        if (_width > 0)
        {
            double gap = value - (_total / _width);
            _deviation += _width * gap * gap / (_width + 1);
        }

        _width++;
        _total += value;
        Push(0, value, 0);
        Compress();
        if (++_sinceCheck < _checkInterval)
        {
            return false;
        }

        _sinceCheck = 0;
        bool cut = false;
        while (_width >= 2 * MinSide && TryCut())
        {
            cut = true;
        }

        if (cut)
        {
            Detections++;
        }

        return cut;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        Array.Clear(_buckets);
        (_levels, _sinceCheck, _width, _total, _deviation, Detections) = (0, 0, 0, 0, 0, 0);
    }

    /// <summary>The cut threshold ε_cut for parts of <paramref name="older"/> and <paramref name="newer"/> values of a window with variance <paramref name="variance"/>.</summary>
    /// <param name="older">n₀.</param>
    /// <param name="newer">n₁.</param>
    /// <param name="variance">σ̂² of the whole window.</param>
    /// <param name="delta">δ.</param>
    /// <returns>ε_cut.</returns>
    internal static double Threshold(long older, long newer, double variance, double delta)
    {
        double m = 1.0 / ((1.0 / older) + (1.0 / newer));
        double log = Math.Log(2.0 * (older + newer) / delta);
        return Math.Sqrt(2.0 / m * variance * log) + (2.0 / (3.0 * m) * log);
    }

    /// <summary>Tests the splits from the oldest bucket on; drops the oldest bucket and returns true at the first that differs.</summary>
    private bool TryCut()
    {
        long older = 0;
        double olderSum = 0, variance = Variance;
        for (int level = _levels - 1; level >= 0; level--)
        {
            long size = 1L << level;
            for (int position = _buckets[level] - 1; position >= 0; position--)
            {
                older += size;
                olderSum += _sums[Slot(level, position)];
                long newer = _width - older;
                if (newer < MinSide)
                {
                    return false;
                }

                if (older >= MinSide
                    && Math.Abs((olderSum / older) - ((_total - olderSum) / newer)) > Threshold(older, newer, variance, _delta))
                {
                    DropOldest();
                    return true;
                }
            }
        }

        return false;
    }

    private void DropOldest()
    {
        int level = _levels - 1, slot = Slot(level, _buckets[level] - 1);
        long size = 1L << level, rest = _width - size;
        double sum = _sums[slot];
        if (rest == 0)
        {
            (_total, _deviation) = (0, 0);
        }
        else
        {
            // Removing a part (size s, mean μ_b, deviations v_b) from the window leaves deviations V − v_b − s·r/n·(μ_b − μ_r)².
            double gap = (sum / size) - ((_total - sum) / rest);
            _deviation = Math.Max(0, _deviation - _squares[slot] - (size * (double)rest / _width * gap * gap));
            _total -= sum;
        }

        _width = rest;
        if (--_buckets[level] == 0)
        {
            _levels--;
        }
    }

    /// <summary>Merges the two oldest buckets of every level that holds M + 1 into one bucket of the next level.</summary>
    private void Compress()
    {
        for (int level = 0; level < _levels && _buckets[level] > _perLevel; level++)
        {
            if (level + 1 == MaxLevels)
            {
                return;   // 2^62 values: unreachable in practice; the top level then simply holds one more bucket
            }

            int a = Slot(level, _buckets[level] - 1), b = Slot(level, _buckets[level] - 2);
            double size = 1L << level, gap = (_sums[a] - _sums[b]) / size;

            // Two parts of s values each: deviations v_a + v_b + (s·s/2s)·(μ_a − μ_b)².
            double sum = _sums[a] + _sums[b], squares = _squares[a] + _squares[b] + (size / 2 * gap * gap);
            _buckets[level] -= 2;
            Push(level + 1, sum, squares);
        }
    }

    /// <summary>Puts a bucket in front (newest) of <paramref name="level"/>.</summary>
    private void Push(int level, double sum, double squares)
    {
        int start = Slot(level, 0), count = _buckets[level];
        Array.Copy(_sums, start, _sums, start + 1, count);
        Array.Copy(_squares, start, _squares, start + 1, count);
        (_sums[start], _squares[start]) = (sum, squares);
        _buckets[level] = count + 1;
        _levels = Math.Max(_levels, level + 1);
    }

    private int Slot(int level, int position) => (level * (_perLevel + 1)) + position;

    /// <inheritdoc/>
    void IPersistentDetector.WriteState(ModelStateWriter writer, string prefix)
    {
        writer.AddInts(prefix + ".buckets", _buckets);
        writer.AddLongs(prefix + ".counters", [_levels, _sinceCheck, _width, Detections]);
        writer.AddDoubles(prefix + ".totals", [_total, _deviation]);
        writer.AddDoubles(prefix + ".sums", _sums);
        writer.AddDoubles(prefix + ".squares", _squares);
    }

    /// <inheritdoc/>
    Action IPersistentDetector.ReadState(ModelStateReader reader, string prefix)
    {
        int[] buckets = reader.Ints(prefix + ".buckets", MaxLevels);
        long[] c = reader.Longs(prefix + ".counters", 4);
        double[] totals = reader.Doubles(prefix + ".totals", 2);
        double[] sums = reader.Doubles(prefix + ".sums", _sums.Length), squares = reader.Doubles(prefix + ".squares", _squares.Length);
        reader.Require(c[0] >= 0 && c[0] <= MaxLevels && c[1] >= 0 && c[1] < _checkInterval && c[2] >= 0 && c[3] >= 0 && c[3] <= int.MaxValue,
            $"{prefix}'s counters are out of range");
        long width = 0;
        for (int level = 0; level < MaxLevels; level++)
        {
            bool used = level < c[0];
            reader.Require(buckets[level] >= (used && level == c[0] - 1 ? 1 : 0) && buckets[level] <= (used ? _perLevel + 1 : 0),
                $"{prefix} level {level} holds {buckets[level]} buckets");
            width += buckets[level] * (1L << Math.Min(level, 40));   // 2^40 values per bucket are out of reach of any stream
        }

        reader.Require(width == c[2] && totals[1] >= 0 && Array.TrueForAll(squares, v => v >= 0), $"{prefix}'s buckets do not add up to its window of {c[2]}");
        return () =>
        {
            buckets.CopyTo(_buckets, 0);
            sums.CopyTo(_sums, 0);
            squares.CopyTo(_squares, 0);
            (_levels, _sinceCheck, _width, Detections, _total, _deviation) = ((int)c[0], (int)c[1], c[2], (int)c[3], totals[0], totals[1]);
        };
    }
}

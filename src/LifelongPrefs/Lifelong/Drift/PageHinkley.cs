using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The Page-Hinkley test (Page, "Continuous Inspection Schemes", Biometrika 1954; in the form used for concept
/// drift by Gama et al., "A Survey on Concept Drift Adaptation", 2014): a cumulative sum that detects an
/// <b>increase</b> of the stream's mean, such as a rising miss rate of a recommender. Feed losses, not gains.
/// </summary>
/// <remarks>
/// With x̄_t the running mean of the values since the last detection, it accumulates
/// <c>m_t = α·m_{t−1} + (x_t − x̄_t − δ)</c> and its running minimum <c>M_t</c>, and reports a change when
/// <c>m_t − M_t &gt; λ</c> after at least <c>minValues</c> values; then it starts over. δ is the size of increase
/// that is tolerated (it makes the sum drift down while nothing changes), λ trades detection delay against false
/// alarms, α ≤ 1 forgets old deviations (1 is the classic test). O(1) state, no allocation.
/// </remarks>
public sealed class PageHinkley : IDriftDetector, IPersistentDetector
{
    private readonly double _delta, _lambda, _alpha;
    private readonly int _minValues;
    private double _mean, _sum, _minimum;

    /// <summary>Creates a detector.</summary>
    /// <param name="delta">δ, the tolerated increase of the mean (at least 0).</param>
    /// <param name="lambda">λ, the alarm threshold on the cumulative sum (positive).</param>
    /// <param name="minValues">Values after a start or detection before an alarm may be raised (at least 1).</param>
    /// <param name="alpha">α in (0, 1], the forgetting factor of the cumulative sum.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range; the message names it.</exception>
    public PageHinkley(double delta = 0.005, double lambda = 50, int minValues = 30, double alpha = 1)
    {
        if (!(delta >= 0 && double.IsFinite(delta)))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, $"'{nameof(delta)}' must be finite and at least 0; it is {delta}.");
        }

        if (!(lambda > 0 && double.IsFinite(lambda)))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"'{nameof(lambda)}' must be finite and positive; it is {lambda}.");
        }

        if (!(alpha > 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"'{nameof(alpha)}' must lie in (0, 1]; it is {alpha}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(minValues, 1);
        (_delta, _lambda, _alpha, _minValues) = (delta, lambda, alpha, minValues);
    }

    /// <summary>Gets the number of values since the start or the last detection.</summary>
    public long Count { get; private set; }

    /// <summary>Gets their mean (0 when there are none).</summary>
    public double Mean => _mean;

    /// <summary>Gets the test statistic m_t − M_t (an alarm is raised when it exceeds λ).</summary>
    public double Statistic => _sum - _minimum;

    /// <inheritdoc/>
    public int Detections { get; private set; }

    /// <summary>Takes the next value; returns whether an increase of the mean was detected at it (the test then restarts).</summary>
    /// <param name="value">The value; finite.</param>
    /// <returns>Whether a change was detected.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite (nothing is recorded).</exception>
    public bool Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"'{nameof(value)}' must be finite; it is {value}.");
        }

        Count++;
        _mean += (value - _mean) / Count;
        _sum = (_alpha * _sum) + (value - _mean - _delta);
        _minimum = Math.Min(_minimum, _sum);
        if (Count < _minValues || _sum - _minimum <= _lambda)
        {
            return false;
        }

        Detections++;
        Restart();
        return true;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        Restart();
        Detections = 0;
    }

    private void Restart() => (Count, _mean, _sum, _minimum) = (0, 0, 0, 0);

    /// <inheritdoc/>
    void IPersistentDetector.WriteState(ModelStateWriter writer, string prefix)
    {
        writer.AddLongs(prefix + ".counters", [Count, Detections]);
        writer.AddDoubles(prefix + ".sums", [_mean, _sum, _minimum]);
    }

    /// <inheritdoc/>
    Action IPersistentDetector.ReadState(ModelStateReader reader, string prefix)
    {
        long[] c = reader.Longs(prefix + ".counters", 2);
        double[] sums = reader.Doubles(prefix + ".sums", 3);
        reader.Require(c[0] >= 0 && c[1] >= 0 && c[1] <= int.MaxValue, $"{prefix}'s counters are out of range");
        reader.Require(sums[2] <= 0 && sums[2] <= sums[1] && (c[0] > 0 || (sums[0] == 0 && sums[1] == 0 && sums[2] == 0)), $"{prefix}'s cumulative sum is inconsistent");
        return () => (Count, Detections, _mean, _sum, _minimum) = (c[0], (int)c[1], sums[0], sums[1], sums[2]);
    }
}

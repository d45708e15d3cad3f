namespace LifelongPrefs.Lifelong;

/// <summary>
/// A change detector over a stream of numbers (for example per-event prequential losses: 1 for a miss, 0 for a hit):
/// it is told each value in order and says when the stream's mean has changed.
/// </summary>
/// <remarks>
/// Implementations keep O(log n) or O(1) state, allocate nothing per value and are not thread-safe: one stream, one
/// caller at a time.
/// </remarks>
public interface IDriftDetector
{
    /// <summary>Gets how many values the detector's current estimate rests on (its window, or the values since the last detection).</summary>
    long Count { get; }

    /// <summary>Gets the mean of those values (0 when there are none).</summary>
    double Mean { get; }

    /// <summary>Gets how many changes the detector has reported since it was created or reset.</summary>
    int Detections { get; }

    /// <summary>Takes the next value of the stream.</summary>
    /// <param name="value">The value; finite.</param>
    /// <returns>Whether a change was detected at this value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite (nothing is recorded).</exception>
    bool Add(double value);

    /// <summary>Forgets every value and the detection count.</summary>
    void Reset();
}

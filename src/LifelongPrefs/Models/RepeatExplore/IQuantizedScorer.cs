namespace LifelongPrefs.Models;

/// <summary>
/// A scorer that can also rank the catalog from a reduced-precision copy of its item table and re-score the best
/// candidates exactly: cheaper to stream, with the top of the ranking kept (see the implementation for its terms).
/// </summary>
internal interface IQuantizedScorer
{
    /// <summary>
    /// Writes every item's score as <see cref="IScorer.Score"/> does, except that only the
    /// <paramref name="candidates"/> best items by the approximate score (and items the user bought before) are
    /// guaranteed their exact score; the others hold the approximation.
    /// </summary>
    /// <param name="user">The user, or a user the model does not know.</param>
    /// <param name="history">The user's history.</param>
    /// <param name="scores">Receives one score per item (<see cref="IScorer.ItemCount"/>).</param>
    /// <param name="candidates">How many items to re-score exactly (at least 1).</param>
    void ScoreQuantized(int user, ReadOnlySpan<Interaction> history, Span<float> scores, int candidates);
}

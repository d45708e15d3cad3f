namespace LifelongPrefs.Models;

/// <summary>
/// Scores and ranks a catalog of items for a user given the user's visible history: the read side of a recommender.
/// </summary>
/// <remarks>
/// <para>
/// Every member is a read: any number of threads may call <see cref="Score"/> and <see cref="Recommend"/> at once,
/// and each call uses its own scratch (from a pool), so concurrent calls never see each other's work and get exactly
/// the answers they would get alone.
/// </para>
/// <para>
/// A scorer made by <see cref="IRecommender.CreateScorer"/> is immutable: it holds its own copy of everything it
/// reads, so its answers do not change when the model is later updated, refitted or loaded. A model itself is also
/// an <see cref="IScorer"/> over its live state; its reads are thread-safe with each other but not with its writes
/// (see <see cref="IRecommender"/>).
/// </para>
/// </remarks>
public interface IScorer
{
    /// <summary>Gets the number of items scored (for a model, it grows with <see cref="IRecommender.Update"/>).</summary>
    int ItemCount { get; }

    /// <summary>Scores every item for <paramref name="user"/> given the user's visible history.</summary>
    /// <param name="user">The user index (may be a user the model never trained on).</param>
    /// <param name="history">The user's events the model may use, oldest first.</param>
    /// <param name="scores">Receives one score per item; exactly <see cref="ItemCount"/> long. Higher is better.</param>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has the wrong length.</exception>
    void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores);

    /// <summary>
    /// Writes the user's top <c>items.Length</c> items, best first: the highest scores, ties broken by the lower item
    /// index (the evaluation protocols' rule), never an item listed in <paramref name="excludedSorted"/>. Allocates
    /// nothing once the pools are warm.
    /// </summary>
    /// <param name="user">The user index.</param>
    /// <param name="history">The user's events the model may use, oldest first.</param>
    /// <param name="items">Receives the recommended item indices; its length is K.</param>
    /// <param name="excludedSorted">Items never to recommend (e.g. already owned), strictly ascending; may be empty.</param>
    /// <returns>How many items were written: K, or fewer when the catalog minus exclusions is smaller.</returns>
    /// <exception cref="ArgumentException"><paramref name="excludedSorted"/> is not strictly ascending.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An excluded item is outside the catalog.</exception>
    int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted);
}

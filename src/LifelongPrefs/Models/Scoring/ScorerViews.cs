namespace LifelongPrefs.Models;

/// <summary>
/// A scorer whose scores come from user and item vectors: the view the tracker reads for interest profiles, item
/// clusters and audiences. Every member is a read and is as thread-safe as the scorer itself.
/// </summary>
internal interface IEmbeddingScorer : IScorer
{
    /// <summary>Gets the length of every user and item vector.</summary>
    int Dimensions { get; }

    /// <summary>Writes the vector the scorer uses for <paramref name="user"/> with this history.</summary>
    /// <param name="user">The user index (may be one the model never trained on).</param>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="destination">Receives <see cref="Dimensions"/> floats.</param>
    void UserVector(int user, ReadOnlySpan<Interaction> history, Span<float> destination);

    /// <summary>Writes item <paramref name="item"/>'s vector (the one a user vector is dotted with).</summary>
    /// <param name="item">The item index, below <see cref="IScorer.ItemCount"/>.</param>
    /// <param name="destination">Receives <see cref="Dimensions"/> floats.</param>
    void ItemVector(int item, Span<float> destination);
}

/// <summary>
/// A scorer that can split one item's score over the user's history: the evidence behind an explanation.
/// </summary>
internal interface IExplainingScorer : IScorer
{
    /// <summary>
    /// Writes how much each history event contributed to <paramref name="item"/>'s score and returns the part no
    /// event explains (biases, the user's own vector, the gate's constant).
    /// </summary>
    /// <param name="user">The user index.</param>
    /// <param name="history">The user's events, oldest first.</param>
    /// <param name="item">The item explained.</param>
    /// <param name="contributions">Receives one value per history event (same length as <paramref name="history"/>).</param>
    /// <returns>The unattributed remainder, so that the remainder plus the contributions is the item's score
    /// (exactly, or as closely as the score's nonlinearity allows; the implementation documents which).</returns>
    float Explain(int user, ReadOnlySpan<Interaction> history, int item, Span<float> contributions);
}

/// <summary>A learner that takes explicit negatives (a shopper dismissed a recommendation) into its next update.</summary>
internal interface INegativeFeedbackLearner
{
    /// <summary>Queues (user, item) pairs as negative examples for the next <see cref="IRecommender.Update"/>.</summary>
    /// <param name="user">The user index.</param>
    /// <param name="item">The dismissed item index.</param>
    void AddNegative(int user, int item);
}

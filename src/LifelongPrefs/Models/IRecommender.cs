using System.Buffers;
using LifelongPrefs.Data;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;

namespace LifelongPrefs.Models;

/// <summary>
/// A recommender over dense user and item indices (those of an <see cref="InteractionLog"/>'s id maps).
/// </summary>
/// <remarks>
/// <para>
/// Every model can keep learning after <see cref="Fit"/>: <see cref="Update"/> continues from new events and
/// grows for users and items it has not seen, so nothing assumes a frozen catalog. Scoring takes the user's
/// history explicitly (the events the model may use, oldest first), which is what lets an evaluation protocol
/// hide the future and lets sequence models condition on the latest behaviour.
/// </para>
/// <para>
/// Implementations are not thread-safe for concurrent <see cref="Fit"/>/<see cref="Update"/> and
/// <see cref="Score"/>; the lifelong tracker publishes immutable model versions for concurrent readers.
/// </para>
/// </remarks>
public interface IRecommender
{
    /// <summary>Gets the model's display name (e.g. <c>PersonalPopularity</c>).</summary>
    string Name { get; }

    /// <summary>Gets the number of items the model scores (grows with <see cref="Update"/>).</summary>
    int ItemCount { get; }

    /// <summary>Trains from scratch on <paramref name="events"/> (oldest first).</summary>
    /// <param name="events">Training events.</param>
    /// <param name="userCount">Number of users in the id map (indices in events are below it).</param>
    /// <param name="itemCount">Number of items in the id map (indices in events are below it).</param>
    /// <param name="progress">Optional progress reports (epoch, loss, validation metric, ETA).</param>
    /// <param name="cancellationToken">Stops training between steps.</param>
    /// <exception cref="ArgumentException">An event's user or item index is outside the given counts.</exception>
    void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Continues learning from <paramref name="newEvents"/> without retraining from scratch, growing for new
    /// users and items (the counts may be larger than at the last call).
    /// </summary>
    /// <param name="newEvents">Events that arrived since the last fit or update (oldest first).</param>
    /// <param name="userCount">The current number of users (not less than before).</param>
    /// <param name="itemCount">The current number of items (not less than before).</param>
    /// <exception cref="ArgumentException">The counts shrank, or an event's index is outside them.</exception>
    void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount);

    /// <summary>Scores every item for <paramref name="user"/> given the user's visible history.</summary>
    /// <param name="user">The user index (may be a user the model never trained on).</param>
    /// <param name="history">The user's events the model may use, oldest first.</param>
    /// <param name="scores">Receives one score per item; exactly <see cref="ItemCount"/> long. Higher is better.</param>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has the wrong length.</exception>
    void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores);

    /// <summary>
    /// Writes the user's top <c>items.Length</c> items, best first: the highest scores, ties broken by the lower item
    /// index (the evaluation protocols' rule), never an item listed in <paramref name="excludedSorted"/>.
    /// </summary>
    /// <param name="user">The user index.</param>
    /// <param name="history">The user's events the model may use, oldest first.</param>
    /// <param name="items">Receives the recommended item indices; its length is K.</param>
    /// <param name="excludedSorted">Items never to recommend (e.g. already owned), strictly ascending; may be empty.</param>
    /// <returns>How many items were written: K, or fewer when the catalog minus exclusions is smaller.</returns>
    /// <exception cref="ArgumentException"><paramref name="excludedSorted"/> is not strictly ascending.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An excluded item is outside the catalog.</exception>
    int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted)
    {
        int count = ItemCount;
        // Pooled scratch: recommending is a request-path call, so it should not allocate per call.
        float[] scores = ArrayPool<float>.Shared.Rent(count);
        float[] values = ArrayPool<float>.Shared.Rent(items.Length);
        try
        {
            Span<float> all = scores.AsSpan(0, count);
            Score(user, history, all);
            return Kernels.TopK(all, excludedSorted, items, values.AsSpan(0, items.Length));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}

/// <summary>A recommender whose learned state can be saved and restored.</summary>
public interface ISavableRecommender : IRecommender
{
    /// <summary>Writes the model's learned state to <paramref name="stream"/> (a versioned, checksummed binary format).</summary>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    void Save(Stream stream);

    /// <summary>
    /// Replaces the model's state with one written by <see cref="Save"/> on a model of the same type and options. The
    /// whole input is validated first, so on failure the model is unchanged.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the saved state.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ModelStateException">The data is not such a state, is corrupted or truncated, or came from other options.</exception>
    void Load(Stream stream);
}


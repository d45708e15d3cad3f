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
/// <b>Threads.</b> The reads — <see cref="Name"/>, <see cref="IScorer.ItemCount"/>, <see cref="IScorer.Score"/>,
/// <see cref="IScorer.Recommend"/> and <see cref="CreateScorer"/> — may run on any number of threads at once: each
/// call takes its own scratch from a pool, writes nothing shared and flips no training flag. The writes —
/// <see cref="Fit"/>, <see cref="Update"/> and <see cref="ISavableRecommender.Load"/> — are exclusive: run them one at
/// a time, and never while any read runs on the same model. To keep reading while a model learns, take a
/// <see cref="CreateScorer"/> snapshot before the write: the snapshot is immutable and keeps answering from the
/// version it copied (this is how the lifelong tracker publishes versions to its readers).
/// </para>
/// </remarks>
public interface IRecommender : IScorer
{
    /// <summary>Gets the model's display name (e.g. <c>PersonalPopularity</c>).</summary>
    string Name { get; }

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

    /// <summary>
    /// Returns an immutable, thread-safe scorer over the model as it is now: it copies the parameters and statistics it
    /// reads and has its own scratch pool, so its answers equal the model's at this moment and do not change when the
    /// model is later updated, refitted or loaded. A read: it may run alongside other reads, not alongside a write.
    /// </summary>
    /// <returns>The snapshot scorer (its <see cref="IScorer.ItemCount"/> is the model's current one).</returns>
    IScorer CreateScorer();
}

/// <summary>A recommender whose learned state can be saved and restored.</summary>
/// <remarks>
/// The state is one container of the library's state format (see <c>Persistence/README.md</c>): a checksummed
/// header with the model's fixed type id, its state-format number, a fingerprint of its options and a table of named
/// sections (parameters and optimizer moments keyed by their dotted paths). A load reads exactly the bytes its save
/// wrote, so several states can follow each other in one stream. Save and load, like <c>Fit</c> and
/// <c>Update</c>, must not run concurrently with any other call on the same model.
/// </remarks>
public interface ISavableRecommender : IRecommender
{
    /// <summary>Writes the model's learned state to <paramref name="stream"/>, section by section, without buffering it.</summary>
    /// <param name="stream">A writable stream; it is left open and positioned after the state.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    void Save(Stream stream);

    /// <summary>
    /// Replaces the model's state with one written by <see cref="Save"/> on a model of the same type and options. The
    /// whole state is read and validated first, so on failure the model is unchanged.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the saved state; it is left positioned just after it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="LifelongPrefs.Persistence.ModelStateException">
    /// The data is not such a state, has another container version, model type or state format, is corrupted,
    /// truncated or inconsistent, holds NaN or infinite values, or came from other options (the message names them).
    /// </exception>
    void Load(Stream stream);

    /// <summary>
    /// Writes the same bytes as <see cref="Save"/> with asynchronous writes to <paramref name="stream"/> (through one
    /// pooled 1 MiB chunk); laying out the header and checksums runs synchronously first.
    /// </summary>
    /// <param name="stream">A writable stream; it is left open and positioned after the state.</param>
    /// <param name="cancellationToken">Stops between chunks; the stream then holds a partial state.</param>
    /// <returns>A task that completes when the state is written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    Task SaveAsync(Stream stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="Load"/>, with asynchronous reads from <paramref name="stream"/>; validating and applying the state
    /// run synchronously after the last byte has arrived. On failure or cancellation the model is unchanged.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the saved state; it is left positioned just after it.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>A task that completes when the state is loaded.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="LifelongPrefs.Persistence.ModelStateException">As for <see cref="Load"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task LoadAsync(Stream stream, CancellationToken cancellationToken = default);
}

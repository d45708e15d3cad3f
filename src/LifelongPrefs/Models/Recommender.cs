namespace LifelongPrefs.Models;

/// <summary>
/// Base of the library's eight models: the members every model shares — <see cref="Recommend"/> (the top-K over
/// <see cref="Score"/>) and <see cref="Save"/>, <see cref="SaveAsync"/>, <see cref="Load"/> and <see cref="LoadAsync"/>
/// (one path through the state format) — are written here once; a model supplies its scoring, its training and the
/// model-specific part of its state (header, sections, validation).
/// </summary>
/// <remarks>
/// <para>
/// Only this library derives from it. To plug in a model of your own, implement <see cref="IRecommender"/> or
/// <see cref="ISavableRecommender"/> directly; everything that takes a model (the protocols, the sample) takes those
/// interfaces.
/// </para>
/// <para>
/// <b>Threads.</b> The reads — <see cref="Name"/>, <see cref="ItemCount"/>, <see cref="Score"/>, <see cref="Recommend"/>
/// and <see cref="CreateScorer"/> — may run on any number of threads at once: each call takes its own scratch from a
/// pool, writes nothing shared and flips no training flag. <see cref="Save"/> and <see cref="SaveAsync"/> only read
/// the model but must not run alongside a write. The writes — <see cref="Fit"/>, <see cref="Update"/>,
/// <see cref="Load"/> and <see cref="LoadAsync"/> — are exclusive: run them one at a time, and never while any other
/// call runs on the same model. To keep reading while a model learns, take a <see cref="CreateScorer"/> snapshot
/// before the write: it is immutable and keeps answering from the version it copied.
/// </para>
/// </remarks>
public abstract class Recommender : ISavableRecommender
{
    /// <summary>Creates the shared part of a model (only models of this library derive from this class).</summary>
    private protected Recommender()
    {
    }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract int ItemCount { get; }

    /// <summary>Gets the model's state header: its fixed type id, its state-format number and its options fingerprint.</summary>
    private protected abstract ModelStateHeader StateHeader { get; }

    /// <inheritdoc/>
    public abstract void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount);

    /// <inheritdoc/>
    public abstract void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores);

    /// <inheritdoc/>
    /// <remarks>
    /// A read: scores every item into pooled scratch with <see cref="Score"/>, then takes a bounded top-K, so it is
    /// thread-safe with the other reads and allocates nothing once the pool is warm.
    /// </remarks>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    public abstract IScorer CreateScorer();

    /// <inheritdoc/>
    public void Save(Stream stream) => ModelStateIo.Save(stream, StateHeader, WriteState);

    /// <inheritdoc/>
    public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.SaveAsync(stream, StateHeader, WriteState, cancellationToken);

    /// <inheritdoc/>
    public void Load(Stream stream) => ModelStateIo.Load(stream, StateHeader, Name, ReadState);

    /// <inheritdoc/>
    public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.LoadAsync(stream, StateHeader, Name, ReadState, cancellationToken);

    /// <summary>Adds the model's sections to <paramref name="writer"/>; changes nothing in the model.</summary>
    /// <param name="writer">The state being written (its header is <see cref="StateHeader"/>).</param>
    private protected abstract void WriteState(ModelStateWriter writer);

    /// <summary>
    /// Validates every section the model needs from <paramref name="reader"/> and returns the action that swaps them
    /// in; must not change the model (the action runs only after the reader confirmed no section was left unused).
    /// </summary>
    /// <param name="reader">The state being read (already checked against <see cref="StateHeader"/>).</param>
    /// <returns>The action that applies the validated state.</returns>
    /// <exception cref="ModelStateException">A section is missing, malformed or inconsistent.</exception>
    private protected abstract Action ReadState(ModelStateReader reader);
}

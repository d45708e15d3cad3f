using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// A learned model that keeps learning from new events without forgetting: it wraps a library model and applies the
/// strategies of <see cref="ContinualOptions"/> (replay, online EWC, distillation, recency weighting) to every
/// <see cref="Update"/>.
/// </summary>
/// <remarks>SKELETON: the strategies are not implemented yet; <see cref="Update"/> fine-tunes the wrapped model.</remarks>
public sealed class ContinualLearner : IRecommender
{
    private readonly IRecommender _model;
    private readonly ContinualOptions _options;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">A fresh library model with a training-step seam (today <see cref="BprMf"/>).</param>
    /// <param name="options">The strategies; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="model"/> does not support continual strategies.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public ContinualLearner(IRecommender model, ContinualOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is not BprMf)
        {
            throw new ArgumentException($"The model '{model.Name}' does not support continual strategies; use a BprMf.", nameof(model));
        }

        _options = options ?? new ContinualOptions();
        _options.Validate();
        _model = model;
    }

    /// <summary>Gets the strategies in use.</summary>
    public ContinualOptions Options => _options;

    /// <inheritdoc/>
    public string Name => _model.Name;

    /// <inheritdoc/>
    public int ItemCount => _model.ItemCount;

    /// <inheritdoc/>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) => _model.Fit(events, userCount, itemCount, progress, cancellationToken);

    /// <inheritdoc/>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) => _model.Update(newEvents, userCount, itemCount);

    /// <inheritdoc/>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _model.Score(user, history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        _model.Recommend(user, history, items, excludedSorted);

    /// <inheritdoc/>
    public IScorer CreateScorer() => _model.CreateScorer();
}

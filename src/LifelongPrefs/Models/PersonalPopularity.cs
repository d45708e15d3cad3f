using LifelongPrefs.Data;
using LifelongPrefs.Persistence;
using LifelongPrefs.Training;

namespace LifelongPrefs.Models;

/// <summary>
/// Recommends what this shopper buys most often, falling back to what everyone buys: the score is the number of
/// the user's own positive events for the item, plus global popularity scaled below 1 to order everything else.
/// </summary>
/// <remarks>
/// In retail, where people re-buy, this is the baseline to beat: "A Next Basket Recommendation Reality Check"
/// (Li et al., TOIS 2023) shows most neural next-basket models lose to it. Each history event counts once, so an
/// item on two lines of one invoice counts twice.
/// </remarks>
public sealed class PersonalPopularity : ISavableRecommender
{
    private readonly Popularity _global = new();

    /// <inheritdoc/>
    public string Name => "PersonalPopularity";

    /// <inheritdoc/>
    public int ItemCount => _global.ItemCount;

    /// <inheritdoc/>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _global.Fit(events, userCount, itemCount, null, cancellationToken);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
    }

    /// <inheritdoc/>
    public void Save(Stream stream) => ModelStateIo.Save(stream, StateHeader, w => _global.WriteState(w, "popularity."));

    /// <inheritdoc/>
    public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.SaveAsync(stream, StateHeader, w => _global.WriteState(w, "popularity."), cancellationToken);

    /// <inheritdoc/>
    public void Load(Stream stream) => ModelStateIo.Load(stream, StateHeader, Name, r => _global.ReadState(r, "popularity."));

    /// <inheritdoc/>
    public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.LoadAsync(stream, StateHeader, Name, r => _global.ReadState(r, "popularity."), cancellationToken);

    private static ModelStateHeader StateHeader => new(ModelTypeId.PersonalPopularity, 1, OptionsFingerprint.Canonical(new { }));

    /// <inheritdoc/>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) =>
        _global.Update(newEvents, userCount, itemCount);

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        PersonalPopularityScorer.Score(_global, user, history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    public IScorer CreateScorer() => new PersonalPopularityScorer(_global.CreateScorer());
}

using LifelongPrefs.Data;
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
    public void Save(Stream stream) => ModelState.Write(stream, Name, _global.StateSections());

    /// <inheritdoc/>
    public void Load(Stream stream) => _global.Restore(ModelState.Read(stream, Name), Name);

    /// <inheritdoc/>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount) =>
        _global.Update(newEvents, userCount, itemCount);

    /// <inheritdoc/>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        // Global popularity in [0, 1) (scaled just below 1) orders items the user never bought; every own event
        // adds 1, so any personal count outranks any popularity.
        _global.Score(user, history, scores);
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] *= 0.999f;
        }

        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item < (uint)scores.Length && RecommenderGuard.IsPositive(e))
            {
                scores[e.Item] += 1f;
            }
        }
    }
}

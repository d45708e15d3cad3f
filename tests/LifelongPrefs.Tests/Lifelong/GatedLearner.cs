using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// A learner that holds every update until a gate opens (so a test can fill the tracker's queue behind it), counting
/// updates and keeping every snapshot scorer it handed out; everything else is the wrapped model's.
/// </summary>
internal sealed class GatedLearner(IRecommender inner, ManualResetEventSlim gate) : IRecommender
{
    public int Updates { get; private set; }

    /// <summary>Gets or sets the update (1, 2, …) that throws instead of learning; 0 for none.</summary>
    public int ThrowOnUpdate { get; init; }

    public List<IScorer> Scorers { get; } = [];

    public int Snapshots => Scorers.Count;

    public string Name => "gated " + inner.Name;

    public int ItemCount => inner.ItemCount;

    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<LifelongPrefs.Training.TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) => inner.Fit(events, userCount, itemCount, progress, cancellationToken);

    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        gate.Wait();
        if (++Updates == ThrowOnUpdate)
        {
            throw new InvalidOperationException($"update {Updates} fails, as the test asked");
        }

        inner.Update(newEvents, userCount, itemCount);
    }

    public IScorer CreateScorer()
    {
        IScorer scorer = inner.CreateScorer();
        Scorers.Add(scorer);
        return scorer;
    }

    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => inner.Score(user, history, scores);

    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        inner.Recommend(user, history, items, excludedSorted);
}

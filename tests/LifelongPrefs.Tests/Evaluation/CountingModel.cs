using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Evaluation;

/// <summary>Scores items by how often they were bought in what it learned; with <see cref="Cheat"/>, also by the user's learned future.</summary>
internal sealed class CountingModel : IRecommender
{
    private readonly List<float> _counts = [];
    private readonly List<Interaction> _learned = [];

    public List<(Interaction[] Events, int Users, int Items)> Batches { get; } = [];

    public bool Cheat { get; init; }

    public int Leaks { get; private set; }

    public string Name => "counting";

    public int ItemCount => _counts.Count;

    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<LifelongPrefs.Training.TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        _counts.Clear();
        _learned.Clear();
        Batches.Clear();
        Update(events, userCount, itemCount);
    }

    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        Batches.Add(([.. newEvents], userCount, itemCount));
        while (_counts.Count < itemCount)
        {
            _counts.Add(0);
        }

        foreach (Interaction e in newEvents)
        {
            _learned.Add(e);
            _counts[e.Item] += e.Kind == EventKind.Purchase ? 1 : 0;
        }
    }

    public IScorer CreateScorer() => this;

    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = _counts[i];
        }

        if (!Cheat)
        {
            return;
        }

        var seen = new HashSet<(long, int)>();
        foreach (Interaction e in history)
        {
            seen.Add((e.Ticks, e.Item));
        }

        foreach (Interaction e in _learned)
        {
            if (e.User == user && e.Kind == EventKind.Purchase && !seen.Contains((e.Ticks, e.Item)))
            {
                scores[e.Item] += 1_000;
                Leaks++;
            }
        }
    }

    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        throw new NotSupportedException();
}

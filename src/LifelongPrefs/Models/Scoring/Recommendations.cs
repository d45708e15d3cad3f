using System.Buffers;

namespace LifelongPrefs.Models;

/// <summary>The one implementation of <see cref="IScorer.Recommend"/>: score everything, then a bounded top-K.</summary>
internal static class Recommendations
{
    /// <summary>Scores with <paramref name="scorer"/> into pooled scratch and writes the top <c>items.Length</c> items.</summary>
    internal static int Recommend(IScorer scorer, int user, ReadOnlySpan<Interaction> history, Span<int> items,
        ReadOnlySpan<int> excludedSorted)
    {
        int count = scorer.ItemCount;
        // Pooled scratch: recommending is a request-path call, so it should not allocate per call, and the shared
        // pool is thread-safe, so concurrent calls each get their own arrays.
        float[] scores = ArrayPool<float>.Shared.Rent(count);
        float[] values = ArrayPool<float>.Shared.Rent(items.Length);
        try
        {
            Span<float> all = scores.AsSpan(0, count);
            scorer.Score(user, history, all);
            return Kernels.TopK(all, excludedSorted, items, values.AsSpan(0, items.Length));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}

/// <summary>
/// Base of the immutable scorers that <see cref="IRecommender.CreateScorer"/> returns: a frozen copy of one model
/// version; <see cref="Recommend"/> is the shared top-K over <see cref="Score"/>.
/// </summary>
internal abstract class FrozenScorer : IScorer
{
    /// <inheritdoc/>
    public abstract int ItemCount { get; }

    /// <inheritdoc/>
    public abstract void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);
}

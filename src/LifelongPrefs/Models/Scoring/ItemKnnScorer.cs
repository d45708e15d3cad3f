namespace LifelongPrefs.Models;

/// <summary>The scoring of <see cref="ItemKnn"/>, and its immutable snapshot (copies of the counts it reads).</summary>
internal sealed class ItemKnnScorer(ItemCooccurrence cooccurrence, float[] inverseSqrtCount) : FrozenScorer
{
    /// <inheritdoc/>
    public override int ItemCount => inverseSqrtCount.Length;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        Score(cooccurrence, inverseSqrtCount, history, scores);

    /// <summary>
    /// <c>score = invSqrt ⊙ Σ_j invSqrt[j]·C[j,:]</c> over the history's positive items: one sparse row scan per event,
    /// written only into <paramref name="scores"/>.
    /// </summary>
    internal static void Score(ItemCooccurrence cooccurrence, ReadOnlySpan<float> inverseSqrtCount,
        ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int items = inverseSqrtCount.Length;
        RecommenderGuard.Scoring(history, scores, items);
        scores.Clear();
        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item < (uint)items && RecommenderGuard.IsPositive(e) && inverseSqrtCount[e.Item] > 0f)
            {
                cooccurrence.AddRowTo(e.Item, inverseSqrtCount[e.Item], scores);
            }
        }

        Kernels.Multiply(scores, inverseSqrtCount, scores);
    }
}

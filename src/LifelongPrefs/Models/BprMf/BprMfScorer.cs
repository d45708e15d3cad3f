using System.Buffers;

namespace LifelongPrefs.Models;

/// <summary>
/// The scoring of <see cref="BprMf"/>, and its immutable snapshot: copies of the user and item tables, the item bias
/// and which users were trained.
/// </summary>
internal sealed class BprMfScorer : FrozenScorer
{
    private readonly float[] _users, _items, _itemBias;
    private readonly bool[] _trained;
    private readonly int _dimensions;

    /// <summary>Copies the tables (row-major, <paramref name="dimensions"/> wide) and the trained-user flags.</summary>
    internal BprMfScorer(ReadOnlySpan<float> users, ReadOnlySpan<float> items, ReadOnlySpan<float> itemBias, bool[] trained, int dimensions)
    {
        (_users, _items, _itemBias, _trained, _dimensions) = (users.ToArray(), items.ToArray(), itemBias.ToArray(), trained, dimensions);
    }

    /// <inheritdoc/>
    public override int ItemCount => _itemBias.Length;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        Score(_users, _items, _itemBias, _dimensions, (uint)user < (uint)_trained.Length && _trained[user], user, history, scores);

    /// <summary>
    /// <c>scores = Q·p + b</c>, with p the user's row when <paramref name="trained"/>, else the mean of the history's
    /// item vectors (fold-in, built in pooled scratch so concurrent calls never share it).
    /// </summary>
    internal static void Score(ReadOnlySpan<float> users, ReadOnlySpan<float> items, ReadOnlySpan<float> itemBias, int dimensions,
        bool trained, int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int d = dimensions, itemRows = itemBias.Length;
        RecommenderGuard.Scoring(history, scores, itemRows);
        if (trained)
        {
            Kernels.ScoreAll(items, users.Slice(user * d, d), scores);
            Kernels.Add(scores, itemBias, scores);
            return;
        }

        // A user the model never trained on: fold in as the mean of their history's item vectors.
        float[] rented = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> mean = rented.AsSpan(0, d);
            mean.Clear();
            int count = 0;
            foreach (ref readonly Interaction e in history)
            {
                if ((uint)e.Item < (uint)itemRows && RecommenderGuard.IsPositive(e))
                {
                    Kernels.Add(mean, items.Slice(e.Item * d, d), mean);
                    count++;
                }
            }

            if (count > 0)
            {
                Kernels.Scale(mean, 1f / count, mean);
            }

            Kernels.ScoreAll(items, mean, scores);
            Kernels.Add(scores, itemBias, scores);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}

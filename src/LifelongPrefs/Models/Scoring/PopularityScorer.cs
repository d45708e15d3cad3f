namespace LifelongPrefs.Models;

/// <summary>The scoring of <see cref="Popularity"/>, and its immutable snapshot (a copy of the item weights).</summary>
internal sealed class PopularityScorer(double[] weights) : FrozenScorer
{
    /// <inheritdoc/>
    public override int ItemCount => weights.Length;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.Scoring(history, scores, weights.Length);
        Score(weights, scores);
    }

    /// <summary>Writes every item's weight normalised by the largest one (reads nothing else, writes only <paramref name="scores"/>).</summary>
    internal static void Score(ReadOnlySpan<double> weights, Span<float> scores)
    {
        double max = 0;
        foreach (double w in weights)
        {
            max = Math.Max(max, w);
        }

        // Normalised to [0, 1] so that float keeps the ordering even after decay weights grew large.
        double scale = max > 0 ? 1 / max : 0;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = (float)(weights[i] * scale);
        }
    }
}

/// <summary>The scoring of <see cref="PersonalPopularity"/>: global popularity below 1 plus the user's own counts.</summary>
internal sealed class PersonalPopularityScorer(IScorer global) : FrozenScorer
{
    /// <inheritdoc/>
    public override int ItemCount => global.ItemCount;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => Score(global, user, history, scores);

    /// <summary>Scores with <paramref name="popularity"/>, then lifts every item of the user's positive history.</summary>
    internal static void Score(IScorer popularity, int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        // Global popularity in [0, 1) (scaled just below 1) orders items the user never bought; every own event
        // adds 1, so any personal count outranks any popularity.
        popularity.Score(user, history, scores);
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

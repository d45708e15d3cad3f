using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>
/// A seeded synthetic purchase stream with a planted preference shift: items fall into categories; each user buys from
/// an old category until the shift, then only from a new one. Some old-category items of every user are held out of
/// the stream, as targets that probe what the model still knows about the old interest.
/// </summary>
internal sealed class ShiftStream
{
    internal const int Categories = 8;
    internal const int ItemsPerCategory = 25;
    internal const int Items = Categories * ItemsPerCategory;
    private static readonly DateTime Start = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    internal ShiftStream(int users, int before, int after, int heldOut, int seed)
    {
        var random = new Random(seed);
        Users = users;
        OldCategory = new int[users];
        NewCategory = new int[users];
        HeldOut = new int[users][];
        var pre = new List<Interaction>();
        var post = new List<Interaction>();
        for (int u = 0; u < users; u++)
        {
            OldCategory[u] = random.Next(Categories);
            NewCategory[u] = (OldCategory[u] + 1 + random.Next(Categories - 1)) % Categories;
            int[] old = [.. Enumerable.Range(0, ItemsPerCategory).OrderBy(_ => random.Next()).Select(i => (OldCategory[u] * ItemsPerCategory) + i)];
            HeldOut[u] = old[..heldOut];
            for (int k = 0; k < before; k++)
            {
                pre.Add(Event(u, old[heldOut + random.Next(old.Length - heldOut)], random.Next(30 * 24 * 60)));
            }

            for (int k = 0; k < after; k++)
            {
                post.Add(Event(u, (NewCategory[u] * ItemsPerCategory) + random.Next(ItemsPerCategory), (30 * 24 * 60) + random.Next(30 * 24 * 60)));
            }
        }

        Before = [.. pre.OrderBy(e => e.Ticks)];
        After = [.. post.OrderBy(e => e.Ticks)];
    }

    internal int Users { get; }

    internal int[] OldCategory { get; }

    internal int[] NewCategory { get; }

    /// <summary>Each user's old-category items never in the stream.</summary>
    internal int[][] HeldOut { get; }

    /// <summary>The events before the shift, in time order.</summary>
    internal Interaction[] Before { get; }

    /// <summary>The events after the shift, in time order.</summary>
    internal Interaction[] After { get; }

    internal static int CategoryOf(int item) => item / ItemsPerCategory;

    private static Interaction Event(int user, int item, int minute) =>
        new(user, item, Start.AddMinutes(minute).Ticks, EventKind.Purchase, 1f, 0f, minute);

    /// <summary>The post-shift events in <paramref name="chunks"/> consecutive updates.</summary>
    internal IEnumerable<Interaction[]> AfterIn(int chunks)
    {
        int size = (After.Length + chunks - 1) / chunks;
        return After.Chunk(size);
    }

    /// <summary>A user's scores with the items they bought (before or after the shift) at −∞.</summary>
    private float[] UnseenScores(LifelongPrefs.Models.IRecommender model, int user)
    {
        var scores = new float[Items];
        model.Score(user, [], scores);
        foreach (Interaction e in Before.Concat(After))
        {
            if (e.User == user)
            {
                scores[e.Item] = float.NegativeInfinity;
            }
        }

        return scores;
    }

    /// <summary>Mean over users of the fraction of their top-<paramref name="k"/> unseen items that lie in their new category.</summary>
    internal double NewCategoryHits(LifelongPrefs.Models.IRecommender model, int k = 10)
    {
        double sum = 0;
        for (int u = 0; u < Users; u++)
        {
            float[] scores = UnseenScores(model, u);
            int[] top = [.. Enumerable.Range(0, Items).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k)];
            sum += top.Count(i => CategoryOf(i) == NewCategory[u]) / (double)k;
        }

        return sum / Users;
    }

    /// <summary>
    /// Mean over users of the held-out old-category targets' percentile rank among the user's unseen items (1 = ranked
    /// first, 0.5 = chance): how much of the old interest the model kept.
    /// </summary>
    internal double OldRetention(LifelongPrefs.Models.IRecommender model)
    {
        double sum = 0;
        int count = 0;
        for (int u = 0; u < Users; u++)
        {
            float[] scores = UnseenScores(model, u);
            int unseen = scores.Count(float.IsFinite);
            foreach (int target in HeldOut[u])
            {
                int beaten = scores.Count(v => float.IsFinite(v) && v < scores[target]);
                sum += beaten / (double)(unseen - 1);
                count++;
            }
        }

        return sum / count;
    }
}

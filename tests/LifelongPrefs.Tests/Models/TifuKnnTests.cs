using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// TIFU-KNN against independent oracles: a hand-computed example, a dense brute-force re-implementation (every user's
/// vector as a dense array, the distance to every other user, a full sort), the grid search against fixed-setting fits
/// scored on the same validation basket, and an update against a fit on all events.
/// </summary>
public class TifuKnnTests
{
    private static TifuKnnOptions Fixed(int k, int m, float rb, float rg, float alpha) => new()
    {
        Neighbors = [k], GroupCounts = [m], WithinGroupDecays = [rb], GroupDecays = [rg], Alphas = [alpha], ValidationUsers = 0,
    };

    private static Interaction Buy(int user, int item, int basket) =>
        new(user, item, (basket + 1) * TimeSpan.TicksPerDay, EventKind.Purchase, 1f, 1f, basket);

    [Fact]
    public void A_hand_computed_example()
    {
        // A: {0, 1} then {1}; B: {2}; C: {1, 2}. With m = 2, r_b = r_g = 0.5 A's older basket weighs 0.5·0.5/2 and
        // the newer 1/2, so u_A = (0.125, 0.625, 0); u_B = (0, 0, 1); u_C = (0, 1, 1). ‖u_A − u_B‖² = 1.40625 and
        // ‖u_A − u_C‖² = 1.15625, so with k = 1 C is A's neighbour: 0.5·u_A + 0.5·u_C = (0.0625, 0.8125, 0.5).
        List<Interaction> events = [Buy(0, 0, 0), Buy(0, 1, 0), Buy(0, 1, 0), Buy(0, 1, 1), Buy(1, 2, 2), Buy(2, 1, 3), Buy(2, 2, 3)];
        var model = new TifuKnn(Fixed(1, 2, 0.5f, 0.5f, 0.5f));
        model.Fit(events, 3, 3);
        var scores = new float[3];
        model.Score(0, events.Where(e => e.User == 0).ToArray(), scores);
        Assert.Equal([0.0625f, 0.8125f, 0.5f], scores);
    }

    [Theory]
    [InlineData(3, 3, 0.8f, 0.7f, 0.3f)]
    [InlineData(2, 12, 0.9f, 1f, 0.2f)]
    [InlineData(40, 1, 1f, 1f, 0f)]
    public void Scores_equal_a_dense_brute_force_oracle(int k, int m, float rb, float rg, float alpha)
    {
        const int users = 12, items = 9;
        List<Interaction> events = RandomLog(users, items, seed: 4);
        var model = new TifuKnn(Fixed(k, m, rb, rg, alpha));
        model.Fit(events, users, items);
        var stored = new double[users][];
        for (int u = 0; u < users; u++)
        {
            stored[u] = DenseVector(events.Where(e => e.User == u).ToList(), items, m, rb, rg);
        }

        var scores = new float[items];
        for (int u = 0; u <= users; u++)
        {
            // The last query is an unknown user with a short history of user 0's events.
            List<Interaction> history = u < users ? [.. events.Where(e => e.User == u)] : [.. events.Where(e => e.User == 0).Take(3)];
            model.Score(u, history.ToArray(), scores);
            double[] q = DenseVector(history, items, m, rb, rg);
            int[] neighbours = [.. Enumerable.Range(0, users).Where(v => v != u && stored[v].Any(x => x != 0))
                .OrderBy(v => stored[v].Zip(q, (a, b) => (a - b) * (a - b)).Sum()).ThenBy(v => v).Take(k)];
            for (int i = 0; i < items; i++)
            {
                double expected = alpha * q[i] + (neighbours.Length == 0 ? 0 : (1 - alpha) * neighbours.Average(v => stored[v][i]));
                Assert.Equal(expected, scores[i], tolerance: 1e-5 * Math.Max(1, Math.Abs(expected)));
            }
        }
    }

    [Theory]
    [InlineData(ValidationObjective.AllItems)]
    [InlineData(ValidationObjective.Explore)]
    public void The_grid_search_picks_the_best_fixed_setting_on_the_validation_basket(ValidationObjective objective)
    {
        const int users = 30, items = 12;
        List<Interaction> events = RandomLog(users, items, seed: 8);
        var options = new TifuKnnOptions { Neighbors = [2, 6], GroupCounts = [1, 4], WithinGroupDecays = [0.6f, 1f], GroupDecays = [0.5f],
            Alphas = [0f, 0.5f, 1f], ValidationUsers = 10, Seed = 2, Objective = objective };
        var model = new TifuKnn(options);
        model.Fit(events, users, items);

        // The oracle: every setting fitted alone on the training part, scored on the same held-out baskets.
        var validation = HoldoutValidation.Create(events, users, options.ValidationUsers, options.Seed);
        double best = double.NegativeInfinity;
        (int, int, float, float, float) argmax = default;
        foreach (int m in options.GroupCounts)
        {
            foreach (float rb in options.WithinGroupDecays)
            {
                foreach (int k in options.Neighbors)
                {
                    foreach (float alpha in options.Alphas)
                    {
                        var single = new TifuKnn(Fixed(k, m, rb, 0.5f, alpha));
                        single.Fit(validation.FitEvents, users, items);
                        double ndcg = objective == ValidationObjective.Explore ? ExploreNdcgOracle(single, events, validation.FitEvents, items) : validation.Ndcg(single);
                        if (ndcg > best)
                        {
                            (best, argmax) = (ndcg, (k, m, rb, 0.5f, alpha));
                        }
                    }
                }
            }
        }

        Assert.Equal(best, model.ValidationNdcg, 12);
        Assert.Equal(argmax, (model.Neighbors, model.GroupCount, model.WithinGroupDecay, model.GroupDecay, model.Alpha));
        Assert.Equal("Objective", Assert.Throws<ArgumentOutOfRangeException>(() => new TifuKnn(new TifuKnnOptions { Objective = (ValidationObjective)7 })).ParamName);
    }

    /// <summary>
    /// The explore validation metric recomputed from scratch: a held-out basket is a user's events missing from
    /// <paramref name="fitEvents"/> (returns are held out but are no target); the history is the rest; items in the history are removed from the ranking (score
    /// order, ties by lower index) and from the basket; users without a new item are skipped; binary NDCG@20.
    /// </summary>
    internal static double ExploreNdcgOracle(IRecommender model, List<Interaction> events, IReadOnlyList<Interaction> fitEvents, int items)
    {
        var kept = new HashSet<Interaction>(fitEvents);
        double sum = 0;
        int counted = 0;
        var scores = new float[items];
        foreach (int user in events.Where(e => !kept.Contains(e)).Select(e => e.User).Distinct().Order())
        {
            Interaction[] history = [.. fitEvents.Where(e => e.User == user)];
            var seen = history.Select(e => e.Item).ToHashSet();
            var fresh = events.Where(e => e.User == user && !kept.Contains(e) && e.Kind != EventKind.Return && !seen.Contains(e.Item)).Select(e => e.Item).ToHashSet();
            if (fresh.Count == 0)
            {
                continue;
            }

            model.Score(user, history, scores);
            int[] ranked = [.. Enumerable.Range(0, items).Where(i => !seen.Contains(i)).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(20)];
            double dcg = ranked.Select((item, rank) => fresh.Contains(item) ? 1 / Math.Log2(rank + 2) : 0).Sum();
            double ideal = Enumerable.Range(0, Math.Min(20, fresh.Count)).Sum(rank => 1 / Math.Log2(rank + 2));
            sum += dcg / ideal;
            counted++;
        }

        return sum / counted;
    }

    [Fact]
    public void An_update_equals_a_fit_on_all_events() => AssertUpdateEqualsFit(() => new TifuKnn(Fixed(3, 4, 0.8f, 0.9f, 0.3f)), seed: 6);

    /// <summary>
    /// The oracle of an update is a fit on everything: a model fitted on part of the log (fewer users and items) and
    /// updated with the rest scores every user exactly as a model fitted on the whole log.
    /// </summary>
    internal static void AssertUpdateEqualsFit(Func<IRecommender> create, int seed)
    {
        const int users = 14, items = 10;
        List<Interaction> events = RandomLog(users, items, seed);
        int half = events.Count / 2;
        IRecommender updated = create();
        updated.Fit(events.Take(half).Where(e => e.User < users - 2 && e.Item < items - 1).ToList(), users - 2, items - 1);
        updated.Update([.. events.Take(half).Where(e => e.User >= users - 2 || e.Item >= items - 1), .. events.Skip(half)], users, items);
        IRecommender fitted = create();
        fitted.Fit(events, users, items);
        float[] a = new float[items], b = new float[items];
        for (int u = 0; u < users; u++)
        {
            Interaction[] history = [.. events.Where(e => e.User == u)];
            updated.Score(u, history, a);
            fitted.Score(u, history, b);
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void Changing_an_options_list_after_construction_changes_nothing()
    {
        List<int> neighbours = [1];
        var model = new TifuKnn(new TifuKnnOptions { Neighbors = neighbours, GroupCounts = [2], WithinGroupDecays = [1f], GroupDecays = [1f], Alphas = [0.5f] });
        neighbours[0] = 0;
        model.Fit(RandomLog(5, 4, seed: 1), 5, 4);
        Assert.Equal(1, model.Neighbors);
    }

    [Fact]
    public void Bad_options_are_rejected_by_name()
    {
        Assert.Contains("Neighbors", Assert.ThrowsAny<ArgumentException>(() => new TifuKnn(new TifuKnnOptions { Neighbors = [] })).Message, StringComparison.Ordinal);
        Assert.Contains("Alphas", Assert.ThrowsAny<ArgumentException>(() => new TifuKnn(new TifuKnnOptions { Alphas = [float.NaN] })).Message, StringComparison.Ordinal);
        Assert.Contains("WithinGroupDecays", Assert.ThrowsAny<ArgumentException>(() => new TifuKnn(new TifuKnnOptions { WithinGroupDecays = [0f] })).Message, StringComparison.Ordinal);
        Assert.Contains("GroupCounts", Assert.ThrowsAny<ArgumentException>(() => new TifuKnn(new TifuKnnOptions { GroupCounts = [0] })).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The dense oracle of a user vector: baskets by key in order of first appearance (the test logs are time-ordered),
    /// split into min(n, m) groups, the later ones one basket longer; weight r_b^(n−1−j)·r_g^(G−1−g) / (|g|·G).
    /// </summary>
    internal static double[] DenseVector(List<Interaction> history, int items, int m, float rb, float rg)
    {
        List<HashSet<int>> baskets = Baskets(history);

        int n = baskets.Count, groups = Math.Min(n, m);
        var vector = new double[items];
        if (n == 0)
        {
            return vector;
        }

        // Group sizes: the first groups get ⌊n/G⌋, the last n mod G one more.
        var sizes = Enumerable.Range(0, groups).Select(g => (n / groups) + (g >= groups - (n % groups) ? 1 : 0)).ToArray();
        int j = 0;
        for (int g = 0; g < groups; g++)
        {
            for (int b = 0; b < sizes[g]; b++, j++)
            {
                foreach (int item in baskets[j])
                {
                    vector[item] += Math.Pow(rb, n - 1 - j) * Math.Pow(rg, groups - 1 - g) / (sizes[g] * groups);
                }
            }
        }

        return vector;
    }

    /// <summary>The oracle's baskets: consecutive positive events with one basket key, as item sets.</summary>
    internal static List<HashSet<int>> Baskets(List<Interaction> history)
    {
        List<HashSet<int>> baskets = [];
        long last = long.MinValue;
        foreach (Interaction e in history.Where(e => e.Kind != EventKind.Return && e.Quantity > 0))
        {
            if (baskets.Count == 0 || e.BasketKey != last)
            {
                baskets.Add([]);
                last = e.BasketKey;
            }

            baskets[^1].Add(e.Item);
        }

        return baskets;
    }

    /// <summary>Users with 1 to 15 baskets of 1 to 3 lines each (a repeated line and a return now and then), in time order.</summary>
    internal static List<Interaction> RandomLog(int users, int items, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        int basket = 0;
        var counts = Enumerable.Range(0, users).Select(_ => 1 + random.Next(15)).ToArray();
        for (int day = 0; day < 15; day++)
        {
            for (int u = 0; u < users; u++)
            {
                if (day >= counts[u])
                {
                    continue;
                }

                long ticks = (day * TimeSpan.TicksPerDay) + (u * TimeSpan.TicksPerMinute);
                int lines = 1 + random.Next(3);
                for (int line = 0; line < lines; line++)
                {
                    int item = random.Next(2) == 0 ? (u + day) % items : random.Next(items);
                    events.Add(new Interaction(u, item, ticks + line, EventKind.Purchase, 1f, 1f, basket));
                    if (random.Next(6) == 0)
                    {
                        events.Add(new Interaction(u, item, ticks + line, EventKind.Purchase, 2f, 1f, basket));
                    }
                }

                if (random.Next(5) == 0)
                {
                    events.Add(new Interaction(u, random.Next(items), ticks + 5, EventKind.Return, 1f, 1f, basket));
                }

                basket++;
            }
        }

        return events;
    }
}

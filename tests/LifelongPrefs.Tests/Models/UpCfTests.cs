using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// UP-CF@r against independent oracles: a hand-computed example, a dense brute-force re-implementation (item sets,
/// recency popularity and the similarity of every pair of users), the grid search against fixed-setting fits scored on
/// the same validation basket, and an update against a fit on all events.
/// </summary>
public class UpCfTests
{
    private static UpCfOptions Fixed(int r, float alpha, int q) => new() { Recencies = [r], Asymmetries = [alpha], Localities = [q], ValidationUsers = 0 };

    private static Interaction Buy(int user, int item, int basket) =>
        new(user, item, (basket + 1) * TimeSpan.TicksPerDay, EventKind.Purchase, 1f, 1f, basket);

    [Fact]
    public void A_hand_computed_example()
    {
        // A: {0, 1} then {1}; B: {1} then {2}; C: {3}. With r = 1, π_A = (0, 1, 0, 0) and π_B = (0, 0, 1, 0);
        // w_AB = |{1}| / (2^0.5·2^0.5) = 0.5, so with q = 2 A's scores are π_A + 0.25·π_B; C shares nothing.
        List<Interaction> events = [Buy(0, 0, 0), Buy(0, 1, 0), Buy(0, 1, 1), Buy(1, 1, 2), Buy(1, 2, 3), Buy(2, 3, 4)];
        var model = new UpCf(Fixed(1, 0.5f, 2));
        model.Fit(events, 3, 4);
        var scores = new float[4];
        model.Score(0, events.Where(e => e.User == 0).ToArray(), scores);
        Assert.Equal([0f, 1f, 0.25f, 0f], scores);
    }

    [Theory]
    [InlineData(1, 0.5f, 5)]
    [InlineData(5, 0.75f, 1)]
    [InlineData(3, 0f, 2)]
    [InlineData(20, 1f, 3)]
    public void Scores_equal_a_dense_brute_force_oracle(int r, float alpha, int q)
    {
        const int users = 12, items = 9;
        List<Interaction> events = TifuKnnTests.RandomLog(users, items, seed: 5);
        var model = new UpCf(Fixed(r, alpha, q));
        model.Fit(events, users, items);
        var stored = Enumerable.Range(0, users).Select(u => Dense(events.Where(e => e.User == u).ToList(), items, r)).ToArray();
        var scores = new float[items];
        for (int u = 0; u <= users; u++)
        {
            List<Interaction> history = u < users ? [.. events.Where(e => e.User == u)] : [.. events.Where(e => e.User == 3).Take(4)];
            model.Score(u, history.ToArray(), scores);
            var (bought, popularity) = Dense(history, items, r);
            var expected = new double[items];
            for (int v = 0; v < users; v++)
            {
                // The user's own stored row is replaced by the history (w_uu = 1) below.
                int overlap = v == u ? 0 : bought.Intersect(stored[v].Bought).Count();
                if (overlap == 0)
                {
                    continue;
                }

                double w = overlap / (Math.Pow(bought.Count, alpha) * Math.Pow(stored[v].Bought.Count, 1 - alpha));
                for (int i = 0; i < items; i++)
                {
                    expected[i] += Math.Pow(w, q) * stored[v].Popularity[i];
                }
            }

            for (int i = 0; i < items; i++)
            {
                Assert.Equal(expected[i] + popularity[i], scores[i], tolerance: 1e-5 * Math.Max(1, expected[i] + popularity[i]));
            }
        }
    }

    [Theory]
    [InlineData(ValidationObjective.AllItems)]
    [InlineData(ValidationObjective.Explore)]
    public void The_grid_search_picks_the_best_fixed_setting_on_the_validation_basket(ValidationObjective objective)
    {
        const int users = 30, items = 12;
        List<Interaction> events = TifuKnnTests.RandomLog(users, items, seed: 9);
        var options = new UpCfOptions { Recencies = [1, 4], Asymmetries = [0.25f, 0.75f], Localities = [1, 6], ValidationUsers = 10, Seed = 4, Objective = objective };
        var model = new UpCf(options);
        model.Fit(events, users, items);

        var validation = HoldoutValidation.Create(events, users, options.ValidationUsers, options.Seed);
        double best = double.NegativeInfinity;
        (int, float, int) argmax = default;
        foreach (int r in options.Recencies)
        {
            foreach (float alpha in options.Asymmetries)
            {
                foreach (int q in options.Localities)
                {
                    var single = new UpCf(Fixed(r, alpha, q));
                    single.Fit(validation.FitEvents, users, items);
                    double ndcg = objective == ValidationObjective.Explore ? TifuKnnTests.ExploreNdcgOracle(single, events, validation.FitEvents, items) : validation.Ndcg(single);
                    if (ndcg > best)
                    {
                        (best, argmax) = (ndcg, (r, alpha, q));
                    }
                }
            }
        }

        Assert.Equal(best, model.ValidationNdcg, 12);
        Assert.Equal(argmax, (model.Recency, model.Asymmetry, model.Locality));
        Assert.Equal("Objective", Assert.Throws<ArgumentOutOfRangeException>(() => new UpCf(new UpCfOptions { Objective = (ValidationObjective)(-1) })).ParamName);
    }

    [Fact]
    public void An_update_equals_a_fit_on_all_events() => TifuKnnTests.AssertUpdateEqualsFit(() => new UpCf(Fixed(2, 0.5f, 3)), seed: 7);

    [Fact]
    public void Bad_options_are_rejected_by_name()
    {
        Assert.Contains("Recencies", Assert.ThrowsAny<ArgumentException>(() => new UpCf(new UpCfOptions { Recencies = [0] })).Message, StringComparison.Ordinal);
        Assert.Contains("Asymmetries", Assert.ThrowsAny<ArgumentException>(() => new UpCf(new UpCfOptions { Asymmetries = [float.NaN] })).Message, StringComparison.Ordinal);
        Assert.Contains("Localities", Assert.ThrowsAny<ArgumentException>(() => new UpCf(new UpCfOptions { Localities = [] })).Message, StringComparison.Ordinal);
    }

    /// <summary>The dense oracle: the set of items ever bought and the share of the last min(r, n) baskets holding each item.</summary>
    private static (HashSet<int> Bought, double[] Popularity) Dense(List<Interaction> history, int items, int r)
    {
        List<HashSet<int>> baskets = TifuKnnTests.Baskets(history);

        var popularity = new double[items];
        int window = Math.Min(r, baskets.Count);
        foreach (HashSet<int> basket in baskets.Skip(baskets.Count - window))
        {
            foreach (int item in basket)
            {
                popularity[item] += 1.0 / window;
            }
        }

        return ([.. baskets.SelectMany(b => b)], popularity);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

public class BaselineTests
{
    private static Interaction Buy(int user, int item, double day = 0) =>
        new(user, item, (long)(day * TimeSpan.TicksPerDay), EventKind.Purchase, 1f, 1f, -1);

    private static float[] Scores(IRecommender model, int user, params Interaction[] history)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, history, scores);
        return scores;
    }

    [Fact]
    public void Popularity_counts_positive_events_and_ignores_returns()
    {
        var model = new Popularity();
        Interaction[] events = [Buy(0, 1), Buy(1, 1), Buy(1, 2), new(2, 2, 0, EventKind.Return, -1f, 1f, -1), Buy(2, 0), Buy(0, 1)];
        model.Fit(events, 3, 4);
        Assert.Equal([1.0, 3.0, 1.0, 0.0], Enumerable.Range(0, 4).Select(model.Weight));
        float[] scores = Scores(model, 0);
        Assert.Equal(1f, scores[1]);                     // normalised by the maximum
        Assert.Equal(1f / 3, scores[0], 6);
    }

    [Fact]
    public void Decayed_popularity_halves_an_event_per_half_life()
    {
        var model = new Popularity(halfLifeDays: 1);
        // Item 0 bought once on day 0, item 1 once on day 2: item 1 weighs 2² = 4 times more.
        model.Fit([Buy(0, 0, day: 0), Buy(1, 1, day: 2)], 2, 2);
        Assert.Equal(4.0, model.Weight(1) / model.Weight(0), 9);

        // Far in the future the weights rebase instead of overflowing; the ratio stays exact.
        model.Update([Buy(0, 0, day: 1000)], 2, 2);
        Assert.True(double.IsFinite(model.Weight(0)));
        Assert.True(model.Weight(0) > model.Weight(1));
    }

    [Fact]
    public void Personal_popularity_ranks_own_items_first_then_global_popularity()
    {
        var model = new PersonalPopularity();
        Interaction[] events = [Buy(0, 3), Buy(1, 2), Buy(2, 2), Buy(2, 1), Buy(1, 1), Buy(3, 1)];
        model.Fit(events, 4, 5);
        float[] scores = Scores(model, 0, Buy(0, 3), Buy(0, 3), Buy(0, 4));
        int[] order = Enumerable.Range(0, 5).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        // Own: item 3 twice, item 4 once; then global: item 1 (3 buys), item 2 (2), item 0 (0).
        Assert.Equal([3, 4, 1, 2, 0], order);
    }

    [Fact]
    public void ItemKnn_matches_hand_computed_cosine()
    {
        // Users: 0 bought {0, 1}; 1 bought {0, 1, 2}; 2 bought {2}.  n = [2, 2, 2]; c01 = 2, c02 = 1, c12 = 1.
        var model = new ItemKnn();
        model.Fit([Buy(0, 0), Buy(0, 1), Buy(1, 0), Buy(1, 1), Buy(1, 2), Buy(2, 2)], 3, 3);
        float[] scores = Scores(model, 2, Buy(2, 0));
        // sim(0, j) = c0j / √(n0 nj): [0 (self), 2/2 = 1, 1/2].
        Assert.Equal(0f, scores[0], 6);
        Assert.Equal(1f, scores[1], 6);
        Assert.Equal(0.5f, scores[2], 6);
    }

    [Fact]
    public void Incremental_updates_equal_fitting_on_everything_and_grow_the_catalog()
    {
        var random = new Random(5);
        var all = Enumerable.Range(0, 300).Select(i => Buy(random.Next(20), random.Next(i < 200 ? 30 : 40), i)).ToArray();
        IRecommender[] batch = [new Popularity(), new PersonalPopularity(), new ItemKnn(), new Popularity(halfLifeDays: 30)];
        IRecommender[] online = [new Popularity(), new PersonalPopularity(), new ItemKnn(), new Popularity(halfLifeDays: 30)];
        for (int m = 0; m < batch.Length; m++)
        {
            batch[m].Fit(all, 20, 40);
            online[m].Fit(all[..200], 20, 30);
            Assert.Equal(30, online[m].ItemCount);
            online[m].Update(all[200..], 20, 40);      // new items 30..39 appear only here
            Assert.Equal(40, online[m].ItemCount);
            float[] expected = Scores(batch[m], 3, all[..50]);
            float[] actual = Scores(online[m], 3, all[..50]);
            for (int i = 0; i < 40; i++)
            {
                Assert.Equal(expected[i], actual[i], 5);
            }
        }
    }

    [Fact]
    public void Recommend_returns_the_top_items_with_the_tie_rule_and_exclusions()
    {
        var model = new PersonalPopularity(); // Recommend is public on the class itself
        model.Fit([Buy(1, 2), Buy(2, 2), Buy(3, 1), Buy(3, 4)], 4, 6);
        var top = new int[3];
        // Own items first (4 twice, 0 once), then global popularity (2: 2 buys, then 1 and 4 tie at 1 → lower index).
        Assert.Equal(3, model.Recommend(0, [Buy(0, 4), Buy(0, 4), Buy(0, 0)], top, []));
        Assert.Equal([4, 0, 2], top);
        Assert.Equal(3, model.Recommend(0, [Buy(0, 4), Buy(0, 4), Buy(0, 0)], top, [0, 4]));
        Assert.Equal([2, 1, 3], top);
        Assert.Throws<ArgumentException>(() => model.Recommend(0, [], top, [4, 0]));
    }

    [Fact]
    public void Bad_input_is_rejected_and_changes_nothing()
    {
        var model = new ItemKnn();
        model.Fit([Buy(0, 0), Buy(0, 1)], 1, 2);
        float[] before = Scores(model, 0, Buy(0, 0));

        var error = Assert.Throws<ArgumentException>(() => model.Update([Buy(0, 1), Buy(0, 5)], 1, 2));
        Assert.Equal("newEvents", error.ParamName);
        Assert.Contains("newEvents[1]", error.Message, StringComparison.Ordinal);
        Assert.Equal("itemCount", Assert.Throws<ArgumentException>(() => model.Update([], 1, 1)).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => model.Score(0, [], new float[3])).ParamName);
        Assert.Equal(before, Scores(model, 0, Buy(0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Popularity(halfLifeDays: 0));
    }
}

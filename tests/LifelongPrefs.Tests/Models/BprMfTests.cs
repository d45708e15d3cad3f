using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

public class BprMfTests
{
    /// <summary>
    /// Two taste groups: even users buy random items from 0..19, odd users from 20..39 (each user a random 6 of
    /// their group's 20). The held-out question: do a user's top-10 unseen items come from their own group?
    /// Chance is 50%.
    /// </summary>
    private static (List<Interaction> Events, List<HashSet<int>> Owned) TwoGroups(int users, int seed)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        var owned = new List<HashSet<int>>();
        for (int u = 0; u < users; u++)
        {
            var items = new HashSet<int>();
            while (items.Count < 6)
            {
                items.Add((u % 2) * 20 + random.Next(20));
            }

            owned.Add(items);
            foreach (int item in items)
            {
                events.Add(new Interaction(u, item, events.Count, EventKind.Purchase, 1f, 1f, -1));
            }
        }

        return (events, owned);
    }

    private static double InGroupShare(BprMf model, List<Interaction> events, List<HashSet<int>> owned, int users)
    {
        var scores = new float[model.ItemCount];
        int inGroup = 0, total = 0;
        for (int u = 0; u < users; u++)
        {
            Interaction[] history = events.Where(e => e.User == u).ToArray();
            model.Score(u, history, scores);
            foreach (int item in Enumerable.Range(0, model.ItemCount).Where(i => !owned[u].Contains(i))
                         .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10))
            {
                inGroup += item / 20 == u % 2 ? 1 : 0;
                total++;
            }
        }

        return (double)inGroup / total;
    }

    [Fact]
    public void Learns_group_preferences_far_above_chance_deterministically()
    {
        var (events, owned) = TwoGroups(100, 1);
        var options = new BprMfOptions { Dimensions = 8, MaxEpochs = 60, BatchSize = 64, LearningRate = 0.05f, Seed = 3 };
        var model = new BprMf(options);
        model.Fit(events, 100, 40);
        double share = InGroupShare(model, events, owned, 100);
        Assert.True(share >= 0.9, $"in-group share of top-10 unseen items {share:P1} (chance 50%)");

        var again = new BprMf(options);
        again.Fit(events, 100, 40);
        var a = new float[40];
        var b = new float[40];
        model.Score(7, [], a);
        again.Score(7, [], b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Update_grows_for_new_users_and_items_and_learns_them()
    {
        var (events, owned) = TwoGroups(100, 2);
        var model = new BprMf(new BprMfOptions { Dimensions = 8, MaxEpochs = 40, UpdateEpochs = 40, BatchSize = 64, LearningRate = 0.05f, Seed = 4 });
        model.Fit(events.Where(e => e.User < 80).ToList(), 80, 40);
        float[] before = model.Parameters[1].Value.Row(0).ToArray();

        model.Update(events.Where(e => e.User >= 80).ToList(), 100, 41);

        Assert.Equal(41, model.ItemCount);
        Assert.Equal(100, model.Parameters[0].Rows);
        double share = InGroupShare(model, events, owned, 100);
        Assert.True(share >= 0.8, $"after update: {share:P1}");
        Assert.NotEqual(before, model.Parameters[1].Value.Row(0).ToArray()); // old items keep learning too
    }

    [Fact]
    public void Rejects_bad_options_and_events()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BprMf(new BprMfOptions { Dimensions = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BprMf(new BprMfOptions { LearningRate = float.NaN }));
        var model = new BprMf();
        Assert.Equal("events", Assert.Throws<ArgumentException>(() =>
            model.Fit([new Interaction(0, 9, 0, EventKind.Purchase, 1, 1, -1)], 1, 5)).ParamName);
        Assert.Equal(0, model.ItemCount);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

public class RepeatAwareTests
{
    private static readonly RepeatAwareOptions Small = new() { Hidden = 8, MaxEpochs = 15, Patience = 15, UpdateEpochs = 3,
        BatchSize = 64, LearningRate = 0.01f, ExploreCandidates = 10, RandomNegatives = 10, ValidationUsers = 10, Seed = 5 };

    /// <summary>
    /// Every user has a personal "staple" item (item u % 10 of 0..9) bought in every basket, plus one random
    /// filler from 10..39 per basket. The next basket's staple is predictable only from the user's own repeat
    /// history; the filler is noise. Baskets are one day apart.
    /// </summary>
    private static List<Interaction> Staples(int users, int baskets, int seed, int firstUser = 0, int basketOffset = 0)
    {
        var random = new Random(seed);
        var events = new List<Interaction>();
        int basket = basketOffset;
        for (int b = 0; b < baskets; b++)
        {
            for (int u = firstUser; u < firstUser + users; u++)
            {
                long ticks = TimeSpan.TicksPerDay * (b + 1) + u;
                events.Add(new Interaction(u, u % 10, ticks, EventKind.Purchase, 1f, 1f, basket));
                events.Add(new Interaction(u, 10 + random.Next(30), ticks, EventKind.Purchase, 1f, 1f, basket));
                basket++;
            }
        }

        events.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));
        return events;
    }

    private static double StapleTop1Share(RepeatAware model, List<Interaction> events, int firstUser, int users)
    {
        var scores = new float[model.ItemCount];
        int hits = 0;
        for (int u = firstUser; u < firstUser + users; u++)
        {
            Interaction[] history = events.Where(e => e.User == u).ToArray();
            model.Score(u, history, scores);
            int best = 0;
            for (int i = 1; i < scores.Length; i++)
            {
                if (scores[i] > scores[best])
                {
                    best = i;
                }
            }

            hits += best == u % 10 ? 1 : 0;
        }

        return (double)hits / users;
    }

    [Fact]
    public void Learns_the_repeat_pattern_far_above_chance_and_is_deterministic()
    {
        List<Interaction> events = Staples(40, 5, 1);
        var model = new RepeatAware(Small);
        model.Fit(events, 40, 40);

        // Chance of the staple being the top-1 of 40 items is 2.5%; a model ignoring repeats would pick fillers.
        double share = StapleTop1Share(model, events, 0, 40);
        Assert.True(share >= 0.9, $"staple ranked first for {share:P0} of users (chance 2.5%)");

        var again = new RepeatAware(Small);
        again.Fit(events, 40, 40);
        Interaction[] history = events.Where(e => e.User == 7).ToArray();
        var a = new float[40];
        var b = new float[40];
        model.Score(7, history, a);
        again.Score(7, history, b);
        Assert.Equal(a, b);
        Assert.All(a, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Scores_every_item_and_a_user_unseen_in_training_from_their_history()
    {
        List<Interaction> events = Staples(40, 5, 2);
        var model = new RepeatAware(Small);
        model.Fit(events.Where(e => e.User < 30).ToList(), 40, 40);

        // Users 30..39 were never trained on; their own history must still put their staple first.
        Assert.True(StapleTop1Share(model, events, 30, 10) >= 0.9);

        // An empty history still gives finite scores for all items (explore features only).
        var scores = new float[40];
        model.Score(39, [], scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }

    [Fact]
    public void Update_grows_for_new_users_and_items_and_keeps_working()
    {
        List<Interaction> events = Staples(40, 5, 3);
        var model = new RepeatAware(Small);
        model.Fit(events, 40, 40);

        // New users 40..49 whose staples are new items 40..49 (u % 10 + 40), bought in every basket.
        var fresh = new List<Interaction>();
        int basket = 10_000;
        for (int b = 0; b < 4; b++)
        {
            for (int u = 40; u < 50; u++)
            {
                long ticks = TimeSpan.TicksPerDay * (10 + b) + u;
                fresh.Add(new Interaction(u, 40 + u % 10, ticks, EventKind.Purchase, 1f, 1f, basket));
                fresh.Add(new Interaction(u, 10 + (u + b) % 30, ticks, EventKind.Purchase, 1f, 1f, basket));
                basket++;
            }
        }

        model.Update(fresh, 50, 50);
        Assert.Equal(50, model.ItemCount);
        var scores = new float[50];
        int hits = 0;
        for (int u = 40; u < 50; u++)
        {
            model.Score(u, fresh.Where(e => e.User == u).ToArray(), scores);
            hits += Array.IndexOf(scores, scores.Max()) == 40 + u % 10 ? 1 : 0;
        }

        Assert.True(hits >= 9, $"new staple first for {hits}/10 new users");
        Assert.Throws<ArgumentException>("scores", () => model.Score(0, [], new float[40]));
    }

    [Fact]
    public void Bad_options_name_the_option()
    {
        Assert.Equal("Hidden", Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatAware(new RepeatAwareOptions { Hidden = 0 })).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatAware(new RepeatAwareOptions { LearningRate = -1f })).ParamName);
        Assert.Equal("Decay", Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatAware(new RepeatAwareOptions { Decay = 1f })).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatAware(new RepeatAwareOptions { BatchSize = 0 })).ParamName);
    }

    [Fact]
    public void Bad_events_and_shrinking_counts_throw_and_leave_the_model_unchanged()
    {
        List<Interaction> events = Staples(20, 4, 4);
        var model = new RepeatAware(Small);
        List<Interaction> bad = [.. events, new Interaction(3, 99, long.MaxValue, EventKind.Purchase, 1f, 1f, 99_999)];
        Assert.Equal("events", Assert.Throws<ArgumentException>(() => model.Fit(bad, 20, 40)).ParamName);
        Assert.Equal(0, model.ItemCount);

        model.Fit(events, 20, 40);
        Interaction[] history = events.Where(e => e.User == 3).ToArray();
        var before = new float[40];
        model.Score(3, history, before);
        Assert.Equal("newEvents", Assert.Throws<ArgumentException>(() => model.Update(bad, 20, 40)).ParamName);
        Assert.Equal("itemCount", Assert.Throws<ArgumentException>(() => model.Update([], 20, 39)).ParamName);
        Assert.Equal("userCount", Assert.Throws<ArgumentException>(() => model.Update([], 19, 40)).ParamName);
        var after = new float[40];
        model.Score(3, history, after);
        Assert.Equal(before, after);
    }
}

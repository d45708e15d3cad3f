using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Persistence;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// New items from their text: on a catalog whose descriptions name planted categories, an item registered with a
/// description but never bought is scored like the items its words share, so a shopper of that category gets it ahead
/// of unrelated never-bought items; descriptions are checked like ids, and the model's text state survives a checkpoint.
/// </summary>
public class TrackerItemTextTests
{
    private const int Categories = 4, OldItems = 32, Users = 32, Days = 40;
    private static readonly string[] CategoryWords = ["garden", "kitchen", "candle", "teddy"];
    private static readonly string[] Colours = ["red", "blue", "green", "white", "pink", "black", "gold", "silver"];
    private static readonly string[] Shapes = ["round", "square", "tall", "mini"];

    /// <summary>A description that names the item's category, with a colour and a shape shared by every category.</summary>
    private static string Description(int category, int k) =>
        $"{CategoryWords[category].ToUpperInvariant()} {Colours[k % Colours.Length].ToUpperInvariant()} {Shapes[(k / 2) % Shapes.Length].ToUpperInvariant()} SET";

    private static string NewItemId(int category) => $"new{category}";

    /// <summary>
    /// Learns the shop (items i0..i31 in category i mod 4, each described), then registers one never-bought item per
    /// category, its description naming the category or only a colour and a shape; returns the share of users whose own
    /// category's new item scores highest of the four.
    /// </summary>
    private static async Task<double> ShareRankingOwnCategoryFirst(bool nameTheCategory)
    {
        await using var tracker = new PreferenceTracker(Deterministic(batch: 128), null, null);
        for (int i = 0; i < OldItems; i++)
        {
            tracker.RegisterItem(ItemId(i), null, Description(i % Categories, i / Categories));
        }

        tracker.Observe(Events(Users, OldItems, Categories, Days, seed: 5));
        await tracker.FlushAsync();
        for (int c = 0; c < Categories; c++)
        {
            string text = Description(c, 11 + c);
            tracker.RegisterItem(NewItemId(c), null, nameTheCategory ? text : text[(text.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        }

        await tracker.FlushAsync();
        Assert.Equal(OldItems + Categories, tracker.CurrentVersion.ModelItems);
        var scores = new float[OldItems + Categories];
        int first = 0;
        for (int u = 0; u < Users; u++)
        {
            tracker.ScoreAll(UserId(u), scores);
            float[] fresh = [.. Enumerable.Range(0, Categories).Select(c => scores[OldItems + c])];
            Assert.All(fresh, s => Assert.True(float.IsFinite(s)));
            int favourite = u % Categories;
            first += Enumerable.Range(0, Categories).All(c => c == favourite || fresh[favourite] > fresh[c]) ? 1 : 0;
        }

        return (double)first / Users;
    }

    [Fact]
    public async Task A_never_bought_item_ranks_first_among_new_items_for_the_shoppers_of_the_category_its_text_names()
    {
        double named = await ShareRankingOwnCategoryFirst(nameTheCategory: true);
        double unnamed = await ShareRankingOwnCategoryFirst(nameTheCategory: false);

        // Chance is 1/4 among four new items; the category's word puts the right one first for nearly every shopper.
        Assert.True(named >= 0.9, $"own-category new item first for {named:P0} of the users when the text names the category");
        Assert.True(unnamed <= 0.6, $"{unnamed:P0} without the category's word: the test would pass without reading it");
    }

    [Fact]
    public async Task A_new_item_is_ranked_among_the_bought_ones_but_does_not_flood_the_top()
    {
        await using var tracker = new PreferenceTracker(Deterministic(batch: 128), null, null);
        for (int i = 0; i < OldItems; i++)
        {
            tracker.RegisterItem(ItemId(i), null, Description(i % Categories, i / Categories));
        }

        tracker.Observe(Events(Users, OldItems, Categories, Days, seed: 5));
        for (int c = 0; c < Categories; c++)
        {
            tracker.RegisterItem(NewItemId(c), null, Description(c, 11 + c));
        }

        await tracker.FlushAsync();
        int newInTopFour = 0;
        var ranks = new List<int>();
        for (int u = 0; u < Users; u++)
        {
            RecommendationList all = tracker.Recommend(UserId(u), OldItems + Categories, new RecommendOptions { ExcludePurchased = false });
            newInTopFour += all.Take(4).Count(r => r.ItemId.StartsWith("new", StringComparison.Ordinal));
            ranks.Add(all.Select(r => r.ItemId).ToList().IndexOf(NewItemId(u % Categories)));
        }

        // Ranked: the own category's new item comes before nearly all 24 bought items of the other categories (the
        // user's own 8 and a few others may precede it). Not flooding: at most one new item per user's top four on average.
        Assert.All(ranks, r => Assert.InRange(r, 0, 11));
        Assert.InRange(newInTopFour, 0, Users);
    }

    [Fact]
    public async Task A_description_longer_than_the_limit_is_rejected_and_changes_nothing()
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8, MaxTextLength = 40 }, null, null);
        tracker.RegisterItem("i0", null, "SHORT TEXT");
        string tooLong = new('x', 41);

        var e = Assert.Throws<ArgumentException>(() => tracker.RegisterItem("i1", "c", tooLong));
        Assert.Equal("description", e.ParamName);
        Assert.Contains("MaxTextLength", e.Message, StringComparison.Ordinal);
        var evt = new InteractionEvent("u0", "i2", Start, EventKind.Purchase, Attributes: new ItemAttributes(Text: tooLong));
        e = Assert.Throws<ArgumentException>(() => tracker.Observe(evt));
        Assert.Contains("Attributes.Text", e.ParamName, StringComparison.Ordinal);
        await tracker.FlushAsync();
        TrackerStatistics statistics = tracker.Statistics;
        Assert.Equal(1, statistics.Items);
        Assert.Equal(0, statistics.EventsObserved);

        // Null keeps the current description; a description at the limit is accepted.
        tracker.RegisterItem("i0", "c", null);
        tracker.RegisterItem("i3", null, new string('y', 40));
        Assert.Equal(2, tracker.Statistics.Items);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-0.01f)]
    public async Task A_price_that_is_not_finite_and_non_negative_is_rejected_and_changes_nothing(float price)
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8 }, null, null);
        var evt = new InteractionEvent("u0", "i0", Start, EventKind.Purchase, Attributes: new ItemAttributes("c", price, "SOME ITEM"));
        var e = Assert.Throws<ArgumentException>(() => tracker.Observe(evt));
        Assert.Equal("evt.Attributes.Price", e.ParamName);
        Assert.Contains(price.ToString(System.Globalization.CultureInfo.CurrentCulture), e.Message, StringComparison.Ordinal);
        await tracker.FlushAsync();
        Assert.Equal((0, 0L), (tracker.Statistics.Items, tracker.Statistics.EventsObserved));

        tracker.Observe(evt with { Attributes = evt.Attributes! with { Price = 0f } });   // a free item is a price
        await tracker.FlushAsync();
        Assert.Equal((1, 1L), (tracker.Statistics.Items, tracker.Statistics.EventsObserved));
    }

    [Fact]
    public void The_text_state_survives_a_checkpoint_and_the_continued_model_equals_the_uninterrupted_one()
    {
        List<Interaction> first = Purchases(0, 30), second = Purchases(30, 10);
        RepeatExplore uninterrupted = Model(), saved = Model();
        foreach (RepeatExplore m in new[] { uninterrupted, saved })
        {
            for (int i = 0; i < OldItems + 2; i++)
            {
                ((IItemTextLearner)m).AddItemText(i, Description(i % Categories, i / Categories));
            }

            m.Update(first, Users, OldItems + 2);
        }

        var restored = Model();
        using (var stream = new MemoryStream(StateModels.Saved(saved)))
        {
            restored.Load(stream);
        }

        uninterrupted.Update(second, Users, OldItems + 2);
        restored.Update(second, Users, OldItems + 2);
        Assert.Equal(StateModels.Saved(uninterrupted), StateModels.Saved(restored));

        // The text did write rows: the two never-bought items score unlike a model that never read a description.
        RepeatExplore plain = Model();
        plain.Update(first, Users, OldItems + 2);
        plain.Update(second, Users, OldItems + 2);
        Interaction[] history = [.. first.Concat(second).Where(e => e.User == 1)];
        float[] withText = new float[OldItems + 2], without = new float[OldItems + 2];
        restored.Score(1, history, withText);
        plain.Score(1, history, without);
        Assert.NotEqual(withText[OldItems..], without[OldItems..]);
        Assert.All(withText, s => Assert.True(float.IsFinite(s)));
    }

    private static RepeatExplore Model() => new(new RepeatExploreOptions { Dimensions = 8, Negatives = 8, Seed = 3 });

    /// <summary>Days of one purchase per user from the old items (items OldItems and OldItems + 1 are never bought).</summary>
    private static List<Interaction> Purchases(int fromDay, int days)
    {
        var rng = new Random(fromDay + 1);
        var events = new List<Interaction>();
        for (int d = fromDay; d < fromDay + days; d++)
        {
            for (int u = 0; u < Users; u++)
            {
                int item = u % Categories + Categories * rng.Next(OldItems / Categories);
                events.Add(new Interaction(u, item, Start.AddDays(d).AddMinutes(u).UtcTicks, EventKind.Purchase, 1f, 0f, d * Users + u));
            }
        }

        return events;
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// Explanations and audiences with the default learner on planted data: the planted companion item is the top
/// evidence, an explanation's score is the recommendation's score, and an item's audience is drawn from the users whose
/// favourite category it belongs to.
/// </summary>
public class TrackerInsightTests
{
    [Fact]
    public async Task An_explanation_names_the_planted_companion_and_scores_as_the_recommendation()
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 128, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 16 });
        // Everyone who buys "tent" buys "pegs" in the same basket; "walker" has bought only tents, plus noise items.
        ObserveCampingShop(tracker, seed: 21);

        for (int d = 0; d < 5; d++)
        {
            tracker.Observe(new InteractionEvent("walker", "tent", Start.AddDays(41 + d), EventKind.Purchase));
            tracker.Observe(new InteractionEvent("walker", ItemId(d), Start.AddDays(41 + d).AddHours(1), EventKind.Purchase));
        }

        await tracker.FlushAsync();
        Explanation why = tracker.Explain("walker", "pegs");
        Assert.Equal(RecommendationReason.Personalized, why.Reason);
        Assert.NotEmpty(why.Evidence);
        Assert.Equal("tent", why.Evidence[0].ItemId);
        Assert.Equal(5, why.Evidence[0].Events);
        Assert.Equal(Start.AddDays(45).UtcTicks, why.Evidence[0].LastSeen.UtcTicks);

        RecommendationList list = tracker.Recommend("walker", 40, new RecommendOptions { ExcludePurchased = false });
        Recommendation pegs = Assert.Single(list, r => r.ItemId == "pegs");
        Assert.Equal(pegs.Score, why.Score);
        Assert.Equal(list.ModelVersion, why.ModelVersion);
        Assert.Equal(RecommendationReason.Repeat, tracker.Explain("walker", "tent").Reason);
        Assert.Throws<ArgumentException>("itemId", () => tracker.Explain("walker", "no such item"));
    }

    [Fact]
    public async Task A_click_given_as_feedback_raises_the_clicked_items_companions()
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 128, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 16 });
        ObserveCampingShop(tracker, seed: 22);

        for (int d = 0; d < 4; d++)
        {
            tracker.Observe(new InteractionEvent("newcomer", ItemId(d), Start.AddDays(41 + d), EventKind.Purchase));
        }

        await tracker.FlushAsync();
        int Rank() => tracker.Recommend("newcomer", 40).Select(r => r.ItemId).ToList().IndexOf("pegs");
        int before = Rank();
        tracker.Feedback("newcomer", "tent", FeedbackOutcome.Clicked);
        await tracker.FlushAsync();
        int after = Rank();
        Assert.True(after >= 0 && (before < 0 || after < before), $"pegs ranked {before} before the click on tent, {after} after");
    }

    [Fact]
    public async Task An_items_audience_leaves_out_its_buyers_and_a_categorys_audience_favours_the_category()
    {
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 128, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 16 });
        tracker.Observe(Events(users: 40, items: 40, categories: 4, days: 60, seed: 12));
        await tracker.FlushAsync();
        string item = ItemId(1);
        IReadOnlyList<AudienceMember> audience = tracker.FindAudience(item, 5);
        Assert.Equal(5, audience.Count);
        Assert.True(audience.Zip(audience.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        HashSet<string> buyers = Buyers(tracker, item);
        Assert.True(buyers.Count is > 0 and < 35);
        Assert.All(audience, m => Assert.DoesNotContain(m.UserId, buyers)); // the favourites of c1 mostly bought it already

        for (int i = 0; i < 40; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 4));
        }

        IReadOnlyList<AudienceMember> category = tracker.FindCategoryAudience("c2", 5);
        Assert.True(category.Count(m => int.Parse(m.UserId[1..], System.Globalization.CultureInfo.InvariantCulture) % 4 == 2) >= 4,
            string.Join(", ", category));
        Assert.Throws<ArgumentException>("category", () => tracker.FindCategoryAudience("nope", 5));
        Assert.Throws<ArgumentOutOfRangeException>("k", () => tracker.FindAudience(item, 0));
    }

    /// <summary>Forty days of 30 users: the even ones buy "tent" and "pegs" in one basket, everyone one random item.</summary>
    private static void ObserveCampingShop(PreferenceTracker tracker, int seed)
    {
        var rng = new Random(seed);
        for (int d = 0; d < 40; d++)
        {
            for (int u = 0; u < 30; u++)
            {
                DateTimeOffset t = Start.AddDays(d).AddMinutes(u);
                string basket = $"b{d}-{u}";
                if (u % 2 == 0)
                {
                    tracker.Observe(new InteractionEvent(UserId(u), "tent", t, EventKind.Purchase, BasketId: basket));
                    tracker.Observe(new InteractionEvent(UserId(u), "pegs", t, EventKind.Purchase, BasketId: basket));
                }

                tracker.Observe(new InteractionEvent(UserId(u), ItemId(rng.Next(30)), t, EventKind.Purchase, BasketId: basket));
            }
        }
    }

    private static HashSet<string> Buyers(PreferenceTracker tracker, string itemId)
    {
        var buyers = new HashSet<string>();
        for (int u = 0; u < 40; u++)
        {
            (_, UserLog? log) = tracker.Find(UserId(u));
            foreach (Interaction e in log!.Recent(int.MaxValue))
            {
                if (e.Kind == EventKind.Purchase && tracker.ItemIdOf(e.Item) == itemId)
                {
                    buyers.Add(UserId(u));
                }
            }
        }

        return buyers;
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// Profiles and forecasts through the facade on generated shops with planted categories and a planted interest
/// shift; the oracle is the plant itself (which category must dominate, which must lead recently) and the laws of a
/// distribution.
/// </summary>
public class TrackerProfileTests
{
    [Fact]
    public async Task The_planted_favourite_category_dominates_a_users_profile()
    {
        await using var tracker = Create();
        for (int i = 0; i < 40; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 4), $"ITEM {i}");
        }

        tracker.Observe(Events(users: 20, items: 40, categories: 4, days: 30, seed: 8));
        await tracker.FlushAsync();
        for (int u = 0; u < 20; u++)
        {
            InterestProfile profile = tracker.GetProfile(UserId(u));
            Assert.Equal($"c{u % 4}", profile.LongTerm[0].Category);
            Assert.Equal($"c{u % 4}", profile.Recent[0].Category);
            Assert.Equal(1.0, profile.LongTerm.Sum(w => w.Weight), 4);
            Assert.InRange(profile.Drift, 0, 0.2);
            Assert.NotEmpty(profile.TopItems);
            Assert.Equal(30, profile.Events);
        }
    }

    [Fact]
    public async Task After_a_planted_switch_recent_interest_follows_while_long_term_interest_lags()
    {
        await using var tracker = Create();
        for (int i = 0; i < 20; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 2));
        }

        // 300 days of category c0, then 60 days of c1 (one purchase a day).
        for (int d = 0; d < 360; d++)
        {
            int item = d < 300 ? 2 * (d % 10) : 2 * (d % 10) + 1;
            tracker.Observe(new InteractionEvent("shifter", ItemId(item), Start.AddDays(d), EventKind.Purchase));
            tracker.Observe(new InteractionEvent("steady", ItemId(2 * (d % 10)), Start.AddDays(d).AddMinutes(1), EventKind.Purchase));
        }

        await tracker.FlushAsync();
        InterestProfile profile = tracker.GetProfile("shifter");
        Assert.Equal("c1", profile.Recent[0].Category);
        Assert.Equal("c0", profile.LongTerm[0].Category);
        double steady = tracker.GetProfile("steady").Drift;
        Assert.True(profile.Drift > 0.1 && steady < 0.01, $"drift {profile.Drift} for the shifter, {steady} for the steady user");

        InterestForecast forecast = tracker.PredictInterests("shifter", TimeSpan.FromDays(30));
        Assert.Equal(1.0, forecast.Categories.Sum(w => w.Weight), 4);
        Assert.All(forecast.Categories, w => Assert.True(w.Weight > 0));
        Assert.Equal(12, forecast.Trajectory.Count); // 2024-01-01 … 2024-12-25: January to December
        Assert.Equal("c0", forecast.Trajectory[0].Categories[0].Category);
        Assert.Equal("c1", forecast.Trajectory[^1].Categories[0].Category);
        Assert.Equal(360, forecast.Trajectory.Sum(m => m.Events));
    }

    [Fact]
    public async Task Unknown_users_and_an_empty_tracker_get_profiles_and_forecasts_not_exceptions()
    {
        await using var empty = Create();
        InterestProfile nobody = empty.GetProfile("nobody");
        Assert.Equal(0, nobody.Events);
        Assert.Empty(nobody.TopItems);
        Assert.Equal(1.0, empty.PredictInterests("nobody", TimeSpan.FromDays(7)).Categories.Sum(w => w.Weight), 4);

        await using var tracker = Create();
        tracker.Observe(Events(users: 10, items: 20, categories: 2, days: 10, seed: 9));
        await tracker.FlushAsync();
        InterestProfile stranger = tracker.GetProfile("stranger");
        Assert.Equal(0, stranger.Events);
        Assert.Throws<ArgumentOutOfRangeException>("horizon", () => tracker.PredictInterests("u1", TimeSpan.Zero));
        Assert.Throws<ArgumentException>("userId", () => tracker.GetProfile(""));
    }
}

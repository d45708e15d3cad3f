using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

public class ProfileAllocationTests
{
    [Fact]
    public void Profile_reads_and_forecasts_allocate_nothing_after_warm_up()
    {
        UserHistories histories = InterestForecastTests.PlantedTrend(users: 3, seed: 8);
        ItemCategories categories = ItemCategories.FromAssignments([.. Enumerable.Range(0, 60).Select(i => i / 10)], ["a", "b", "c", "d", "e", "f"]);
        Interaction[] history = histories.EventsOf(1).ToArray();
        long asOf = new DateTime(2010, 9, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        ProfileOptions options = ProfileOptions.Default;
        var longTerm = new float[6];
        var recent = new float[6];
        var items = new int[5];
        var weights = new float[5];
        var months = new MonthProfile[24];
        var rows = new float[24 * 6];
        var prior = new float[6];
        prior.AsSpan().Fill(1f / 6);
        var forecast = new float[6];
        var forecaster = new InterestForecaster([0.2, 0.7, 0.1, 0.3, 0]);

        Allocations.AssertNone("Compute", () => InterestProfiles.Compute(history, categories, asOf, options, longTerm, recent));
        Allocations.AssertNone("Drift", () => InterestProfiles.Drift(recent, longTerm));
        Allocations.AssertNone("TopItems", () => InterestProfiles.TopItems(history, asOf, options, items, weights));
        Allocations.AssertNone("Trajectory", () => InterestProfiles.Trajectory(history, categories, asOf, options, months, rows));
        Allocations.AssertNone("Predict", () => forecaster.Predict(history, categories, asOf, TimeSpan.FromDays(30), options, prior, default, forecast));
        Assert.True(InterestProfiles.Trajectory(history, categories, asOf, options, months, rows) == 8);
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

public class InterestProfileTests
{
    private static readonly long AsOf = new DateTime(2011, 6, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>Items 0-9 in category 0, 10-19 in 1, 20-29 in 2.</summary>
    private static readonly ItemCategories ThreeCategories =
        ItemCategories.FromAssignments([.. Enumerable.Range(0, 30).Select(i => i / 10)], ["a", "b", "c"]);

    private static Interaction At(int item, double daysBeforeAsOf, EventKind kind = EventKind.Purchase, float quantity = 1) =>
        new(0, item, AsOf - (long)(daysBeforeAsOf * TimeSpan.TicksPerDay), kind, quantity, 0f, -1);

    [Fact]
    public void A_decayed_profile_matches_the_formula_by_hand()
    {
        Interaction[] history =
        [
            At(1, 365),                                 // purchase, category 0, one long-term half-life ago
            At(12, 30, EventKind.AddToCart),            // category 1, one recent half-life ago
            At(3, 10, EventKind.Purchase, quantity: 6), // category 0, six units
            At(14, 5, EventKind.Return, quantity: -2),  // ignored
            At(25, 0, EventKind.View),                  // category 2, now
            At(26, -1),                                 // after the profile's time: ignored
        ];

        var longTerm = new float[3];
        var recent = new float[3];
        ProfileMass mass = InterestProfiles.Compute(history, ThreeCategories, AsOf, ProfileOptions.Default, longTerm, recent);

        // weight = kind weight · (1 + ln q) · 2^(−age / half-life)
        static double W(double kind, double quantity, double age, double halfLife) => kind * (1 + Math.Log(quantity)) * Math.Pow(2, -age / halfLife);
        double[] expectedLong = [W(1, 1, 365, 365) + W(1, 6, 10, 365), W(0.5, 1, 30, 365), W(0.1, 1, 0, 365)];
        double[] expectedRecent = [W(1, 1, 365, 30) + W(1, 6, 10, 30), W(0.5, 1, 30, 30), W(0.1, 1, 0, 30)];
        Assert.Equal(expectedLong.Sum(), mass.LongTerm, 5);
        Assert.Equal(expectedRecent.Sum(), mass.Recent, 5);
        Assert.Equal(4, mass.Events);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(expectedLong[c] / expectedLong.Sum(), longTerm[c], 5);
            Assert.Equal(expectedRecent[c] / expectedRecent.Sum(), recent[c], 5);
        }
    }

    [Fact]
    public void A_later_event_inside_an_earlier_basket_is_skipped_not_a_stop()
    {
        // A basket that spans time: its second line (1 day after the profile's time) stands before a later basket's line.
        Interaction[] history = [At(1, 10), At(2, -1), At(15, 5)];
        var longTerm = new float[3];
        var recent = new float[3];
        ProfileMass mass = InterestProfiles.Compute(history, ThreeCategories, AsOf, ProfileOptions.Default, longTerm, recent);

        Assert.Equal(2, mass.Events);
        double a = Math.Pow(2, -10 / 30.0), b = Math.Pow(2, -5 / 30.0);
        Assert.Equal(a / (a + b), recent[0], 5);
        Assert.Equal(b / (a + b), recent[1], 5);
    }

    [Fact]
    public void Quantity_is_log_scaled_and_capped()
    {
        var options = new ProfileOptions { MaxQuantity = 100 };
        Assert.Equal(1f, options.Weigh(At(0, 0, quantity: 0)));
        Assert.Equal(1f + MathF.Log(100f), options.Weigh(At(0, 0, quantity: 5000)), 5);
        Assert.Equal(0f, options.Weigh(At(0, 0, EventKind.Return)));
        Assert.True(options.Weigh(At(0, 0)) > options.Weigh(At(0, 0, EventKind.AddToCart)));
        Assert.True(options.Weigh(At(0, 0, EventKind.AddToCart)) > options.Weigh(At(0, 0, EventKind.Click)));
        Assert.True(options.Weigh(At(0, 0, EventKind.Click)) > options.Weigh(At(0, 0, EventKind.View)));
    }

    [Fact]
    public void An_empty_history_gives_the_uniform_or_the_prior_profile()
    {
        var longTerm = new float[3];
        var recent = new float[3];
        ProfileMass mass = InterestProfiles.Compute([], ThreeCategories, AsOf, ProfileOptions.Default, longTerm, recent);
        Assert.Equal(new ProfileMass(0, 0, 0), mass);
        Assert.All(longTerm, p => Assert.Equal(1f / 3, p, 6));

        InterestProfiles.Compute([At(1, -3)], ThreeCategories, AsOf, ProfileOptions.Default, longTerm, recent, [0.5f, 0.25f, 0.25f]);
        Assert.Equal([0.5f, 0.25f, 0.25f], recent);
        Assert.Equal(0, InterestProfiles.MonthCount([], AsOf, ProfileOptions.Default));
        Assert.Equal(0, InterestProfiles.TopItems([], AsOf, ProfileOptions.Default, new int[3], new float[3]));
    }

    /// <summary>
    /// A user buys one category-0 item a day for 200 days, then switches to category 1. With daily events and half-life
    /// h, category 1 overtakes once 1 − 2^(−n/h) &gt; 2^(−n/h)·(1 − 2^(−200/h)), i.e. after n* = h·log2(2 − 2^(−200/h))
    /// days: about 29.7 for the recent profile (h = 30) and 141 for the long-term one (h = 365).
    /// </summary>
    [Fact]
    public void After_a_planted_shift_recent_weights_follow_within_N_events_and_long_term_lags()
    {
        var history = new List<Interaction>();
        long start = AsOf - 450 * TimeSpan.TicksPerDay;
        for (int day = 0; day < 450; day++)
        {
            history.Add(new Interaction(0, day < 200 ? 1 : 11, start + day * TimeSpan.TicksPerDay, EventKind.Purchase, 1, 0, -1));
        }

        double Crossing(double h) => h * Math.Log2(2 - Math.Pow(2, -200 / h));
        int recentN = (int)Math.Ceiling(Crossing(30));
        int longN = (int)Math.Ceiling(Crossing(365));
        var longTerm = new float[3];
        var recent = new float[3];
        double previousDrift = -1;
        for (int n = 1; n <= 250; n++)
        {
            // The profile as of the n-th category-1 purchase.
            long now = history[199 + n].Ticks;
            InterestProfiles.Compute([.. history.Take(200 + n)], ThreeCategories, now, ProfileOptions.Default, longTerm, recent);
            Assert.Equal(n >= recentN, recent[1] > 0.5f);
            Assert.Equal(n >= longN, longTerm[1] > 0.5f);

            // Drift grows while the recent profile moves away from the long-term one.
            double drift = InterestProfiles.Drift(recent, longTerm);
            if (n <= recentN)
            {
                Assert.True(drift > previousDrift, $"drift {drift} after {n} events did not grow from {previousDrift}");
                previousDrift = drift;
            }
        }

        Assert.True(recentN <= 30 && longN > 100, $"{recentN} {longN}");
    }

    [Fact]
    public void Drift_is_zero_for_identical_one_for_disjoint_and_matches_the_formula()
    {
        Assert.Equal(0, InterestProfiles.Drift([0.2f, 0.3f, 0.5f], [0.2f, 0.3f, 0.5f]), 12);
        Assert.Equal(1, InterestProfiles.Drift([1f, 0f, 0f], [0f, 0.5f, 0.5f]), 12);

        // p = (1, 0), q = (½, ½), m = (¾, ¼): JS = ½·log2(4/3) + ½·(½·log2(2/3) + ½·log2 2).
        double expected = 0.5 * Math.Log2(4.0 / 3) + 0.5 * (0.5 * Math.Log2(2.0 / 3) + 0.5);
        Assert.Equal(expected, InterestProfiles.Drift([1f, 0f], [0.5f, 0.5f]), 7);
        Assert.Equal(InterestProfiles.Drift([0.7f, 0.3f], [0.1f, 0.9f]), InterestProfiles.Drift([0.1f, 0.9f], [0.7f, 0.3f]), 12);

        // Drift grows with the size of a shift.
        double previous = 0;
        for (int step = 1; step <= 10; step++)
        {
            float s = step / 10f;
            double drift = InterestProfiles.Drift([1 - s, s], [1f, 0f]);
            Assert.True(drift > previous);
            previous = drift;
        }
    }

    [Fact]
    public void The_trajectory_has_one_entry_per_month_with_the_right_counts()
    {
        static long T(int month, int day) => new DateTime(2011, month, day, 12, 0, 0, DateTimeKind.Utc).Ticks;
        Interaction[] history =
        [
            new(0, 1, T(1, 3), EventKind.Purchase, 1, 0, -1),
            new(0, 2, T(1, 20), EventKind.Purchase, 1, 0, -1),
            new(0, 15, T(1, 31), EventKind.Purchase, 1, 0, -1),
            new(0, 15, T(3, 1), EventKind.Return, -1, 0, -1),
            new(0, 25, T(3, 9), EventKind.AddToCart, 1, 0, -1),
            new(0, 5, T(4, 2), EventKind.Purchase, 1, 0, -1),
        ];

        long asOf = T(3, 31);
        var options = ProfileOptions.Default;
        Assert.Equal(3, InterestProfiles.MonthCount(history, asOf, options));
        var months = new MonthProfile[3];
        var rows = new float[9];
        Assert.Equal(3, InterestProfiles.Trajectory(history, ThreeCategories, asOf, options, months, rows));

        Assert.Equal([new DateTime(2011, 1, 1).Ticks, new DateTime(2011, 2, 1).Ticks, new DateTime(2011, 3, 1).Ticks], months.Select(m => m.StartTicks));
        Assert.Equal([3, 0, 2], months.Select(m => m.Events));
        Assert.Equal([3f, 0f, 0.5f], months.Select(m => m.Mass));
        float[] expected = [2f / 3, 1f / 3, 0f, 0f, 0f, 0f, 0f, 0f, 1f];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], rows[i], 6);
        }

        // Bounded to the latest months.
        var bounded = new ProfileOptions { TrajectoryMonths = 2 };
        Assert.Equal(2, InterestProfiles.Trajectory(history, ThreeCategories, asOf, bounded, months, rows));
        Assert.Equal([0, 2], months.Take(2).Select(m => m.Events));
    }

    [Fact]
    public void Top_items_rank_by_decayed_weight_with_ties_to_the_lower_index()
    {
        Interaction[] history = [At(7, 365), At(7, 365), At(4, 0), At(9, 0), At(2, 0, EventKind.View), At(3, 0, EventKind.Return)];
        var items = new int[5];
        var weights = new float[5];
        int written = InterestProfiles.TopItems(history, AsOf, ProfileOptions.Default, items, weights);

        // Items 4, 7 and 9 all weigh 1 (7: two purchases one half-life ago), so they keep index order; the view of 2
        // weighs 0.1; the return of 3 never counts.
        Assert.Equal(4, written);
        Assert.Equal([4, 7, 9, 2], items.Take(4));
        Assert.Equal(1f, weights[1], 5);
        Assert.Equal(0.1f, weights[3], 5);
    }

    [Fact]
    public void Bad_input_throws_naming_the_argument()
    {
        Assert.Equal("longTerm", Assert.Throws<ArgumentException>(() => InterestProfiles.Compute([], ThreeCategories, AsOf, ProfileOptions.Default, new float[2], new float[3])).ParamName);
        Assert.Equal("recent", Assert.Throws<ArgumentException>(() => InterestProfiles.Compute([], ThreeCategories, AsOf, ProfileOptions.Default, new float[3], new float[4])).ParamName);
        Assert.Equal("prior", Assert.Throws<ArgumentException>(() => InterestProfiles.Compute([], ThreeCategories, AsOf, ProfileOptions.Default, new float[3], new float[3], [0.5f, 0.6f, 0f])).ParamName);
        Assert.Equal("longTerm", Assert.Throws<ArgumentException>(() => InterestProfiles.Drift([1f], [0.5f, 0.5f])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => InterestProfiles.TopItems([], AsOf, ProfileOptions.Default, new int[2], new float[3])).ParamName);
        Assert.Equal("months", Assert.Throws<ArgumentException>(() => InterestProfiles.Trajectory([At(1, 40), At(2, 1)], ThreeCategories, AsOf, ProfileOptions.Default, new MonthProfile[1], new float[6])).ParamName);
        Assert.Equal("RecentHalfLife", Assert.Throws<ArgumentOutOfRangeException>(() => new ProfileOptions { RecentHalfLife = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("ViewWeight", Assert.Throws<ArgumentOutOfRangeException>(() => new ProfileOptions { ViewWeight = float.NaN }.Validate()).ParamName);
        Assert.Equal("TrajectoryMonths", Assert.Throws<ArgumentOutOfRangeException>(() => new ProfileOptions { TrajectoryMonths = 0 }.Validate()).ParamName);
    }
}

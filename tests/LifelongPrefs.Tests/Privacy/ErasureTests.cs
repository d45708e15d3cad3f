using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using static LifelongPrefs.Tests.Privacy.PrivacyScenario;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// Right to erasure: after <see cref="PreferenceTracker.ForgetAsync"/> the tracker's whole state image holds no byte
/// sequence of the user (raw id in UTF-8 and UTF-16, their embedding row), while it does hold another user's (and held
/// theirs before); the counts equal those of a tracker that never saw the user; the others are still served.
/// </summary>
public class ErasureTests
{
    private const int Victim = 3, Other = 7;

    [Fact]
    public async Task After_forget_no_byte_of_the_user_remains_and_another_users_bytes_do()
    {
        await using var tracker = new PreferenceTracker(Options());
        tracker.Observe(Events());
        await tracker.FlushAsync();
        int victim = tracker.Find(Customer(Victim)).User, other = tracker.Find(Customer(Other)).User;
        float[] victimRow = await tracker.UserRowAsync(victim), otherRow = await tracker.UserRowAsync(other);
        Assert.Contains(victimRow, v => v != 0f); // a learned row, so finding its bytes means something
        byte[] before = await tracker.CaptureStateAsync();

        // Positive control on the same image format: the victim's id and exact row are in the image before erasure.
        Assert.True(ContainsText(before, Customer(Victim)));
        Assert.True(Contains(before, Bytes(victimRow)), "the row read is not the row serialised: the check below would be empty");

        Assert.True(await tracker.ForgetAsync(Customer(Victim)));
        byte[] after = await tracker.CaptureStateAsync();

        Assert.False(Contains(after, System.Text.Encoding.UTF8.GetBytes(Customer(Victim))));
        Assert.False(Contains(after, System.Text.Encoding.Unicode.GetBytes(Customer(Victim))));
        Assert.False(Contains(after, Bytes(victimRow)));
        Assert.All(await tracker.UserRowAsync(victim), v => Assert.Equal(0f, v));

        // Positive control after erasure: another user's id and exact row are still found.
        Assert.True(ContainsText(after, Customer(Other)));
        Assert.Equal(otherRow, await tracker.UserRowAsync(other));
        Assert.True(Contains(after, Bytes(otherRow)));

        // The others are still served from the model; the victim is now unknown (cold start).
        RecommendationList list = tracker.Recommend(Customer(Other), 5);
        Assert.False(list.IsColdStart);
        Assert.Equal(5, list.Count);
        Assert.True(tracker.Recommend(Customer(Victim), 5).IsColdStart);
        Assert.Equal(-1, tracker.Find(Customer(Victim)).User);
    }

    [Fact]
    public async Task A_continual_bpr_learner_forgets_the_row_its_ewc_anchor_and_its_replay_events()
    {
        var options = new TrackerOptions
        {
            MicroBatchSize = 32, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8,
            Continual = new ContinualOptions { ReplayRecentPerUser = 4 },
        };
        await using var tracker = new PreferenceTracker(options, new BprMf(new BprMfOptions { Dimensions = 8 }), null);
        tracker.Observe(Events());
        await tracker.FlushAsync();
        int victim = tracker.Find(Customer(Victim)).User, other = tracker.Find(Customer(Other)).User;
        float[] victimRow = await tracker.UserRowAsync(victim), otherRow = await tracker.UserRowAsync(other);
        Assert.Contains(victimRow, v => v != 0f);
        Assert.True(Contains(await tracker.CaptureStateAsync(), Bytes(victimRow)), "positive control: the row is in the image");
        bool replayedBefore = false, replayedAfter = true;
        await tracker.ReadLearnerAsync((m, _) => replayedBefore = HoldsEvents((ContinualLearner)m, victim));
        Assert.True(replayedBefore, "positive control: the replay memory held the victim's events");

        Assert.True(await tracker.ForgetAsync(Customer(Victim)));
        byte[] after = await tracker.CaptureStateAsync();
        Assert.False(Contains(after, Bytes(victimRow)));
        Assert.False(ContainsText(after, Customer(Victim)));
        Assert.True(Contains(after, Bytes(otherRow)));
        await tracker.ReadLearnerAsync((m, _) => replayedAfter = HoldsEvents((ContinualLearner)m, victim));
        Assert.False(replayedAfter);
        Assert.False(tracker.Recommend(Customer(Other), 5).IsColdStart);
    }

    private static bool HoldsEvents(ContinualLearner learner, int user) =>
        learner.Replay!.Reservoir.Items.ToArray().Any(e => e.User == user)
        || learner.Replay.RecentWindows.Any(w => w is not null && w.Any(e => e.User == user && e.Item >= 0 && e.Ticks != 0));

    [Fact]
    public async Task After_forget_the_counts_equal_those_of_a_tracker_that_never_saw_the_user()
    {
        List<InteractionEvent> events = Events();
        await using var forgot = new PreferenceTracker(Options());
        await using var never = new PreferenceTracker(Options());
        forgot.Observe(events);
        never.Observe(events.Where(e => e.UserId != Customer(Victim)));
        await forgot.FlushAsync();
        await never.FlushAsync();
        Assert.True(await forgot.ForgetAsync(Customer(Victim)));
        await AssertCountsEqual(forgot, never);
    }

    /// <summary>
    /// Asserts that <paramref name="forgot"/>'s popularity, trending, co-occurrence and per-item counts equal those of
    /// <paramref name="never"/>, a tracker fed the same stream without the erased users (items compared by id).
    /// </summary>
    internal static async Task AssertCountsEqual(PreferenceTracker forgot, PreferenceTracker never)
    {
        // The two trackers number the items differently (first sight): compare by item id.
        var forgotIndex = Enumerable.Range(0, forgot.Statistics.Items).ToDictionary(forgot.ItemIdOf);
        int items = never.Statistics.Items;
        PublishedVersion a = forgot.CurrentVersion, b = never.CurrentVersion;
        int onlyVictim = 0;
        foreach ((string id, int i) in forgotIndex)
        {
            int j = Enumerable.Range(0, items).FirstOrDefault(x => never.ItemIdOf(x) == id, -1);
            if (j < 0)
            {
                onlyVictim++;
                Assert.Equal(0f, a.Totals[i]);
                Assert.Equal(0f, a.Trending[i]);
                continue;
            }

            // Totals are Σ_kind count·weight over integer counts, summed in one order: exact.
            Assert.Equal(b.Totals[j], a.Totals[i]);

            // Trending is a double sum of 2^(t/h) terms; taking the victim's terms out differs from never adding them by
            // rounding of the double sums only (same reference time, same stream time), far below this float tolerance.
            Assert.Equal(b.Trending[j], a.Trending[i], Math.Max(1e-6f * Math.Abs(b.Trending[j]), 1e-12f));
        }

        // The model's co-occurrence and per-item counts: whole numbers, exact.
        (float Users, float Repeats, float Lines)[] countsA = [], countsB = [];
        float[] coocA = [], coocB = [];
        long pairsA = 0, pairsB = 0;
        string[] ids = [.. Enumerable.Range(0, items).Select(never.ItemIdOf)];
        await forgot.ReadLearnerAsync((m, _) => (countsA, coocA, pairsA) = Counts((RepeatExplore)m, [.. ids.Select(x => forgotIndex[x])]));
        await never.ReadLearnerAsync((m, _) => (countsB, coocB, pairsB) = Counts((RepeatExplore)m, [.. Enumerable.Range(0, items)]));
        Assert.Equal(countsB, countsA);
        Assert.Equal(coocB, coocA);
        Assert.Equal(pairsB, pairsA); // no zero-count pair left behind among the items only the victim bought
        Assert.Contains(countsB, c => c.Repeats > 0); // the scenario has repeats, so the repeat counts were tested
        Assert.True(items > 0);
    }

    private static ((float, float, float)[] Counts, float[] Cooc, long Pairs) Counts(RepeatExplore model, int[] items)
    {
        var cooc = new float[items.Length * items.Length];
        for (int x = 0; x < items.Length; x++)
        {
            for (int y = 0; y < items.Length; y++)
            {
                cooc[(x * items.Length) + y] = x == y ? 0f : model.CooccurrenceOf(items[x], items[y]);
            }
        }

        return ([.. items.Select(model.ItemCountsOf)], cooc, model.CooccurrencePairs);
    }

    [Fact]
    public async Task Forget_voids_queued_events_and_a_returning_id_is_a_new_user()
    {
        await using var tracker = new PreferenceTracker(Options());
        List<InteractionEvent> events = Events();
        tracker.Observe(events.Take(100));
        await tracker.FlushAsync();
        byte[] empty = await tracker.CaptureStateAsync();

        // Forgetting an unknown user is a no-op: false, and the image is unchanged.
        Assert.False(await tracker.ForgetAsync("nobody-ever-seen-here"));
        Assert.Equal(empty, await tracker.CaptureStateAsync());

        int usersBefore = tracker.Statistics.Users;
        tracker.Observe(events.Skip(100)); // some still queued when the erasure arrives
        Assert.True(tracker.Forget(Customer(Victim)));
        await tracker.FlushAsync();
        byte[] image = await tracker.CaptureStateAsync();
        Assert.False(ContainsText(image, Customer(Victim)));

        tracker.Observe(new InteractionEvent(Customer(Victim), "i1", events[^1].Timestamp, EventKind.Purchase));
        (int user, UserLog? log) = tracker.Find(Customer(Victim));
        Assert.True(user >= usersBefore, "a returning id gets a new index");
        Assert.Equal(1, log!.Count);
    }

    [Fact]
    public async Task Forget_and_recommend_from_many_threads_do_not_throw()
    {
        await using var tracker = new PreferenceTracker(Options());
        List<InteractionEvent> events = Events(users: 24, days: 10);
        tracker.Observe(events);
        await tracker.FlushAsync();
        using var stop = new CancellationTokenSource();
        Task[] readers = [.. Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var rng = new Random(t);
            while (!stop.IsCancellationRequested)
            {
                string id = Customer(rng.Next(24));
                Assert.True(tracker.Recommend(id, 5).Count > 0);
                _ = tracker.GetProfile(id);
                _ = tracker.FindAudience("i1", 3);
            }
        }))];
        Task[] forgetters = [.. Enumerable.Range(0, 3).Select(t => Task.Run(async () =>
        {
            for (int u = t; u < 24; u += 3)
            {
                await tracker.ForgetAsync(Customer(u));
                tracker.Observe(new InteractionEvent(Customer(u), "i2", events[^1].Timestamp, EventKind.Purchase));
            }
        }))];
        await Task.WhenAll(forgetters);
        stop.Cancel();
        await Task.WhenAll(readers);
        await tracker.FlushAsync();
        Assert.Equal(48, tracker.Statistics.Users); // 24 reserved indices and 24 returning users
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// The facade's behaviour: cold start, freshness, feedback, filters, determinism and the learner's catch-up. Oracles:
/// hand-computed decayed weights, the tracker's own history, and a second tracker fed the same events.
/// </summary>
public class PreferenceTrackerTests
{
    [Fact]
    public async Task An_empty_tracker_answers_every_read_with_an_empty_cold_start_list()
    {
        await using var tracker = Create();
        RecommendationList list = tracker.Recommend("nobody", 5);
        Assert.Empty(list);
        Assert.True(list.IsColdStart);
        Assert.Equal(0, list.ModelVersion);
        await tracker.FlushAsync(); // nothing queued: completes at once
        Assert.Equal(0, tracker.ModelVersion);
    }

    [Fact]
    public async Task Unknown_users_get_trending_items_ranked_by_their_decayed_weight()
    {
        await using var tracker = Create(new TrackerOptions { MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, TrendingHalfLife = TimeSpan.FromDays(1) });
        // Item a: 3 purchases 4 days ago → 3·2⁻⁴ = 0.1875. Item b: one purchase now → 1. Item c: 1 click now → 0.25.
        DateTimeOffset now = Start.AddDays(4);
        for (int u = 0; u < 3; u++)
        {
            tracker.Observe(new InteractionEvent($"old{u}", "a", Start, EventKind.Purchase));
        }

        tracker.Observe(new InteractionEvent("x", "b", now, EventKind.Purchase));
        tracker.Observe(new InteractionEvent("y", "c", now, EventKind.Click));
        await tracker.FlushAsync();

        RecommendationList list = tracker.Recommend("stranger", 3);
        Assert.True(list.IsColdStart);
        Assert.Equal(["b", "c", "a"], list.Select(r => r.ItemId));
        Assert.Equal(1f, list[0].Score, 5);
        Assert.Equal(0.25f, list[1].Score, 5);
        Assert.Equal(0.1875f, list[2].Score, 5);
        Assert.All(list, r => Assert.Equal(RecommendationReason.Trending, r.Reason));
    }

    [Fact]
    public async Task A_purchase_changes_the_users_next_recommendation_before_the_learner_sees_it()
    {
        await using var tracker = Create();
        tracker.Observe(Events(users: 30, items: 40, categories: 4, days: 20, seed: 1));
        await tracker.FlushAsync();
        RecommendationList before = tracker.Recommend(UserId(3), 5);
        Assert.False(before.IsColdStart);
        string top = before[0].ItemId;
        long version = tracker.ModelVersion;

        tracker.Observe(new InteractionEvent(UserId(3), top, Start.AddDays(21), EventKind.Purchase));
        RecommendationList after = tracker.Recommend(UserId(3), 5);

        Assert.Equal(version, after.ModelVersion); // same model version: only the live history changed
        Assert.Equal(before.HistoryLength + 1, after.HistoryLength);
        Assert.DoesNotContain(after, r => r.ItemId == top);
        RecommendationList rebuy = tracker.Recommend(UserId(3), 40, new RecommendOptions { ExcludePurchased = false });
        Assert.Contains(rebuy, r => r.ItemId == top && r.Reason == RecommendationReason.Repeat);
    }

    [Fact]
    public async Task A_dismissed_item_disappears_for_that_user_only_and_returns_after_the_dismissal_duration()
    {
        var options = new TrackerOptions { MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, DismissalDuration = TimeSpan.FromDays(3) };
        await using var tracker = Create(options);
        tracker.Observe(Events(users: 30, items: 40, categories: 4, days: 20, seed: 2));
        await tracker.FlushAsync();
        string user = UserId(5), other = UserId(9);
        string dismissed = tracker.Recommend(user, 1)[0].ItemId;

        tracker.Feedback(user, dismissed, FeedbackOutcome.Dismissed);
        await tracker.FlushAsync();
        Assert.DoesNotContain(tracker.Recommend(user, 40), r => r.ItemId == dismissed);
        Assert.Contains(tracker.Recommend(user, 40, new RecommendOptions { ExcludeDismissed = false }), r => r.ItemId == dismissed);
        int otherRank = tracker.Recommend(other, 40).Select(r => r.ItemId).ToList().IndexOf(dismissed);

        // Four days of stream time later the suppression has expired.
        tracker.Observe(new InteractionEvent(other, "i0", Start.AddDays(24), EventKind.View));
        await tracker.FlushAsync();
        Assert.Contains(tracker.Recommend(user, 40, new RecommendOptions { ExcludePurchased = false }), r => r.ItemId == dismissed);
        Assert.True(otherRank >= -1);
        Assert.Equal(1, tracker.Statistics.FeedbackReceived);
    }

    [Fact]
    public async Task Clicks_and_purchases_given_as_feedback_become_events_in_the_users_history()
    {
        await using var tracker = Create();
        tracker.Observe(new InteractionEvent("u", "a", Start, EventKind.Purchase));
        tracker.Feedback("u", "b", FeedbackOutcome.Clicked);
        tracker.Feedback("u", "c", FeedbackOutcome.Bought, Start.AddHours(1));
        tracker.Feedback("u", "d", FeedbackOutcome.Shown);

        (int user, var log) = tracker.Find("u");
        Assert.True(user >= 0);
        Interaction[] history = log!.Recent(100).ToArray();
        Assert.Equal([EventKind.Purchase, EventKind.Click, EventKind.Purchase], history.Select(e => e.Kind));
        Assert.Equal(Start.UtcTicks, history[1].Ticks); // default time stamp = stream time
        Assert.Equal(3, tracker.Statistics.EventsObserved);
        Assert.Equal(3, tracker.Statistics.FeedbackReceived);
        Assert.DoesNotContain(tracker.Recommend("u", 10), r => r.ItemId is "a" or "c");
    }

    [Fact]
    public async Task Category_and_candidate_filters_only_let_matching_items_through()
    {
        await using var tracker = Create();
        for (int i = 0; i < 40; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 4), $"ITEM {i}");
        }

        tracker.Observe(Events(users: 30, items: 40, categories: 4, days: 15, seed: 3));
        await tracker.FlushAsync();
        foreach (string user in new[] { UserId(1), "stranger" })
        {
            RecommendationList inCategory = tracker.Recommend(user, 20, new RecommendOptions { Category = "c2" });
            Assert.NotEmpty(inCategory);
            Assert.All(inCategory, r => Assert.Equal(2, int.Parse(r.ItemId[1..], System.Globalization.CultureInfo.InvariantCulture) % 4));
            var allowed = new HashSet<string> { "i3", "i7", "nope" };
            RecommendationList candidates = tracker.Recommend(user, 20, new RecommendOptions { Candidates = allowed, ExcludePurchased = false });
            Assert.Subset(allowed, candidates.Select(r => r.ItemId).ToHashSet());
        }

        Assert.Empty(tracker.Recommend(UserId(1), 5, new RecommendOptions { Category = "no such category" }));
    }

    [Fact]
    public async Task The_same_events_and_seed_give_the_same_versions_and_recommendations()
    {
        List<InteractionEvent> events = Events(users: 25, items: 30, categories: 3, days: 12, seed: 4);
        var answers = new List<string>[2];
        for (int run = 0; run < 2; run++)
        {
            await using var tracker = new PreferenceTracker(Deterministic(batch: 50), null, null);
            foreach (InteractionEvent e in events)
            {
                tracker.Observe(e);
            }

            await tracker.FlushAsync();
            answers[run] = Enumerable.Range(0, 26).Select(u => $"{tracker.ModelVersion}|{Render(tracker.Recommend(UserId(u), 8))}").ToList();
        }

        Assert.Equal(answers[0], answers[1]);
        Assert.Contains(answers[0], a => !a.Contains("Trending", StringComparison.Ordinal)); // personalised answers were compared
    }

    [Fact]
    public async Task The_learner_publishes_a_version_per_micro_batch_and_flush_waits_for_all_of_them()
    {
        await using var tracker = Create(Deterministic(batch: 100));
        tracker.Observe(Events(users: 10, items: 20, categories: 2, days: 25, seed: 5)); // 250 events
        await tracker.FlushAsync();
        TrackerStatistics stats = tracker.Statistics;
        Assert.Equal(250, stats.EventsObserved);
        Assert.Equal(250, stats.EventsLearned);
        Assert.Equal(0, stats.QueueDepth);
        Assert.Equal(3, stats.ModelVersion); // 100 + 100 + the flushed 50
        Assert.Equal(10, stats.Users);
    }

    [Fact]
    public async Task The_flush_interval_cuts_a_short_batch_on_the_time_providers_clock()
    {
        var time = new ManualTime();
        await using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 1000, FlushInterval = TimeSpan.FromSeconds(1) },
            SmallLearner(), time);
        tracker.Observe(new InteractionEvent("u", "a", Start, EventKind.Purchase));
        tracker.Observe(new InteractionEvent("u", "b", Start, EventKind.Purchase));
        Assert.Equal(0, tracker.ModelVersion);
        time.Advance(TimeSpan.FromSeconds(1));
        SpinWait.SpinUntil(() => tracker.ModelVersion == 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1, tracker.ModelVersion);
        Assert.Equal(2, tracker.Statistics.EventsLearned);
    }

    [Fact]
    public async Task Drop_oldest_keeps_observing_and_counts_what_learning_lost()
    {
        var gate = new ManualResetEventSlim(false);
        var options = new TrackerOptions { MicroBatchSize = 2, QueueCapacity = 4, QueueFullPolicy = QueueFullPolicy.DropOldest, FlushInterval = Timeout.InfiniteTimeSpan };
        await using var tracker = new PreferenceTracker(options, new GatedLearner(new LifelongPrefs.Models.ItemKnn(), gate), null);
        for (int i = 0; i < 20; i++)
        {
            tracker.Observe(new InteractionEvent("u", $"i{i}", Start.AddMinutes(i), EventKind.Purchase));
        }

        gate.Set();
        await tracker.FlushAsync();
        TrackerStatistics stats = tracker.Statistics;
        Assert.Equal(20, stats.EventsObserved);
        Assert.True(stats.EventsDroppedFromLearning > 0);
        Assert.Equal(20, stats.EventsLearned + stats.EventsDroppedFromLearning);
        Assert.Equal(20, tracker.Find("u").Log!.Recent(100).Length); // the history lost nothing
    }

    [Fact]
    public async Task Throw_policy_rejects_the_event_when_the_queue_is_full_and_records_nothing()
    {
        var gate = new ManualResetEventSlim(false);
        var options = new TrackerOptions { MicroBatchSize = 1, QueueCapacity = 2, QueueFullPolicy = QueueFullPolicy.Throw, FlushInterval = Timeout.InfiniteTimeSpan };
        await using var tracker = new PreferenceTracker(options, new GatedLearner(new LifelongPrefs.Models.ItemKnn(), gate), null);
        int accepted = 0;
        InvalidOperationException? error = null;
        for (int i = 0; i < 10 && error is null; i++)
        {
            try
            {
                tracker.Observe(new InteractionEvent("u", $"i{i}", Start.AddMinutes(i), EventKind.Purchase));
                accepted++;
            }
            catch (InvalidOperationException e)
            {
                error = e;
            }
        }

        Assert.NotNull(error);
        Assert.Contains("QueueCapacity", error!.Message, StringComparison.Ordinal);
        Assert.Equal(accepted, tracker.Statistics.EventsObserved);
        Assert.Equal(accepted, tracker.Find("u").Log!.Recent(100).Length);
        gate.Set();
        await tracker.FlushAsync();
    }

    [Fact]
    public async Task Histories_keep_the_newest_events_up_to_the_configured_length()
    {
        await using var tracker = Create(new TrackerOptions { MaxHistoryPerUser = 5, FlushInterval = Timeout.InfiniteTimeSpan });
        for (int i = 0; i < 23; i++)
        {
            tracker.Observe(new InteractionEvent("u", $"i{i}", Start.AddMinutes(i), EventKind.Purchase));
            Interaction[] kept = tracker.Find("u").Log!.Recent(5).ToArray();
            Assert.Equal(Math.Min(i + 1, 5), kept.Length);
            Assert.Equal(Start.AddMinutes(i).UtcTicks, kept[^1].Ticks);
            Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First.Ticks < p.Second.Ticks));
        }
    }

    [Fact]
    public async Task Baskets_follow_the_shops_basket_ids_and_without_one_the_time_stamp()
    {
        await using var tracker = Create();
        tracker.Observe(new InteractionEvent("u", "a", Start, EventKind.Purchase, BasketId: "B1"));
        tracker.Observe(new InteractionEvent("u", "b", Start.AddMinutes(1), EventKind.Purchase, BasketId: "B1"));
        tracker.Observe(new InteractionEvent("u", "c", Start.AddMinutes(2), EventKind.Purchase, BasketId: "B2"));
        tracker.Observe(new InteractionEvent("u", "d", Start.AddMinutes(3), EventKind.Purchase));
        tracker.Observe(new InteractionEvent("u", "e", Start.AddMinutes(3), EventKind.Purchase));
        Interaction[] h = tracker.Find("u").Log!.Recent(10).ToArray();
        Assert.Equal(h[0].BasketKey, h[1].BasketKey);
        Assert.NotEqual(h[1].BasketKey, h[2].BasketKey);
        Assert.Equal(h[3].BasketKey, h[4].BasketKey);
        Assert.NotEqual(h[2].BasketKey, h[3].BasketKey);
    }

    [Fact]
    public async Task The_span_overload_ranks_like_the_list_and_allocates_nothing_once_warm()
    {
        await using var tracker = Create();
        for (int i = 0; i < 40; i++)
        {
            tracker.RegisterItem(ItemId(i), CategoryOf(i, 4));
        }

        tracker.Observe(Events(users: 30, items: 40, categories: 4, days: 15, seed: 6));
        await tracker.FlushAsync();
        var buffer = new Recommendation[10];
        var filtered = new RecommendOptions { Category = "c1", Candidates = new HashSet<string> { "i1", "i5", "i9", "i13" } };
        foreach (string user in new[] { UserId(2), "stranger" })
        {
            foreach (RecommendOptions? options in new[] { null, filtered })
            {
                (int count, long version) = tracker.RecommendInto(user, buffer, options);
                RecommendationList list = tracker.Recommend(user, buffer.Length, options);
                Assert.Equal(list.ModelVersion, version);
                Assert.Equal(Render(list), Render(buffer[..count]));
                Infrastructure.Allocations.AssertNone($"RecommendInto({user})", () => tracker.RecommendInto(user, buffer, options));
            }
        }
    }
}

/// <summary>A <see cref="TimeProvider"/> that moves only when told, for the flush-interval test.</summary>
internal sealed class ManualTime : TimeProvider
{
    private readonly List<(Action Fire, TimeSpan Period)> _timers = [];
    private DateTimeOffset _now = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_timers)
        {
            _timers.Add((() => callback(state), period));
        }

        return new NoTimer();
    }

    internal void Advance(TimeSpan by)
    {
        _now += by;
        List<(Action Fire, TimeSpan Period)> timers;
        lock (_timers)
        {
            timers = [.. _timers];
        }

        foreach ((Action fire, _) in timers)
        {
            fire();
        }
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Lifelong;

/// <summary>
/// Bad input on every entry point of the tracker, driven by a seeded generator of valid and invalid calls: every call
/// either succeeds or throws an <see cref="ArgumentException"/> (or a subclass) that names the argument, a rejected
/// call changes nothing observable (counters, the user's history), and afterwards the tracker still learns and
/// recommends finite scores.
/// </summary>
public class TrackerBadInputProperties
{
    private const int CallsPerRun = 500;

    [Property(MaxTest = 20)]
    public void Every_call_succeeds_or_is_rejected_with_an_argument_exception_that_changes_nothing(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        using var tracker = new PreferenceTracker(new TrackerOptions { MicroBatchSize = 16, MaxIdLength = 12, MaxResults = 50,
            FlushInterval = Timeout.InfiniteTimeSpan, LateEventTolerance = TimeSpan.FromHours(1) }, SmallLearner(), null);
        DateTimeOffset clock = Start;
        int rejected = 0;
        for (int call = 0; call < CallsPerRun; call++)
        {
            clock = clock.AddMinutes(rng.Next(0, 30));
            string user = Id(rng, "u"), item = Id(rng, "i");
            var before = Observable(tracker, user);
            try
            {
                switch (rng.Next(5))
                {
                    case 0:
                    case 1:
                        tracker.Observe(new InteractionEvent(user, item, Time(rng, clock), Kind(rng), Number(rng), Math.Abs(Number(rng)) * (rng.Next(8) == 0 ? -1 : 1),
                            Attributes: rng.Next(4) == 0 ? new ItemAttributes(rng.Next(2) == 0 ? null : Id(rng, "c"), Number(rng)) : null));
                        break;
                    case 2:
                        RecommendationList list = tracker.Recommend(user, rng.Next(-3, 60), rng.Next(2) == 0 ? null : new RecommendOptions { Category = Id(rng, "c") });
                        Assert.All(list, r => Assert.True(float.IsFinite(r.Score)));
                        break;
                    case 3:
                        tracker.Feedback(user, item, (FeedbackOutcome)rng.Next(-1, 5), rng.Next(3) == 0 ? Time(rng, clock) : null);
                        break;
                    default:
                        tracker.RegisterItem(item, rng.Next(2) == 0 ? null : Id(rng, "c"), rng.Next(2) == 0 ? null : "SOME ITEM");
                        break;
                }
            }
            catch (ArgumentException e)
            {
                rejected++;
                Assert.False(string.IsNullOrEmpty(e.ParamName), $"'{e.Message}' names no argument");
                Assert.Equal(before, Observable(tracker, user));
            }
        }

        Assert.True(rejected > 0 && rejected < CallsPerRun, $"{rejected} of {CallsPerRun} calls rejected: the generator is unbalanced");
        tracker.FlushAsync().GetAwaiter().GetResult();
        Assert.NotEmpty(tracker.Recommend("u1", 5, new RecommendOptions { ExcludePurchased = false }));
    }

    private static (long Observed, int Users, int Items, long Feedback, int History) Observable(PreferenceTracker tracker, string? user)
    {
        TrackerStatistics s = tracker.Statistics;
        int history = user is null ? 0 : tracker.Find(user).Log?.Recent(int.MaxValue).Length ?? 0;
        return (s.EventsObserved, s.Users, s.Items, s.FeedbackReceived, history);
    }

    /// <summary>Mostly a small valid id; sometimes null, empty or too long.</summary>
    private static string Id(Random rng, string prefix) => rng.Next(12) switch
    {
        0 => null!,
        1 => "",
        2 => new string('x', 13),
        _ => prefix + rng.Next(6),
    };

    private static DateTimeOffset Time(Random rng, DateTimeOffset clock) =>
        rng.Next(10) == 0 ? clock.AddDays(-2) : clock; // sometimes far too late for its user

    private static EventKind Kind(Random rng) => rng.Next(15) == 0 ? (EventKind)42 : (EventKind)rng.Next(6);

    private static float Number(Random rng) => rng.Next(12) switch
    {
        0 => float.NaN,
        1 => float.PositiveInfinity,
        2 => 0f,
        3 => -2f,
        _ => 1 + rng.Next(4),
    };
}

using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using static LifelongPrefs.Tests.Privacy.TrackerFuzzCalls;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// The API fuzz: seeded random interleavings of valid and invalid calls of every public tracker entry point (Observe
/// single and batch, Recommend, RecommendInto, Feedback, RegisterItem, Explain, GetProfile, PredictInterests,
/// FindAudience, Forget, FlushAsync). Every call succeeds or throws an <see cref="ArgumentException"/>-family
/// exception; for a sample of rejected calls the tracker's whole state image is identical before and after; after
/// every flush no model parameter is NaN or infinite; at the end recommendations still work.
/// 20 runs × 600 calls = 12,000 calls. The generators are shared (<see cref="TrackerFuzzCalls"/>); checkpoints and
/// recoveries are interleaved by <c>Persistence/TrackerPersistenceFuzzProperties</c>.
/// </summary>
public class TrackerApiFuzzProperties
{
    private const int CallsPerRun = 600;

    [Property(MaxTest = 20, Replay = "4242424242,1357913579")]
    public void Every_call_succeeds_or_is_rejected_with_an_argument_exception_that_changes_nothing(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        using var tracker = new PreferenceTracker(Options(seed.Get));
        DateTimeOffset clock = Start;
        int rejected = 0, checkedRejections = 0, succeeded = 0;
        for (int call = 0; call < CallsPerRun; call++)
        {
            clock = clock.AddMinutes(rng.Next(0, 20));
            int op = rng.Next(Operations);
            bool check = op != FlushOp && rng.Next(16) == 0; // compare whole state images around this call
            byte[]? before = null;
            if (check)
            {
                tracker.FlushAsync().GetAwaiter().GetResult(); // an idle learner, so only the call itself could change the image
                before = tracker.CaptureStateAsync().GetAwaiter().GetResult();
            }

            FuzzCall drawn = Draw(op, rng, clock);
            try
            {
                _ = drawn.Apply(tracker);
                succeeded++;
            }
            catch (ArgumentException e)
            {
                // ArgumentNullException and ArgumentOutOfRangeException derive from it; anything else fails the property.
                rejected++;
                Assert.False(string.IsNullOrEmpty(e.ParamName), $"'{e.Message}' names no argument");
                if (before is not null)
                {
                    checkedRejections++;
                    Assert.True(before.AsSpan().SequenceEqual(tracker.CaptureStateAsync().GetAwaiter().GetResult().AsSpan()),
                        $"call {call} ({drawn}) was rejected with '{e.Message}' but changed the tracker's state");
                }
            }
            catch (Exception e) when (IsDocumentedRefusal(drawn, e, tracker))
            {
            }

            if (op == FlushOp)
            {
                AssertParametersFinite(tracker);
            }
        }

        Assert.True(rejected > CallsPerRun / 10 && succeeded > CallsPerRun / 3, $"{rejected} rejected, {succeeded} succeeded: the generator is unbalanced");
        Assert.True(checkedRejections > 0, "no rejected call had its state image compared");
        tracker.FlushAsync().GetAwaiter().GetResult();
        AssertParametersFinite(tracker);
        tracker.Observe(new InteractionEvent("u1", "i1", clock, EventKind.Purchase));
        tracker.Observe(new InteractionEvent("u1", "i2", clock, EventKind.Purchase));
        tracker.FlushAsync().GetAwaiter().GetResult();
        RecommendationList list = tracker.Recommend("u1", 5, new RecommendOptions { ExcludePurchased = false });
        Assert.NotEmpty(list);
        Assert.All(list, r => Assert.True(float.IsFinite(r.Score)));
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>
/// One random call of a public tracker entry point, drawn up front so that it can be applied to two trackers (the
/// persistence fuzz feeds an uninterrupted oracle exactly the calls the persisted tracker got).
/// </summary>
/// <param name="Op">Which entry point (<see cref="TrackerFuzzCalls.Names"/>).</param>
/// <param name="Records">How many journal event or feedback records the call writes when it is accepted.</param>
/// <param name="Apply">The call, with every argument already drawn; returns what the entry point returned (<see langword="null"/> for a void or a read one).</param>
internal sealed record FuzzCall(int Op, int Records, Func<PreferenceTracker, object?> Apply)
{
    /// <summary>Whether the call may change the tracker (so an oracle must get it too); reads change nothing.</summary>
    internal bool Writes => Op is <= 3 or TrackerFuzzCalls.FeedbackOp or TrackerFuzzCalls.RegisterOp or TrackerFuzzCalls.ForgetOp or TrackerFuzzCalls.FlushOp;

    public override string ToString() => TrackerFuzzCalls.Names[Op];
}

/// <summary>
/// The generators of the API fuzz properties: valid and invalid ids, events, times, k values and options, for every
/// public entry point. Shared by <see cref="TrackerApiFuzzProperties"/> (in memory) and the persistence fuzz.
/// </summary>
internal static class TrackerFuzzCalls
{
    /// <summary>The number of operations <see cref="Draw"/> knows (0 to <see cref="FlushOp"/>).</summary>
    internal const int Operations = 14;
    internal const int FeedbackOp = 5;
    internal const int RegisterOp = 6;
    internal const int FindAudienceOp = 10;
    internal const int ForgetOp = 11;
    internal const int FlushOp = 13;

    internal static readonly string[] Names =
    [
        "Observe", "Observe", "Observe", "Observe(batch)", "Recommend", "Feedback", "RegisterItem", "Explain", "GetProfile",
        "PredictInterests", "FindAudience", "Forget", "RecommendInto", "FlushAsync",
    ];

    internal static readonly DateTimeOffset Start = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly float[] Numbers = [1f, 2.5f, 7f, 0f, -1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e30f, -0f];

    /// <summary>
    /// The fuzz's settings: count-only micro-batches (so batch boundaries depend on the calls alone), small limits that
    /// the generators cross (ids of 12, results of 50, texts of 64 characters) and a one-hour late-event tolerance.
    /// </summary>
    internal static TrackerOptions Options(int seed, PersistenceOptions? persistence = null) => new()
    {
        MicroBatchSize = 16, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8, MaxIdLength = 12, MaxResults = 50,
        MaxTextLength = 64, LateEventTolerance = TimeSpan.FromHours(1), Seed = seed, Persistence = persistence,
    };

    /// <summary>Draws the arguments of operation <paramref name="op"/> (0 to <see cref="Operations"/> − 1) and returns the call.</summary>
    internal static FuzzCall Draw(int op, Random rng, DateTimeOffset clock)
    {
        string user = Id(rng, "u"), item = Id(rng, "i");
        switch (op)
        {
            case 0:
            case 1:
            case 2:
                InteractionEvent single = Event(rng, user, item, clock);
                return new FuzzCall(op, 1, t => Void(() => t.Observe(single)));
            case 3:
                InteractionEvent[] batch = [.. Enumerable.Range(0, rng.Next(0, 5)).Select(_ => rng.Next(10) == 0 ? null! : Event(rng, Id(rng, "u"), Id(rng, "i"), clock))];
                return new FuzzCall(op, batch.Length, t => Void(() => t.Observe(batch)));
            case 4:
                int k = rng.Next(6) switch { 0 => 0, 1 => -rng.Next(1, 5), 2 => 51, 3 => int.MaxValue, 4 => int.MinValue, _ => rng.Next(1, 51) };
                RecommendOptions? options = rng.Next(3) == 0 ? new RecommendOptions { Category = Id(rng, "c") } : null;
                return new FuzzCall(op, 0, t => Void(() => Assert.All(t.Recommend(user, k, options), r => Assert.True(float.IsFinite(r.Score)))));
            case FeedbackOp:
                var outcome = (FeedbackOutcome)rng.Next(-1, 5);
                DateTimeOffset? at = rng.Next(3) == 0 ? Time(rng, clock) : null;
                return new FuzzCall(op, 1, t => Void(() => t.Feedback(user, item, outcome, at)));
            case RegisterOp:
                string? category = rng.Next(2) == 0 ? null : Id(rng, "c");
                string? text = rng.Next(3) switch { 0 => null, 1 => "A RED MUG", _ => new string('t', 65) };
                return new FuzzCall(op, 0, t => Void(() => t.RegisterItem(item, category, text)));
            case 7:
                return new FuzzCall(op, 0, t => Void(() => Assert.True(float.IsFinite(t.Explain(user, item).Score))));
            case 8:
                return new FuzzCall(op, 0, t => Void(() => _ = t.GetProfile(user)));
            case 9:
                TimeSpan horizon = rng.Next(4) switch { 0 => TimeSpan.Zero, 1 => TimeSpan.FromDays(-3), 2 => TimeSpan.FromDays(4000), _ => TimeSpan.FromDays(30) };
                return new FuzzCall(op, 0, t => Void(() => _ = t.PredictInterests(user, horizon)));
            case FindAudienceOp:
                if (rng.Next(3) == 0)
                {
                    string audienceCategory = Id(rng, "c");
                    int categoryCount = rng.Next(-2, 60);
                    return new FuzzCall(op, 0, t => Void(() => _ = t.FindCategoryAudience(audienceCategory, categoryCount)));
                }

                int count = rng.Next(-2, 60);
                return new FuzzCall(op, 0, t => Void(() => _ = t.FindAudience(item, count)));
            case ForgetOp:
                return new FuzzCall(op, 0, t => t.Forget(user));
            case 12:
                int length = rng.Next(4) == 0 ? 0 : rng.Next(1, 60);
                return new FuzzCall(op, 0, t => Void(() => _ = t.RecommendInto(user, new Recommendation[length])));
            case FlushOp:
                return new FuzzCall(op, 0, t => Void(() => t.FlushAsync().GetAwaiter().GetResult()));
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, $"there are {Operations} operations");
        }
    }

    /// <summary>
    /// Whether <paramref name="call"/> failing with <paramref name="error"/> is a documented refusal other than bad
    /// input: FindAudience before the first model version (no user vectors to rank yet).
    /// </summary>
    internal static bool IsDocumentedRefusal(FuzzCall call, Exception error, PreferenceTracker tracker) =>
        error is NotSupportedException && call.Op == FindAudienceOp && tracker.ModelVersion == 0;

    /// <summary>Asserts that no model parameter or optimizer moment of the default learner is NaN or infinite.</summary>
    internal static void AssertParametersFinite(PreferenceTracker tracker)
    {
        bool finite = false;
        tracker.ReadLearnerAsync((model, _) => finite = ((RepeatExplore)model).AllParametersFinite()).GetAwaiter().GetResult();
        Assert.True(finite, "a model parameter or moment is NaN or infinite");
    }

    /// <summary>Runs a call whose answer the fuzz does not compare (a void one, or a read checked in place).</summary>
    private static object? Void(Action call)
    {
        call();
        return null;
    }

    private static InteractionEvent Event(Random rng, string user, string item, DateTimeOffset clock)
    {
        EventKind kind = rng.Next(12) == 0 ? (EventKind)rng.Next(6, 40) : (EventKind)rng.Next(6);
        float quantity = rng.Next(3) == 0 ? Numbers[rng.Next(Numbers.Length)] : 1 + rng.Next(4);
        float value = rng.Next(4) == 0 ? Numbers[rng.Next(Numbers.Length)] : rng.Next(20);
        DateTimeOffset at = Time(rng, clock);
        string? basket = rng.Next(3) == 0 ? Id(rng, "b") : null;
        return new InteractionEvent(user, item, at, kind, quantity, value, basket, rng.Next(4) == 0 ? Attributes(rng) : null);
    }

    /// <summary>A category (sometimes a bad id), a price (sometimes not finite: prices are carried, never learned from) and a text (sometimes too long).</summary>
    private static ItemAttributes Attributes(Random rng)
    {
        string? category = rng.Next(2) == 0 ? null : Id(rng, "c");
        float? price = rng.Next(3) switch { 0 => null, 1 => Numbers[rng.Next(Numbers.Length)], _ => rng.Next(1, 50) / 4f };
        string? text = rng.Next(4) switch { 0 => null, 1 => "ä mug, blue", 2 => new string('t', 65), _ => "" };
        return new ItemAttributes(category, price, text);
    }

    /// <summary>
    /// Mostly now; sometimes minutes late (within tolerance) or days late (rejected for a known user); sometimes the same
    /// instant written in another time zone (the journal keeps the offset).
    /// </summary>
    private static DateTimeOffset Time(Random rng, DateTimeOffset clock) => rng.Next(10) switch
    {
        0 => clock.AddDays(-rng.Next(2, 30)),
        1 => clock.AddMinutes(-rng.Next(1, 50)),
        2 => clock.ToOffset(TimeSpan.FromMinutes(15 * rng.Next(-48, 57))),
        _ => clock,
    };

    /// <summary>Mostly a small valid id; sometimes null, empty or longer than MaxIdLength (12).</summary>
    private static string Id(Random rng, string prefix) => rng.Next(14) switch
    {
        0 => null!,
        1 => "",
        2 => new string('x', rng.Next(2) == 0 ? 13 : 100_000),
        _ => prefix + rng.Next(8),
    };
}

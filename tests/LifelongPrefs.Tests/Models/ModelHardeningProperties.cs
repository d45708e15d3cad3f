using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The adversarial run over the public model API, kept as seeded properties: every call either succeeds or throws
/// an <see cref="ArgumentException"/>-family exception; a rejected call changes nothing (the saved bytes are
/// those from before it); no score is ever NaN; and a second <c>Fit</c> retrains from scratch.
/// </summary>
public class ModelHardeningProperties
{
    private const int Users = 14, Items = 16;

    public static TheoryData<string> Models => CheckpointContinuationTests.Models;

    /// <summary>Ways to spoil one event; each must be rejected by every model, at Fit, Update and Score alike.</summary>
    private static readonly Func<Interaction, Interaction>[] Spoilers =
    [
        e => e with { Quantity = float.NaN },
        e => e with { Quantity = float.PositiveInfinity },
        e => e with { Value = float.NegativeInfinity },
        e => e with { Value = float.NaN },
        e => e with { Kind = (EventKind)17 },
        e => e with { Ticks = -1 },
        e => e with { Ticks = long.MaxValue },
        e => e with { Basket = -7 },
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void Random_calls_succeed_or_throw_argument_errors_and_rejected_calls_change_nothing(string name)
    {
        ISavableRecommender model = CheckpointContinuationTests.Create(name);
        List<Interaction> events = CheckpointContinuationTests.Baskets(Users, Items, 4, 0, 3);
        model.Fit(events, Users, Items);
        int users = Users, items = Items;
        var random = new Random(name.Sum(c => c * 31));   // a stable seed per model (string hashes are randomised per process)
        for (int call = 0; call < 60; call++)
        {
            byte[] before = CheckpointContinuationTests.Saved(model);
            int kind = random.Next(6);
            bool mustReject = kind >= 2;
            Exception? error = Record.Exception(() =>
            {
                switch (kind)
                {
                    case 0: // a valid update, sometimes with a new user and a new item
                        int nextUsers = users + random.Next(2), nextItems = items + random.Next(2);
                        model.Update(RandomEvents(random, nextUsers, nextItems, 3), nextUsers, nextItems);
                        (users, items) = (nextUsers, nextItems);
                        break;
                    case 1: // a valid score on a random history
                        AssertFiniteScores(model, random.Next(users + 2), RandomEvents(random, users, items, 4));
                        break;
                    case 2: // one spoiled event in an otherwise valid update
                        List<Interaction> batch = RandomEvents(random, users, items, 4);
                        int at = random.Next(batch.Count);
                        batch[at] = Spoilers[random.Next(Spoilers.Length)](batch[at]);
                        model.Update(batch, users, items);
                        break;
                    case 3: // an event outside the given counts
                        model.Update([new Interaction(users, random.Next(items), 10, EventKind.Purchase, 1f, 1f, 1)], users, items);
                        break;
                    case 4: // shrinking or absurd growth
                        model.Update([], random.Next(2) == 0 ? users - 1 : int.MaxValue, random.Next(2) == 0 ? items : int.MaxValue);
                        break;
                    default: // a spoiled history at scoring time
                        List<Interaction> history = RandomEvents(random, users, items, 3);
                        history[0] = Spoilers[random.Next(Spoilers.Length)](history[0]);
                        model.Score(0, history.ToArray(), new float[model.ItemCount]);
                        break;
                }
            });

            if (mustReject)
            {
                Assert.True(error is ArgumentException, $"call {call} (kind {kind}) should throw an ArgumentException but gave {error?.GetType().Name ?? "none"}: {error?.Message}");
                Assert.Equal(before, CheckpointContinuationTests.Saved(model));
            }
            else
            {
                Assert.Null(error);
            }
        }

        Assert.Equal(items, model.ItemCount);
        AssertFiniteScores(model, 0, events.Where(e => e.User == 0).ToList());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Spoiled_events_are_rejected_by_fit_before_anything_changes(string name)
    {
        ISavableRecommender model = CheckpointContinuationTests.Create(name);
        List<Interaction> events = CheckpointContinuationTests.Baskets(Users, Items, 3, 0, 4);
        model.Fit(events, Users, Items);
        byte[] before = CheckpointContinuationTests.Saved(model);
        foreach (Func<Interaction, Interaction> spoil in Spoilers)
        {
            List<Interaction> spoiled = [.. events];
            spoiled[^1] = spoil(spoiled[^1]);
            Assert.ThrowsAny<ArgumentException>(() => model.Fit(spoiled, Users, Items));
            Assert.Equal(before, CheckpointContinuationTests.Saved(model));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_second_fit_retrains_from_scratch(string name)
    {
        List<Interaction> first = CheckpointContinuationTests.Baskets(Users, Items, 4, 0, 5);
        List<Interaction> second = CheckpointContinuationTests.Baskets(Users + 3, Items + 2, 3, 50, 6);

        ISavableRecommender twice = CheckpointContinuationTests.Create(name);
        twice.Fit(first, Users, Items);
        twice.Fit(second, Users + 3, Items + 2);

        ISavableRecommender fresh = CheckpointContinuationTests.Create(name);
        fresh.Fit(second, Users + 3, Items + 2);

        // The oracle: a model that never saw the first log. Same seed, same data, so the same bytes.
        Assert.Equal(CheckpointContinuationTests.Saved(fresh), CheckpointContinuationTests.Saved(twice));
    }

    private static List<Interaction> RandomEvents(Random random, int users, int items, int count)
    {
        var events = new List<Interaction>(count);
        long ticks = TimeSpan.TicksPerDay * 400;
        for (int i = 0; i < count; i++)
        {
            ticks += random.Next(1, 1000) * TimeSpan.TicksPerMinute;
            events.Add(new Interaction(random.Next(users), random.Next(items), ticks, EventKind.Purchase, 1 + random.Next(3), 2f, 900 + i));
        }

        return events;
    }

    private static void AssertFiniteScores(IRecommender model, int user, List<Interaction> history)
    {
        var scores = new float[model.ItemCount];
        model.Score(user, history.ToArray(), scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s), $"score {s} is not finite"));
    }
}

using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>The replay buffer's stratified reservoir weights and recent windows.</summary>
public class ReplayBufferTests
{
    private static Interaction Event(int user, int item, int k) => new(user, item, k, EventKind.Purchase, 1f, 0f, k);

    /// <summary>One heavy user (400 events on item 0 and 1) and 40 light ones (5 events each on items 2..41).</summary>
    private static List<Interaction> Skewed()
    {
        var events = new List<Interaction>();
        int k = 0;
        for (int round = 0; round < 5; round++)
        {
            for (int n = 0; n < 80; n++)
            {
                events.Add(Event(0, n % 2, k++));
            }

            for (int u = 1; u <= 40; u++)
            {
                events.Add(Event(u, 1 + u, k++));
            }
        }

        return events;
    }

    [Theory]
    [InlineData(ReplayStratification.Uniform)]
    [InlineData(ReplayStratification.ByUser)]
    [InlineData(ReplayStratification.ByItemPopularity)]
    public void The_reservoir_is_offered_the_stratified_weights(ReplayStratification stratification)
    {
        // Oracle: a bare reservoir with the same seed, offered one over the running count of the event's user or item.
        List<Interaction> events = Skewed();
        var buffer = new ReplayBuffer(50, stratification, 0, seed: 9);
        var oracle = new ReplayReservoir<Interaction>(50, 9);
        var userCounts = new Dictionary<int, int>();
        var itemCounts = new Dictionary<int, int>();
        foreach (Interaction e in events)
        {
            buffer.Offer(e);
            int byUser = userCounts[e.User] = userCounts.GetValueOrDefault(e.User) + 1;
            int byItem = itemCounts[e.Item] = itemCounts.GetValueOrDefault(e.Item) + 1;
            oracle.Offer(e, stratification switch
            {
                ReplayStratification.ByUser => 1.0 / byUser,
                ReplayStratification.ByItemPopularity => 1.0 / byItem,
                _ => 1.0,
            });
        }

        Assert.Equal(oracle.Items.ToArray(), buffer.Reservoir.Items.ToArray());
    }

    [Fact]
    public void Stratifying_by_user_shrinks_the_heavy_users_share()
    {
        // The heavy user has 400 of 600 events: two thirds of a uniform sample, far less of a by-user one.
        double Share(ReplayStratification s)
        {
            int heavy = 0, kept = 0;
            for (int seed = 0; seed < 20; seed++)
            {
                var buffer = new ReplayBuffer(60, s, 0, seed);
                foreach (Interaction e in Skewed())
                {
                    buffer.Offer(e);
                }

                heavy += buffer.Reservoir.Items.ToArray().Count(e => e.User == 0);
                kept += buffer.Reservoir.Count;
            }

            return heavy / (double)kept;
        }

        double uniform = Share(ReplayStratification.Uniform), byUser = Share(ReplayStratification.ByUser);
        Assert.InRange(uniform, 0.58, 0.75);
        Assert.True(byUser < 0.2, $"the heavy user still holds {byUser:P0} of a by-user sample");
    }

    [Fact]
    public void Recent_windows_hold_each_users_last_events_and_draws_come_from_the_buffer()
    {
        var buffer = new ReplayBuffer(1, ReplayStratification.Uniform, 3, seed: 1);
        List<Interaction> events = Skewed();
        foreach (Interaction e in events)
        {
            buffer.Offer(e);
        }

        buffer.Offer(Event(0, 5, 999) with { Kind = EventKind.Return });   // not a positive: ignored
        Assert.Equal(41 * 3, buffer.RecentCount);
        var lastThree = events.GroupBy(e => e.User).SelectMany(g => g.TakeLast(3)).ToHashSet();
        Interaction kept = buffer.Reservoir.Items[0];
        var draws = new List<Interaction>();
        buffer.Sample(2_000, new Random(2), draws);
        Assert.Equal(2_000, draws.Count);
        Assert.All(draws, d => Assert.True(d == kept || lastThree.Contains(d), $"{d} is neither kept nor recent"));
        Assert.Equal(lastThree.Count, draws.Where(d => d != kept).Distinct().Count());
        Assert.DoesNotContain(draws, d => d.Kind == EventKind.Return);
    }
}

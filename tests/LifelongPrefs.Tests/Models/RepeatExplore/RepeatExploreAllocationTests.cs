using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The default learner's update step allocates nothing once it has seen the pairs and the tables have grown, at the
/// tracker's shape in miniature (one-line baskets and five-line baskets, many users), so a micro-batch costs no GC
/// work besides the copy-on-write copies a snapshot asks for.
/// </summary>
public class RepeatExploreAllocationTests
{
    private const int Users = 3_000, Items = 400;

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void An_update_over_known_pairs_allocates_nothing(int lines)
    {
        var random = new Random(lines);
        var known = new List<Interaction>();
        long ticks = new DateTime(2011, 1, 1).Ticks;
        for (int basket = 0; basket < 1_500; basket++)
        {
            int user = random.Next(Users);
            ticks += TimeSpan.TicksPerMinute;
            for (int k = 0; k < lines; k++)
            {
                known.Add(new Interaction(user, random.Next(Items), ticks, EventKind.Purchase, 1, 1, basket));
            }
        }

        var model = new RepeatExplore(new RepeatExploreOptions { Dimensions = 16, Negatives = 16, OwnCandidates = 8, Seed = 3 });
        model.Fit(known, Users, Items);

        // The same pairs again, as new baskets later in time: every step runs, nothing new is stored.
        int next = 1_500;
        var again = known.Select(e => e with { Ticks = e.Ticks + TimeSpan.TicksPerDay, Basket = e.Basket + next }).ToList();
        long steps = model.Steps;
        Allocations.AssertNone($"RepeatExplore.Update ({lines}-line baskets)", () => model.Update(again, Users, Items));
        Assert.True(model.Steps > steps);
    }
}

using LifelongPrefs.Models;
using LifelongPrefs.Training;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// The negative sampler's batched draw against the proposal drawn one item at a time in the test: the same items, the
/// same weights (bit for bit) and the generator left in the same state, over seeded random rings, catalogs and draw
/// counts.
/// </summary>
public class RecentItemSamplerTests
{
    [Fact]
    public void A_batched_draw_equals_that_many_single_draws_and_leaves_the_generator_where_they_would()
    {
        var cases = new Random(2026);
        for (int trial = 0; trial < 200; trial++)
        {
            int catalog = 1 + cases.Next(5_000), capacity = 1 + cases.Next(3_000), draws = 1 + cases.Next(200);
            int lines = trial % 10 == 0 ? 0 : cases.Next(2 * capacity); // an empty ring (uniform draws only) now and then
            var sampler = new RecentItemSampler(capacity);
            sampler.Grow(catalog);
            for (int k = 0; k < lines; k++)
            {
                sampler.Add(cases.Next(10) < 7 ? cases.Next(Math.Min(catalog, 20)) : cases.Next(catalog)); // a popular head
            }

            // The proposal drawn one item at a time, from the ring as exported: two generator calls per draw, whatever
            // the branch; the ring's entry when it holds lines and the share is at least ε, else the pick mod the catalog.
            int[] ring = sampler.Export().Ring;
            int seed = cases.Next();
            var one = new SeededRandom(seed);
            var expectedItems = new int[draws];
            var expectedWeights = new float[draws];
            for (int k = 0; k < draws; k++)
            {
                double share = one.NextDouble();
                int pick = one.Next(ring.Length > 0 ? ring.Length : catalog);
                expectedItems[k] = ring.Length > 0 && share >= RecentItemSampler.UniformShare ? ring[pick] : pick % catalog;
                expectedWeights[k] = sampler.LogWeight(expectedItems[k], draws, catalog);
            }

            var batched = new SeededRandom(seed);
            var items = new int[draws];
            var weights = new float[draws];
            sampler.SampleInto(batched, catalog, items, weights);

            Assert.Equal(expectedItems, items);
            Assert.Equal(expectedWeights, weights);
            Assert.Equal(one.Next(), batched.Next());
        }
    }
}

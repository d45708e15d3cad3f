using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>
/// <see cref="CoocView.AddRowTo"/>, the branch-free add of co-occurrence rows the scorer runs per recent item, against
/// its plain loop (same bits, same touched list) and against the counts read one pair at a time.
/// </summary>
public class CoocViewTests
{
    /// <summary>A store with rows of every size from empty to over a thousand pairs (several 256-slot blocks), some pairs erased again.</summary>
    private static CowCooccurrence Store(int items, int seed)
    {
        var random = new Random(seed);
        var store = new CowCooccurrence(4);
        store.Grow(items);
        for (int a = 0; a < items; a++)
        {
            int pairs = a % 7 == 0 ? 0 : random.Next(a < 3 ? 1_200 : 60);
            for (int p = 0; p < pairs; p++)
            {
                int b = random.Next(items);
                if (b != a)
                {
                    store.Increment(a, b);
                }
            }
        }

        for (int r = 0; r < 400; r++)
        {
            int a = random.Next(items), b = random.Next(items);
            if (a != b && store.Get(a, b) > 0f)
            {
                store.Decrement(a, b); // frees slots inside the rows (a fresh table) or lowers a count
            }
        }

        return store;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Row_adds_equal_the_plain_loop_bit_for_bit_and_list_each_new_entry_once(int seed)
    {
        const int Items = 2_000;
        CoocView view = Store(Items, seed).Snapshot();
        var random = new Random(seed + 100);
        var fast = new float[Items];
        var plain = new float[Items];
        var fastTouched = new int[Items + 1];
        var plainTouched = new int[Items + 1];
        int nFast = 0, nPlain = 0;
        int[] rows = [0, 1, 2, 7, .. Enumerable.Range(0, 40).Select(_ => random.Next(Items))];
        foreach (int row in rows)
        {
            float weight = 0.05f + (float)random.NextDouble();
            view.AddRowTo(row, weight, fast, fastTouched, ref nFast);
            view.AddRowToReference(row, weight, plain, plainTouched, ref nPlain);
            Assert.Equal(plain, fast);
            Assert.Equal(plainTouched.AsSpan(0, nPlain).ToArray(), fastTouched.AsSpan(0, nFast).ToArray());
        }

        // The list is exactly the non-zero entries, each once; the sums are the counts read pair by pair.
        Assert.Equal(Enumerable.Range(0, Items).Where(i => fast[i] != 0f), fastTouched.AsSpan(0, nFast).ToArray().Order());
        var oracle = new double[Items];
        random = new Random(seed + 100);
        _ = Enumerable.Range(0, 40).Select(_ => random.Next(Items)).ToArray();
        foreach (int row in rows)
        {
            float weight = 0.05f + (float)random.NextDouble();
            for (int k = 0; k < Items; k++)
            {
                oracle[k] += weight * view.Get(row, k);
            }
        }

        Assert.True(nFast > 1_000, $"only {nFast} entries touched");
        for (int k = 0; k < Items; k++)
        {
            Assert.True(Math.Abs(oracle[k] - fast[k]) <= 1e-4 * (1 + oracle[k]), $"column {k}: {fast[k]} vs {oracle[k]}");
        }
    }

    [Fact]
    public void Every_item_touched_fits_the_list_of_one_more_than_the_catalog()
    {
        // Two items that co-occur with everything: the union of their rows is the whole catalog.
        const int Items = 300;
        var store = new CowCooccurrence(8);
        store.Grow(Items);
        for (int b = 1; b < Items; b++)
        {
            store.Increment(0, b);
        }

        store.Increment(1, 0);
        CoocView view = store.Snapshot();
        var scores = new float[Items];
        var touched = new int[Items + 1];
        int n = 0;
        view.AddRowTo(0, 1f, scores, touched, ref n);
        view.AddRowTo(1, 1f, scores, touched, ref n);
        Assert.Equal(Items, n);
        Assert.Equal(Enumerable.Range(0, Items), touched.AsSpan(0, n).ToArray().Order());
        Assert.Equal(2f, scores[0]); // row 1's count of (1, 0): two increments
        Assert.Equal(2f, scores[1]); // row 0's count of (0, 1)
        Assert.Equal(1f, scores[2]);
    }
}

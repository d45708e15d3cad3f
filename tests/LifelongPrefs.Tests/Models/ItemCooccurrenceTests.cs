using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Models;

namespace LifelongPrefs.Tests.Models;

/// <summary>The sparse co-occurrence store against a dense matrix built naively (the oracle).</summary>
public class ItemCooccurrenceTests
{
    [Property(MaxTest = 100)]
    public Property RandomIncrementsMatchADenseMatrix(int seed) => Prop.ToProperty(CheckAgainstDense(seed));

    private static bool CheckAgainstDense(int seed)
    {
        var random = new Random(seed);
        int items = random.Next(2, 40);
        var sparse = new ItemCooccurrence();
        sparse.Grow(items);
        var dense = new float[items, items];
        for (int step = 0; step < 400; step++)
        {
            int a = random.Next(items), b = random.Next(items);
            if (a == b)
            {
                continue;
            }

            // Mostly increments; a decrement only where it keeps the count non-negative, so pairs also vanish.
            float delta = dense[a, b] >= 1f && random.Next(4) == 0 ? -1f : 1f;
            sparse.Increment(a, b, delta);
            dense[a, b] += delta;
            dense[b, a] += delta;
        }

        long nonZero = 0;
        for (int i = 0; i < items; i++)
        {
            for (int k = 0; k < items; k++)
            {
                if (sparse.Get(i, k) != dense[i, k])
                {
                    return false;
                }

                nonZero += dense[i, k] != 0f ? 1 : 0;
            }
        }

        return nonZero == sparse.NonZeroCount && ScoresMatch(sparse, dense, items, random) && CsrRoundTrips(sparse, dense, items);
    }

    private static bool ScoresMatch(ItemCooccurrence sparse, float[,] dense, int items, Random random)
    {
        var expected = new float[items];
        var actual = new float[items];
        for (int j = 0; j < 5; j++)
        {
            int row = random.Next(items);
            float weight = (float)random.NextDouble();
            for (int k = 0; k < items; k++)
            {
                expected[k] += weight * dense[row, k];
            }

            sparse.AddRowTo(row, weight, actual);
        }

        return expected.AsSpan().SequenceEqual(actual);
    }

    private static bool CsrRoundTrips(ItemCooccurrence sparse, float[,] dense, int items)
    {
        sparse.ToCsr(out int[] offsets, out int[] columns, out float[] counts);
        ItemCooccurrence? copy = ItemCooccurrence.FromCsr(items, offsets, columns, counts);
        if (copy is null || copy.NonZeroCount != sparse.NonZeroCount)
        {
            return false;
        }

        for (int i = 0; i < items; i++)
        {
            for (int k = 0; k < items; k++)
            {
                if (copy.Get(i, k) != dense[i, k])
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Fact]
    public void FromCsrRejectsInvalidMatrices()
    {
        // 3 items, pair (0, 1) counted twice: a valid matrix first, then one defect at a time.
        Assert.NotNull(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [1, 0], [2f, 2f]));
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [1, 0], [2f, 3f]));           // not symmetric
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 1, 1], [1], [2f]));                 // one side missing
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [0, 1], [2f, 2f]));           // diagonal
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [1, 0], [float.NaN, float.NaN]));
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [1, 0], [0f, 0f]));           // stored zero
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 2, 2, 2], [1, 1], [2f, 2f]));           // repeated column
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2], [1, 0], [2f, 2f]));              // short offsets
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 2, 1, 2], [1, 0], [2f, 2f]));           // offsets go back
        Assert.Null(ItemCooccurrence.FromCsr(3, [0, 1, 2, 2], [1, 5], [2f, 2f]));           // column outside
    }

    [Fact]
    public void HundredThousandItemCatalogCostsOnlyItsPairs()
    {
        const int items = 100_000;
        var matrix = new ItemCooccurrence();
        matrix.Grow(items);
        matrix.Increment(0, items - 1);
        matrix.Increment(46_341, 99_998, 3f);
        var scores = new float[items];
        matrix.AddRowTo(46_341, 0.5f, scores);
        Assert.Equal(1.5f, scores[99_998]);
        Assert.Equal(1f, matrix.Get(items - 1, 0));
        Assert.Equal(4, matrix.NonZeroCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Increment(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Increment(0, items));
    }
}

/// <summary>ItemKNN on a catalog far past the dense matrix's limit (46,340 items), against hand-computed cosines.</summary>
public class ItemKnnLargeCatalogTests
{
    [Fact]
    public void Scores_a_100000_item_catalog_and_grows_past_it()
    {
        const int items = 100_000;
        Interaction Buy(int user, int item) => new(user, item, 1000 + item, EventKind.Purchase, 1f, 1f, user);
        var model = new ItemKnn();
        model.Fit([Buy(0, 0), Buy(0, items - 1), Buy(1, 0), Buy(1, items - 1), Buy(1, 50_000)], 2, items);

        var scores = new float[items];
        model.Score(2, [Buy(2, 0)], scores);
        // c(0, last) = 2 with n = 2 and 2: 2 / √(2·2) = 1; c(0, 50000) = 1 with n = 2 and 1: 1 / √2.
        Assert.Equal(1f, scores[items - 1], 6);
        Assert.Equal(1f / MathF.Sqrt(2f), scores[50_000], 6);
        Assert.Equal(0f, scores[0]);
        Assert.Equal(2, scores.Count(s => s != 0f));

        model.Update([Buy(2, items), Buy(2, 0)], 3, items + 1);
        scores = new float[items + 1];
        model.Score(3, [Buy(3, items)], scores);
        // The new item co-occurs once with item 0 (now bought by 3 users): 1 / √(1·3).
        Assert.Equal(1f / MathF.Sqrt(3f), scores[0], 6);
    }
}

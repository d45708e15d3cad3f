using FsCheck.Xunit;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

public class GatherScatterTests
{
    private const int TableRows = 37;

    public static TheoryData<int> Widths => SimdPaths.All;

    private static int[] RandomIndices(int count, int seed, int tableRows)
    {
        var random = new Random(seed);
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = random.Next(tableRows);
        }

        return indices;
    }

    /// <summary>Row widths: every tail around the vector widths, plus a wide and a very wide row.</summary>
    private static IEnumerable<int> Columns() => TestData.AwkwardSizes.Concat([1000, 4099]);

    /// <summary>
    /// Index counts: every length up to 64 (empty batch included) and a large batch; for very wide rows
    /// a few counts suffice (the per-row code is the same) and keep the test fast.
    /// </summary>
    private static IEnumerable<int> Counts(int columns) =>
        columns <= 257 ? TestData.Lengths().Where(n => n <= 64).Append(1000) : [0, 1, 3, 17, 64];

    [Theory]
    [MemberData(nameof(Widths))]
    public void GatherRows_CopiesTheIndexedRows(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int columns in Columns())
        {
            float[] table = TestData.Uniform(TableRows * columns, seed: columns);
            foreach (int count in Counts(columns))
            {
                int[] indices = RandomIndices(count, seed: count * 31 + columns, TableRows);
                var destination = new float[count * columns];
                Kernels.GatherRows(table, columns, indices, destination);

                // A copy: bit-exact.
                for (int i = 0; i < count; i++)
                {
                    if (!table.AsSpan(indices[i] * columns, columns).SequenceEqual(destination.AsSpan(i * columns, columns)))
                    {
                        Assert.Fail($"columns={columns} count={count}: row {i} is not table row {indices[i]}");
                    }
                }
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void ScatterAddRows_MatchesSequentialReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int columns in Columns())
        {
            foreach (int count in Counts(columns))
            {
                float[] table = TestData.Uniform(TableRows * columns, seed: columns);
                float[] source = TestData.Uniform(count * columns, seed: count + 17 * columns, scale: 3f);
                int[] indices = RandomIndices(count, seed: count * 31 + columns, TableRows);

                float[] expected = (float[])table.Clone();
                for (int i = 0; i < count; i++)
                {
                    for (int c = 0; c < columns; c++)
                    {
                        expected[indices[i] * columns + c] += source[i * columns + c];
                    }
                }

                Kernels.ScatterAddRows(source, columns, indices, table);

                // Same additions in the same (index) order, each one IEEE-rounded: bit-exact.
                Assert.True(expected.SequenceEqual(table), $"columns={columns} count={count}");
            }
        }
    });

    [Fact]
    public void ScatterAddRows_RepeatedIndicesAccumulate()
    {
        const int columns = 3;
        var table = new float[4 * columns];
        float[] source = [1, 2, 3, 10, 20, 30, 100, 200, 300, 5, 5, 5];
        int[] indices = [2, 0, 2, 2];

        Kernels.ScatterAddRows(source, columns, indices, table);

        Assert.Equal([10f, 20f, 30f, 0f, 0f, 0f, 106f, 207f, 308f, 0f, 0f, 0f], table);
    }

    [Fact]
    public void GatherRows_RepeatedIndices_CopyTheSameRow()
    {
        float[] table = [1, 2, 3, 4, 5, 6];
        var destination = new float[6];
        Kernels.GatherRows(table, 2, [2, 2, 0], destination);
        Assert.Equal([5f, 6f, 5f, 6f, 1f, 2f], destination);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(TableRows)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void BadIndex_Throws_NamingPositionAndValue_AndWritesNothing(int badIndex)
    {
        const int columns = 5;
        float[] table = TestData.Uniform(TableRows * columns, seed: 1);
        float[] tableBefore = (float[])table.Clone();
        int[] indices = [0, 3, 36, badIndex, 1];
        float[] source = TestData.Uniform(indices.Length * columns, seed: 2);

        var scatter = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.ScatterAddRows(source, columns, indices, table));
        Assert.Equal("indices", scatter.ParamName);
        Assert.Equal(badIndex, scatter.ActualValue);
        Assert.Contains($"indices[3] = {badIndex}", scatter.Message, StringComparison.Ordinal);
        // Validation precedes every write: rows 0, 3 and 36 (before the bad index) are untouched too.
        Assert.Equal(tableBefore, table);

        float[] destination = Enumerable.Repeat(-7f, indices.Length * columns).ToArray();
        var gather = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.GatherRows(table, columns, indices, destination));
        Assert.Equal("indices", gather.ParamName);
        Assert.Equal(badIndex, gather.ActualValue);
        Assert.Contains($"indices[3] = {badIndex}", gather.Message, StringComparison.Ordinal);
        Assert.All(destination, v => Assert.Equal(-7f, v));
    }

    [Fact]
    public void InvalidShapes_Throw_NamingTheArgument()
    {
        var table = new float[12]; // 4 rows x 3 columns
        int[] indices = [0, 1];

        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.GatherRows(table, 0, indices, new float[6])).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.ScatterAddRows(new float[6], -3, indices, table)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => Kernels.GatherRows(table, 5, indices, new float[10])).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => Kernels.ScatterAddRows(new float[10], 5, indices, table)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.GatherRows(table, 3, indices, new float[5])).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => Kernels.ScatterAddRows(new float[5], 3, indices, table)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => Kernels.ScatterAddRows(new float[7], 3, indices, table)).ParamName);

    }

    [Fact]
    public void Overlap_Throws()
    {
        var buffer = new float[24];
        int[] indices = [0, 1];
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.GatherRows(buffer.AsSpan(0, 12), 3, indices, buffer.AsSpan(10, 6))).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => Kernels.ScatterAddRows(buffer.AsSpan(0, 6), 3, indices, buffer.AsSpan(0, 12))).ParamName);

        // Adjacent but disjoint halves of one buffer are fine.
        Kernels.GatherRows(buffer.AsSpan(0, 12), 3, indices, buffer.AsSpan(12, 6));
        Kernels.ScatterAddRows(buffer.AsSpan(12, 6), 3, indices, buffer.AsSpan(0, 12));
    }

    [Fact]
    public void EmptyIndices_DoNothing()
    {
        float[] table = [1, 2, 3];
        Kernels.GatherRows(table, 3, [], []);
        Kernels.ScatterAddRows([], 3, [], table);
        Kernels.GatherRows([], 4, [], []);
        Assert.Equal([1f, 2f, 3f], table);
    }

    [Property(MaxTest = 100)]
    public bool ScatterAddOfGather_IsCountWeightedRows(byte columnsSeed, byte[] rawIndices, int seed)
    {
        // Gathering rows and scattering them back into zeros gives row r times how often r was picked.
        int columns = columnsSeed % 20 + 1;
        const int rows = 9;
        int[] indices = rawIndices.Select(b => b % rows).ToArray();
        float[] table = TestData.Uniform(rows * columns, seed, scale: 10f);
        var gathered = new float[indices.Length * columns];
        var accumulated = new float[rows * columns];

        Kernels.GatherRows(table, columns, indices, gathered);
        Kernels.ScatterAddRows(gathered, columns, indices, accumulated);

        for (int r = 0; r < rows; r++)
        {
            int count = indices.Count(i => i == r);
            for (int c = 0; c < columns; c++)
            {
                // k repeated float additions of the same value: at most k roundings of 2^-24 relative.
                double expected = (double)count * table[r * columns + c];
                double bound = count * Math.Abs(expected) / (1 << 24);
                if (Math.Abs(expected - accumulated[r * columns + c]) > bound)
                {
                    return false;
                }
            }
        }

        return true;
    }
}

using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

public class KMeansTests
{
    private const int Dims = 16;
    private const int Clusters = 5;
    private const int PerCluster = 40;

    /// <summary>
    /// Rows around <see cref="Clusters"/> orthogonal directions (basis vectors 0, 3, 6, …) with small noise and
    /// lengths from 0.2 to 5, shuffled: well separated in direction, mixed in length (so Euclidean k-means on the raw
    /// rows would split by length). Returns the rows and each row's planted cluster.
    /// </summary>
    internal static (float[] Rows, int[] Planted) PlantedRows(int seed)
    {
        var random = new Random(seed);
        int count = Clusters * PerCluster;
        int[] order = [.. Enumerable.Range(0, count)];
        random.Shuffle(order);
        var rows = new float[count * Dims];
        var planted = new int[count];
        for (int i = 0; i < count; i++)
        {
            int cluster = order[i] / PerCluster;
            planted[i] = cluster;
            float length = 0.2f + 4.8f * (float)random.NextDouble();
            for (int d = 0; d < Dims; d++)
            {
                float noise = 0.1f * (float)(random.NextDouble() * 2 - 1);
                rows[i * Dims + d] = length * ((d == 3 * cluster ? 1f : 0f) + noise);
            }
        }

        return (rows, planted);
    }

    /// <summary>Asserts that two labelings are the same partition (equal up to renaming the labels).</summary>
    internal static void SamePartition(int[] planted, ReadOnlySpan<int> found)
    {
        var map = new Dictionary<int, int>();
        var reverse = new Dictionary<int, int>();
        for (int i = 0; i < planted.Length; i++)
        {
            if (map.TryGetValue(planted[i], out int label))
            {
                Assert.True(label == found[i], $"row {i} of planted cluster {planted[i]} got cluster {found[i]}, its mates got {label}");
            }
            else
            {
                Assert.False(reverse.ContainsKey(found[i]), $"cluster {found[i]} holds rows of two planted clusters");
                map[planted[i]] = found[i];
                reverse[found[i]] = planted[i];
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(12345)]
    public void Recovers_planted_clusters_for_every_seed(int seed)
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 7);
        KMeansResult result = KMeans.Cluster(rows, planted.Length, Dims, Clusters, new KMeansOptions { Seed = seed });

        SamePartition(planted, result.Assignments);
        Assert.True(result.Converged);
        for (int c = 0; c < Clusters; c++)
        {
            ReadOnlySpan<float> centroid = result.Centroids.AsSpan(c * Dims, Dims);
            Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(centroid), 3);
        }
    }

    [Fact]
    public void Is_deterministic_for_a_seed()
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 11);
        KMeansResult a = KMeans.Cluster(rows, planted.Length, Dims, Clusters, new KMeansOptions { Seed = 5, Restarts = 1 });
        KMeansResult b = KMeans.Cluster(rows, planted.Length, Dims, Clusters, new KMeansOptions { Seed = 5, Restarts = 1 });

        Assert.Equal(a.Assignments, b.Assignments);
        Assert.Equal(a.Centroids, b.Centroids);
        Assert.Equal(a.Iterations, b.Iterations);
    }

    [Fact]
    public void The_row_delegate_gives_the_same_clusters_as_the_span()
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 3);
        KMeansResult fromSpan = KMeans.Cluster(rows, planted.Length, Dims, Clusters);
        KMeansResult fromRows = KMeans.Cluster((item, destination) => rows.AsSpan(item * Dims, Dims).CopyTo(destination), planted.Length, Dims, Clusters);

        Assert.Equal(fromSpan.Assignments, fromRows.Assignments);
        Assert.Equal(fromSpan.Centroids, fromRows.Centroids);
    }

    [Fact]
    public void More_clusters_than_distinct_rows_still_leaves_none_empty_when_it_can()
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 4);
        KMeansResult result = KMeans.Cluster(rows, planted.Length, Dims, 2 * Clusters);

        Assert.Equal(2 * Clusters, result.Assignments.Distinct().Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(201)]
    public void A_bad_k_throws_naming_k(int k)
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Cluster(rows, planted.Length, Dims, k));
        Assert.Equal("k", e.ParamName);
    }

    [Fact]
    public void A_dims_mismatch_or_a_nan_throws_naming_the_rows()
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 1);
        var mismatch = Assert.Throws<ArgumentException>(() => KMeans.Cluster(rows, planted.Length, Dims + 1, Clusters));
        Assert.Equal("rows", mismatch.ParamName);

        rows[37] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => KMeans.Cluster(rows, planted.Length, Dims, Clusters));
        Assert.Equal("rows", nan.ParamName);
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_options_throw_naming_the_option()
    {
        (float[] rows, int[] planted) = PlantedRows(seed: 1);
        Assert.Equal("MaxIterations", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Cluster(rows, planted.Length, Dims, 2, new KMeansOptions { MaxIterations = 0 })).ParamName);
        Assert.Equal("Restarts", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Cluster(rows, planted.Length, Dims, 2, new KMeansOptions { Restarts = 0 })).ParamName);
    }
}

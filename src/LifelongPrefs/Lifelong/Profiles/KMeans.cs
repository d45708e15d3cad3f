using System.Numerics.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>Writes one item's embedding row (for example a scorer's item vector) into <paramref name="destination"/>.</summary>
/// <param name="item">The item index.</param>
/// <param name="destination">Receives the row (its length is the embedding width).</param>
internal delegate void ItemRowSource(int item, Span<float> destination);

/// <summary>The options of <see cref="KMeans"/>.</summary>
internal sealed record KMeansOptions
{
    /// <summary>Gets the defaults.</summary>
    internal static KMeansOptions Default { get; } = new();

    /// <summary>Gets the seed of every random choice (the k-means++ draws). <value>Default 42.</value></summary>
    internal int Seed { get; init; } = 42;

    /// <summary>Gets the cap on Lloyd iterations per restart. <value>Default 100.</value></summary>
    internal int MaxIterations { get; init; } = 100;

    /// <summary>Gets how many seeded k-means++ starts run; the one with the highest total similarity is kept. <value>Default 4.</value></summary>
    internal int Restarts { get; init; } = 4;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="MaxIterations"/> or <see cref="Restarts"/> is below 1.</exception>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(Restarts, 1, nameof(Restarts));
    }
}

/// <summary>The result of <see cref="KMeans.Cluster(ReadOnlySpan{float}, int, int, int, KMeansOptions?)"/>.</summary>
/// <param name="Assignments">The cluster of every row.</param>
/// <param name="Centroids">k unit-length mean directions, k × dims row-major.</param>
/// <param name="Iterations">Lloyd iterations the kept restart ran.</param>
/// <param name="Converged">Whether the kept restart stopped because no assignment changed (not at the cap).</param>
/// <param name="Similarity">The kept restart's sum over rows of the cosine to their centroid (higher is tighter).</param>
internal sealed record KMeansResult(int[] Assignments, float[] Centroids, int Iterations, bool Converged, double Similarity);

/// <summary>
/// Seeded spherical k-means: rows are scaled to unit length, k-means++ picks the first centroids, Lloyd iterations
/// assign every row to the centroid of highest cosine and move each centroid to its members' mean direction.
/// </summary>
/// <remarks>
/// <para>Why cosine: in the library's embedding models (BPR-MF, the sequence models' item tables) an item's score is
/// a dot product, and the length of its row grows with its popularity while its direction says which users and
/// items it goes with. Euclidean k-means on raw rows would group items by how popular they are; on unit rows the
/// squared distance is 2 − 2·cos, so clustering by direction groups them by what they are bought with.</para>
/// <para>Deterministic for a seed on one machine (the similarities come from <see cref="Kernels.Gemm(Transpose, Transpose, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int, int)"/>,
/// bit-identical run to run). Ties go to the lower centroid index. A centroid left without members is moved to the
/// row least similar to its own centroid, so every cluster ends non-empty when there are at least k distinct rows.
/// Cost per iteration: one n × k × dims product plus O(n · dims); memory: the unit rows, the n × k similarities.</para>
/// </remarks>
internal static class KMeans
{
    /// <summary>Clusters <paramref name="count"/> rows of width <paramref name="dims"/> into <paramref name="k"/> clusters.</summary>
    /// <param name="rows">The rows, <paramref name="count"/> × <paramref name="dims"/> row-major.</param>
    /// <param name="count">The number of rows.</param>
    /// <param name="dims">The row width.</param>
    /// <param name="k">The number of clusters, in [1, <paramref name="count"/>].</param>
    /// <param name="options">Seed, iteration cap, restarts; null for <see cref="KMeansOptions.Default"/>.</param>
    /// <returns>The assignments and centroids.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="dims"/> is below 1, or
    /// <paramref name="k"/> is not in [1, <paramref name="count"/>], or an option is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="rows"/> does not hold count × dims values, or holds NaN or infinity.</exception>
    internal static KMeansResult Cluster(ReadOnlySpan<float> rows, int count, int dims, int k, KMeansOptions? options = null)
    {
        options ??= KMeansOptions.Default;
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        if (k < 1 || k > count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"'{nameof(k)}' must be in [1, {count}] (the row count) but was {k}.");
        }

        if ((long)count * dims != rows.Length)
        {
            throw new ArgumentException($"'{nameof(rows)}' must hold {count} × {dims} = {(long)count * dims} values but holds {rows.Length}.", nameof(rows));
        }

        int bad = FirstNonFinite(rows);
        if (bad >= 0)
        {
            throw new ArgumentException($"'{nameof(rows)}' holds {rows[bad]} at row {bad / dims}, column {bad % dims}; every value must be finite.", nameof(rows));
        }

        var unit = new float[rows.Length];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> row = rows.Slice(i * dims, dims);
            float norm = MathF.Sqrt(TensorPrimitives.Dot(row, row));

            // A zero row has no direction: it stays zero (cosine 0 to every centroid, so it joins the first best).
            if (norm > 0f)
            {
                TensorPrimitives.Multiply(row, 1f / norm, unit.AsSpan(i * dims, dims));
            }
        }

        var random = new SeededRandom(options.Seed);
        var work = new Work(count, k);
        KMeansResult? best = null;
        for (int restart = 0; restart < options.Restarts; restart++)
        {
            KMeansResult run = Run(unit, count, dims, k, options.MaxIterations, random, work);
            if (best is null || run.Similarity > best.Similarity)
            {
                best = run;
            }
        }

        return best!;
    }

    /// <summary>Like <see cref="Cluster(ReadOnlySpan{float}, int, int, int, KMeansOptions?)"/>, with the rows written one at a time by <paramref name="source"/>.</summary>
    /// <param name="source">Writes row i.</param>
    /// <param name="count">The number of rows.</param>
    /// <param name="dims">The row width.</param>
    /// <param name="k">The number of clusters, in [1, <paramref name="count"/>].</param>
    /// <param name="options">Seed, iteration cap, restarts; null for <see cref="KMeansOptions.Default"/>.</param>
    /// <returns>The assignments and centroids.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the span overload.</exception>
    /// <exception cref="ArgumentException">A written row holds NaN or infinity.</exception>
    internal static KMeansResult Cluster(ItemRowSource source, int count, int dims, int k, KMeansOptions? options = null)
    {
        return Cluster(Gather(source, count, dims), count, dims, k, options);
    }

    /// <summary>Copies <paramref name="count"/> rows written by <paramref name="source"/> into one row-major array.</summary>
    /// <param name="source">Writes row i.</param>
    /// <param name="count">The number of rows (≥ 1).</param>
    /// <param name="dims">The row width (≥ 1).</param>
    /// <returns>The rows.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="dims"/> is below 1.</exception>
    internal static float[] Gather(ItemRowSource source, int count, int dims)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        var rows = new float[(long)count * dims];
        for (int i = 0; i < count; i++)
        {
            source(i, rows.AsSpan(i * dims, dims));
        }

        return rows;
    }

    /// <summary>The index of the first NaN or infinity, or -1.</summary>
    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>One seeded start: k-means++ then Lloyd until no assignment changes or the cap.</summary>
    private static KMeansResult Run(float[] unit, int count, int dims, int k, int maxIterations, SeededRandom random, Work work)
    {
        var centroids = new float[k * dims];
        SeedPlusPlus(unit, count, dims, k, random, centroids, work.Distance);
        var assignments = new int[count];
        Array.Fill(assignments, -1);
        int iterations = 0;
        bool converged = false;
        double similarity = 0;
        while (iterations < maxIterations)
        {
            iterations++;

            // similarities = U · Cᵀ: (count, dims)·(dims, k); beta = 0 overwrites.
            Kernels.Gemm(Transpose.None, Transpose.Transpose, count, k, dims, 1f, unit, dims, centroids, dims, 0f, work.Similarities, k);
            int changed = 0;
            similarity = 0;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> s = work.Similarities.AsSpan(i * k, k);
                int arg = 0;
                for (int c = 1; c < k; c++)
                {
                    if (s[c] > s[arg])
                    {
                        arg = c;
                    }
                }

                similarity += s[arg];
                if (assignments[i] != arg)
                {
                    assignments[i] = arg;
                    changed++;
                }
            }

            if (changed == 0)
            {
                converged = true;
                break;
            }

            MoveCentroids(unit, assignments, count, dims, k, centroids, work);
        }

        return new KMeansResult(assignments, centroids, iterations, converged, similarity);
    }

    /// <summary>k-means++ (Arthur and Vassilvitskii, 2007): each next centroid is a row drawn with probability ∝ its squared distance to the nearest chosen one.</summary>
    private static void SeedPlusPlus(float[] unit, int count, int dims, int k, SeededRandom random, float[] centroids, double[] distance)
    {
        int first = random.Next(count);
        unit.AsSpan(first * dims, dims).CopyTo(centroids);
        Array.Fill(distance, double.PositiveInfinity, 0, count);
        for (int c = 1; c < k; c++)
        {
            ReadOnlySpan<float> last = centroids.AsSpan((c - 1) * dims, dims);
            double total = 0;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> row = unit.AsSpan(i * dims, dims);

                // |x − c|² = |x|² + |c|² − 2 x·c, clamped: rounding may leave a tiny negative for x = c.
                double d = Math.Max(0.0, TensorPrimitives.Dot(row, row) + TensorPrimitives.Dot(last, last)
                    - 2.0 * TensorPrimitives.Dot(row, last));
                distance[i] = Math.Min(distance[i], d);
                total += distance[i];
            }

            int pick = count - 1;
            if (total > 0)
            {
                double target = random.NextDouble() * total;
                double running = 0;
                for (int i = 0; i < count; i++)
                {
                    running += distance[i];
                    if (running > target)
                    {
                        pick = i;
                        break;
                    }
                }
            }
            else
            {
                // Every row equals a chosen centroid: any row will do; take them in order.
                pick = c % count;
            }

            unit.AsSpan(pick * dims, dims).CopyTo(centroids.AsSpan(c * dims, dims));
        }
    }

    /// <summary>Each centroid becomes its members' mean direction; an empty one takes the row least like its own centroid.</summary>
    private static void MoveCentroids(float[] unit, int[] assignments, int count, int dims, int k, float[] centroids, Work work)
    {
        Array.Clear(centroids);
        Array.Clear(work.Sizes);
        for (int i = 0; i < count; i++)
        {
            int c = assignments[i];
            work.Sizes[c]++;
            TensorPrimitives.Add(centroids.AsSpan(c * dims, dims), unit.AsSpan(i * dims, dims), centroids.AsSpan(c * dims, dims));
        }

        for (int c = 0; c < k; c++)
        {
            if (work.Sizes[c] == 0)
            {
                // The worst-fitting row of a cluster that can spare one (similarities are from this iteration's assignment).
                int worst = -1;
                for (int i = 0; i < count; i++)
                {
                    int own = assignments[i];
                    if (work.Sizes[own] > 1 && (worst < 0 || work.Similarities[i * k + own] < work.Similarities[worst * k + assignments[worst]]))
                    {
                        worst = i;
                    }
                }

                if (worst >= 0)
                {
                    int from = assignments[worst];
                    work.Sizes[from]--;
                    TensorPrimitives.Subtract(centroids.AsSpan(from * dims, dims), unit.AsSpan(worst * dims, dims), centroids.AsSpan(from * dims, dims));
                    assignments[worst] = c;
                    work.Sizes[c] = 1;
                    unit.AsSpan(worst * dims, dims).CopyTo(centroids.AsSpan(c * dims, dims));
                }
            }
        }

        for (int c = 0; c < k; c++)
        {
            Span<float> centroid = centroids.AsSpan(c * dims, dims);
            float norm = MathF.Sqrt(TensorPrimitives.Dot(centroid, centroid));
            if (norm > 0f)
            {
                TensorPrimitives.Multiply(centroid, 1f / norm, centroid);
            }
        }
    }

    /// <summary>Scratch shared by the restarts of one call.</summary>
    private sealed class Work(int count, int k)
    {
        internal readonly float[] Similarities = new float[count * k];
        internal readonly double[] Distance = new double[count];
        internal readonly int[] Sizes = new int[k];
    }
}

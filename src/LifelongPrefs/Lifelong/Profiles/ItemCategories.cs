using System.Numerics.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// An immutable map from item index to category index, with the category names: from the host's catalogue or from
/// seeded k-means clusters of item embeddings named by their descriptions. Thread-safe (nothing changes after
/// construction).
/// </summary>
internal sealed class ItemCategories
{
    /// <summary>The name of the category that collects items without one.</summary>
    internal const string UncategorisedName = "uncategorised";

    private readonly int[] _categoryOf;
    private readonly string[] _names;

    private ItemCategories(int[] categoryOf, string[] names, int uncategorised)
    {
        _categoryOf = categoryOf;
        _names = names;
        Uncategorised = uncategorised;
    }

    /// <summary>Gets the number of items mapped.</summary>
    internal int ItemCount => _categoryOf.Length;

    /// <summary>Gets the number of categories.</summary>
    internal int Count => _names.Length;

    /// <summary>Gets the category names, by index.</summary>
    internal IReadOnlyList<string> Names => _names;

    /// <summary>Gets every item's category.</summary>
    internal ReadOnlySpan<int> Assignments => _categoryOf;

    /// <summary>Gets the index of <see cref="UncategorisedName"/>, or -1 when every item has a category.</summary>
    internal int Uncategorised { get; }

    /// <summary>Gets an item's category, or -1 for an item this map does not know (for example one added later).</summary>
    /// <param name="item">The item index.</param>
    /// <returns>A category index, or -1.</returns>
    internal int CategoryOf(int item) => (uint)item < (uint)_categoryOf.Length ? _categoryOf[item] : -1;

    /// <summary>
    /// Categories from the host's catalogue: one category per distinct string, indexed in order of first
    /// appearance; items with a null or empty string fall into <see cref="UncategorisedName"/> (the last index, present
    /// only when such an item exists).
    /// </summary>
    /// <param name="categoryPerItem">Each item's registered category.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="categoryPerItem"/> is null.</exception>
    internal static ItemCategories FromCatalog(IReadOnlyList<string?> categoryPerItem)
    {
        ArgumentNullException.ThrowIfNull(categoryPerItem);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var categoryOf = new int[categoryPerItem.Count];
        bool missing = false;
        for (int item = 0; item < categoryOf.Length; item++)
        {
            string? name = categoryPerItem[item];
            if (string.IsNullOrEmpty(name))
            {
                categoryOf[item] = -1;
                missing = true;
                continue;
            }

            if (!index.TryGetValue(name, out int c))
            {
                c = names.Count;
                index.Add(name, c);
                names.Add(name);
            }

            categoryOf[item] = c;
        }

        int uncategorised = -1;
        if (missing)
        {
            // Keep the catalogue's own "uncategorised", if it has one, rather than naming a second category the same.
            uncategorised = index.TryGetValue(UncategorisedName, out int own) ? own : names.Count;
            if (uncategorised == names.Count)
            {
                names.Add(UncategorisedName);
            }

            for (int item = 0; item < categoryOf.Length; item++)
            {
                if (categoryOf[item] < 0)
                {
                    categoryOf[item] = uncategorised;
                }
            }
        }

        return new ItemCategories(categoryOf, [.. names], uncategorised);
    }

    /// <summary>
    /// Categories from the host's catalogue, where items without one join the catalogue category whose mean
    /// direction (of its items' unit embedding rows) is nearest in cosine; with no categorised item at all, every
    /// item is <see cref="UncategorisedName"/>.
    /// </summary>
    /// <param name="categoryPerItem">Each item's registered category (null or empty: none).</param>
    /// <param name="embeddings">The item rows, item count × <paramref name="dims"/>.</param>
    /// <param name="dims">The row width.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="categoryPerItem"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dims"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="embeddings"/> does not hold item count × dims values.</exception>
    internal static ItemCategories FromCatalog(IReadOnlyList<string?> categoryPerItem, ReadOnlySpan<float> embeddings, int dims)
    {
        ArgumentNullException.ThrowIfNull(categoryPerItem);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        CheckRows(embeddings, categoryPerItem.Count, dims);
        ItemCategories catalog = FromCatalog(categoryPerItem);
        int real = catalog.Uncategorised < 0 ? catalog.Count : catalog.Count - 1;
        if (catalog.Uncategorised < 0 || real == 0 || catalog.Uncategorised != catalog.Count - 1)
        {
            return catalog;
        }

        // Each catalogue category's mean direction.
        var centroids = new float[real * dims];
        var row = new float[dims];
        for (int item = 0; item < catalog.ItemCount; item++)
        {
            int c = catalog._categoryOf[item];
            if (c < real && UnitRow(embeddings, item, dims, row))
            {
                TensorPrimitives.Add(centroids.AsSpan(c * dims, dims), row, centroids.AsSpan(c * dims, dims));
            }
        }

        var categoryOf = (int[])catalog._categoryOf.Clone();
        for (int item = 0; item < categoryOf.Length; item++)
        {
            if (categoryOf[item] == catalog.Uncategorised && UnitRow(embeddings, item, dims, row))
            {
                int best = 0;
                float bestScore = float.NegativeInfinity;
                for (int c = 0; c < real; c++)
                {
                    float score = TensorPrimitives.CosineSimilarity(centroids.AsSpan(c * dims, dims), row);
                    if (score > bestScore)
                    {
                        (best, bestScore) = (c, score);
                    }
                }

                categoryOf[item] = best;
            }
        }

        // Items without a usable row (zero) stay uncategorised; drop that category if nothing is left in it.
        bool anyLeft = Array.IndexOf(categoryOf, catalog.Uncategorised) >= 0;
        return anyLeft
            ? new ItemCategories(categoryOf, [.. catalog._names], catalog.Uncategorised)
            : new ItemCategories(categoryOf, catalog._names[..real], -1);
    }

    /// <summary>
    /// Categories as seeded spherical k-means clusters of item embedding rows (<see cref="KMeans"/>), each named by
    /// its members' descriptions (<see cref="ClusterNaming"/>). Items outside <paramref name="clustered"/> (for
    /// example items the embedding model never trained on) fall into <see cref="UncategorisedName"/>, the last index.
    /// </summary>
    /// <param name="embeddings">The item rows, <paramref name="itemCount"/> × <paramref name="dims"/> row-major.</param>
    /// <param name="itemCount">The number of items.</param>
    /// <param name="dims">The row width.</param>
    /// <param name="k">The number of clusters, in [1, number of clustered items].</param>
    /// <param name="descriptions">One description per item, or null (names "cluster {j}").</param>
    /// <param name="options">Seed, iteration cap and restarts; null for the defaults.</param>
    /// <param name="clustered">Which items to cluster; empty for all.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="itemCount"/> or <paramref name="dims"/> is below 1, or
    /// <paramref name="k"/> is not in [1, clustered items].</exception>
    /// <exception cref="ArgumentException"><paramref name="embeddings"/> does not hold itemCount × dims finite values,
    /// <paramref name="clustered"/> is neither empty nor one flag per item, or <paramref name="descriptions"/> has the wrong count.</exception>
    internal static ItemCategories FromEmbeddings(ReadOnlySpan<float> embeddings, int itemCount, int dims, int k,
        IReadOnlyList<string?>? descriptions = null, KMeansOptions? options = null, ReadOnlySpan<bool> clustered = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        CheckRows(embeddings, itemCount, dims);
        if (!clustered.IsEmpty && clustered.Length != itemCount)
        {
            throw new ArgumentException($"'{nameof(clustered)}' must be empty or hold one flag per item ({itemCount}) but holds {clustered.Length}.", nameof(clustered));
        }

        if (descriptions is not null && descriptions.Count != itemCount)
        {
            throw new ArgumentException($"'{nameof(descriptions)}' must hold one entry per item ({itemCount}) but holds {descriptions.Count}.", nameof(descriptions));
        }

        int members = clustered.IsEmpty ? itemCount : clustered.Count(true);
        if (k > members)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"'{nameof(k)}' must be at most the number of clustered items ({members}) but was {k}.");
        }

        KMeansResult result;
        var categoryOf = new int[itemCount];
        if (clustered.IsEmpty)
        {
            result = KMeans.Cluster(embeddings, itemCount, dims, k, options);
            result.Assignments.CopyTo(categoryOf, 0);
        }
        else
        {
            var rows = new float[(long)members * dims];
            for (int item = 0, m = 0; item < itemCount; item++)
            {
                if (clustered[item])
                {
                    embeddings.Slice(item * dims, dims).CopyTo(rows.AsSpan(m++ * dims, dims));
                }
            }

            result = KMeans.Cluster(rows, members, dims, k, options);
            for (int item = 0, m = 0; item < itemCount; item++)
            {
                categoryOf[item] = clustered[item] ? result.Assignments[m++] : -1;
            }
        }

        string[] names = ClusterNaming.Name(categoryOf, k, descriptions);
        if (members == itemCount)
        {
            return new ItemCategories(categoryOf, names, -1);
        }

        for (int item = 0; item < itemCount; item++)
        {
            if (categoryOf[item] < 0)
            {
                categoryOf[item] = k;
            }
        }

        return new ItemCategories(categoryOf, [.. names, UncategorisedName], k);
    }

    /// <summary>Like the span overload of <see cref="FromEmbeddings(ReadOnlySpan{float}, int, int, int, IReadOnlyList{string?}?, KMeansOptions?, ReadOnlySpan{bool})"/>, with the rows written by <paramref name="source"/>.</summary>
    /// <param name="source">Writes item i's row.</param>
    /// <param name="itemCount">The number of items.</param>
    /// <param name="dims">The row width.</param>
    /// <param name="k">The number of clusters.</param>
    /// <param name="descriptions">One description per item, or null.</param>
    /// <param name="options">Seed, iteration cap and restarts; null for the defaults.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the span overload.</exception>
    /// <exception cref="ArgumentException">As for the span overload.</exception>
    internal static ItemCategories FromEmbeddings(ItemRowSource source, int itemCount, int dims, int k,
        IReadOnlyList<string?>? descriptions = null, KMeansOptions? options = null)
    {
        return FromEmbeddings(KMeans.Gather(source, itemCount, dims), itemCount, dims, k, descriptions, options);
    }

    /// <summary>A map from explicit assignments and names (for tests and for hosts that cluster elsewhere).</summary>
    /// <param name="assignments">Every item's category, each in [0, names count).</param>
    /// <param name="names">The category names (copied).</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="names"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="names"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An assignment is outside [0, names count).</exception>
    internal static ItemCategories FromAssignments(ReadOnlySpan<int> assignments, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            throw new ArgumentException($"'{nameof(names)}' must name at least one category.", nameof(names));
        }

        for (int item = 0; item < assignments.Length; item++)
        {
            if ((uint)assignments[item] >= (uint)names.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(assignments), assignments[item], $"Item {item}'s category {assignments[item]} is not in [0, {names.Count}).");
            }
        }

        string[] copy = [.. names];
        return new ItemCategories(assignments.ToArray(), copy, Array.IndexOf(copy, UncategorisedName));
    }

    private static void CheckRows(ReadOnlySpan<float> embeddings, int itemCount, int dims)
    {
        if ((long)itemCount * dims != embeddings.Length)
        {
            throw new ArgumentException($"'{nameof(embeddings)}' must hold {itemCount} × {dims} = {(long)itemCount * dims} values but holds {embeddings.Length}.", nameof(embeddings));
        }
    }

    /// <summary>Writes item's unit row; false for a zero or non-finite row.</summary>
    private static bool UnitRow(ReadOnlySpan<float> embeddings, int item, int dims, Span<float> destination)
    {
        ReadOnlySpan<float> row = embeddings.Slice(item * dims, dims);
        float norm = MathF.Sqrt(TensorPrimitives.Dot(row, row));
        if (!(norm > 0f) || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Multiply(row, 1f / norm, destination);
        return true;
    }
}

namespace LifelongPrefs.Nn.Sampling;

/// <summary>
/// Draws item ids with probability proportional to non-negative weights (typically popularity counts raised to
/// 0.75, as in word2vec's negative sampling), in O(1) per draw with a Walker alias table built by Vose's
/// method; Q(item) = weight(item) / Σ weights.
/// </summary>
/// <remarks>
/// <para>
/// Alias method (Walker, 1977; Vose, 1991, "A Linear Algorithm for Generating Random Numbers with a Given
/// Distribution"): the n items are scaled so their mean weight is 1 and the mass above 1 of "large" items is
/// poured into the slack of "small" ones, giving n columns each holding at most two items. A draw picks a
/// column uniformly and then one of its two items with one comparison. Building the table is O(n) and exact up
/// to double rounding; <see cref="LogProbability"/> is computed from the stored weights, not from the table.
/// </para>
/// <para>
/// The catalog grows with <see cref="Rebuild"/> (new weights for all items, old and new) or
/// <see cref="Grow"/> (new items with one weight, old weights kept); both rebuild the table in O(n) and
/// allocate only when the item count exceeds the capacity reserved so far (which doubles). Items of weight 0
/// are never drawn and have log-probability −∞.
/// </para>
/// <para>
/// Randomness: two calls per draw on the seeded <see cref="Random"/> given to the constructor (one
/// <see cref="Random.Next(int)"/> for the column, one <see cref="Random.NextDouble"/> for the coin), so a seed
/// fixes the sequence. Not thread-safe; <see cref="NextItem"/> and <see cref="Sample"/> allocate nothing.
/// </para>
/// </remarks>
public sealed class PopularitySampler : INegativeSampler
{
    private readonly Random _random;
    private float[] _weights = [];
    // Column i keeps item i when the coin u < _threshold[i], else yields _alias[i].
    private double[] _threshold = [];
    private int[] _alias = [];
    // Work lists of the construction, kept so a rebuild of the same size allocates nothing.
    private int[] _small = [];
    private int[] _large = [];
    private double _logTotal;

    /// <summary>Creates a sampler with Q(i) = weights[i] / Σ weights.</summary>
    /// <param name="weights">One weight per item (e.g. count^0.75): finite, ≥ 0, with a positive sum. Copied.</param>
    /// <param name="random">The seeded source of randomness, e.g. <c>new Random(seed)</c>; the sampler takes it over.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty or sums to 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative, NaN or infinite (the message names its position and value).</exception>
    public PopularitySampler(ReadOnlySpan<float> weights, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        Rebuild(weights);
    }

    /// <inheritdoc/>
    public int ItemCount { get; private set; }

    /// <summary>Gets the current weights, one per item (a view that the next rebuild overwrites).</summary>
    public ReadOnlySpan<float> Weights => _weights.AsSpan(0, ItemCount);

    /// <inheritdoc/>
    public int NextItem()
    {
        int column = _random.Next(ItemCount);
        return _random.NextDouble() < _threshold[column] ? column : _alias[column];
    }

    /// <inheritdoc/>
    public void Sample(Span<int> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = NextItem();
        }
    }

    /// <inheritdoc/>
    public float LogProbability(int item)
    {
        SamplerGuard.Item(item, ItemCount, nameof(item));
        return LogQ(item);
    }

    /// <inheritdoc/>
    public void LogProbabilities(ReadOnlySpan<int> items, Span<float> destination)
    {
        SamplerGuard.Items(items, destination, ItemCount);
        for (int k = 0; k < items.Length; k++)
        {
            destination[k] = LogQ(items[k]);
        }
    }

    /// <summary>
    /// Replaces every weight and rebuilds the alias table in O(n): to refresh popularity counts and to add new
    /// items at the end (the catalog may grow, not shrink).
    /// </summary>
    /// <param name="weights">One weight per item, at least <see cref="ItemCount"/> of them: finite, ≥ 0, with a positive sum.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="weights"/> is empty, shorter than <see cref="ItemCount"/>, or sums to 0. The sampler is unchanged.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A weight is negative, NaN or infinite (the message names its position and value). The sampler is unchanged.
    /// </exception>
    public void Rebuild(ReadOnlySpan<float> weights)
    {
        if (weights.Length < Math.Max(1, ItemCount))
        {
            throw new ArgumentException(
                $"'{nameof(weights)}' has length {weights.Length} but needs at least one weight per item ({Math.Max(1, ItemCount)}); catalogs only grow.",
                nameof(weights));
        }

        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!float.IsFinite(w) || w < 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(weights), w, $"weights[{i}] = {w} must be finite and non-negative.");
            }

            total += w;
        }

        if (!(total > 0))
        {
            throw new ArgumentException($"'{nameof(weights)}' sums to {total}; at least one weight must be positive.", nameof(weights));
        }

        EnsureCapacity(weights.Length);
        weights.CopyTo(_weights);
        ItemCount = weights.Length;
        _logTotal = Math.Log(total);
        BuildTable(total);
    }

    /// <summary>
    /// Adds items <see cref="ItemCount"/> .. <paramref name="newItemCount"/> − 1 with weight
    /// <paramref name="newItemWeight"/>, keeping the existing weights (so their probabilities keep their ratios),
    /// and rebuilds the table in O(n).
    /// </summary>
    /// <param name="newItemCount">The new number of items; at least <see cref="ItemCount"/> (equal is a no-op).</param>
    /// <param name="newItemWeight">The weight of each new item (e.g. a smoothing count); finite and ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="newItemCount"/> is smaller than <see cref="ItemCount"/>, or <paramref name="newItemWeight"/>
    /// is negative, NaN or infinite. The sampler is unchanged.
    /// </exception>
    public void Grow(int newItemCount, float newItemWeight)
    {
        if (newItemCount < ItemCount)
        {
            throw new ArgumentOutOfRangeException(nameof(newItemCount), newItemCount,
                $"'{nameof(newItemCount)}' = {newItemCount} is smaller than the current item count {ItemCount}; catalogs only grow.");
        }

        if (!float.IsFinite(newItemWeight) || newItemWeight < 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(newItemWeight), newItemWeight,
                $"'{nameof(newItemWeight)}' = {newItemWeight} must be finite and non-negative.");
        }

        if (newItemCount == ItemCount)
        {
            return;
        }

        int old = ItemCount;
        EnsureCapacity(newItemCount);
        _weights.AsSpan(old, newItemCount - old).Fill(newItemWeight);
        ItemCount = newItemCount;
        double total = 0;
        for (int i = 0; i < newItemCount; i++)
        {
            total += _weights[i];
        }

        _logTotal = Math.Log(total);
        BuildTable(total);
    }

    /// <summary>
    /// The distribution the alias table actually draws from, P(i) = (threshold_i + Σ_{k: alias_k = i} (1 − threshold_k)) / n,
    /// for tests to compare exactly with weights / Σ weights. O(n); not for hot paths.
    /// </summary>
    internal void TableProbabilities(Span<double> destination)
    {
        int n = ItemCount;
        destination[..n].Clear();
        for (int k = 0; k < n; k++)
        {
            destination[k] += _threshold[k] / n;
            destination[_alias[k]] += (1.0 - _threshold[k]) / n;
        }
    }

    private float LogQ(int item) => (float)(Math.Log(_weights[item]) - _logTotal);

    /// <summary>Grows every array to hold at least <paramref name="count"/> items, doubling, keeping the weights.</summary>
    private void EnsureCapacity(int count)
    {
        if (count <= _weights.Length)
        {
            return;
        }

        int capacity = (int)Math.Min(Array.MaxLength, Math.Max(count, 2L * _weights.Length));
        Array.Resize(ref _weights, capacity);
        _threshold = new double[capacity];
        _alias = new int[capacity];
        _small = new int[capacity];
        _large = new int[capacity];
    }

    /// <summary>Vose's construction over the first <see cref="ItemCount"/> weights, whose sum is <paramref name="total"/>.</summary>
    private void BuildTable(double total)
    {
        int n = ItemCount;
        double scale = n / total;
        int smallCount = 0, largeCount = 0, heaviest = 0;
        // Scaled weights have mean 1: columns below 1 need filling, columns at or above 1 can donate.
        for (int i = 0; i < n; i++)
        {
            double p = _weights[i] * scale;
            _threshold[i] = p;
            _alias[i] = i;
            if (_weights[i] > _weights[heaviest])
            {
                heaviest = i;
            }

            if (p < 1.0)
            {
                _small[smallCount++] = i;
            }
            else
            {
                _large[largeCount++] = i;
            }
        }

        while (smallCount > 0 && largeCount > 0)
        {
            int s = _small[--smallCount];
            int l = _large[--largeCount];
            // Column s keeps its own mass p_s and is topped up to 1 by l, which loses 1 − p_s.
            _alias[s] = l;
            double rest = (_threshold[l] + _threshold[s]) - 1.0;
            _threshold[l] = rest;
            if (rest < 1.0)
            {
                _small[smallCount++] = l;
            }
            else
            {
                _large[largeCount++] = l;
            }
        }

        // What is left holds mass 1 up to rounding: it keeps its own column. A weight-0 item can only be left
        // here through rounding too; it must never be drawn, so its column goes to the heaviest item.
        while (largeCount > 0)
        {
            _threshold[_large[--largeCount]] = 1.0;
        }

        while (smallCount > 0)
        {
            int s = _small[--smallCount];
            if (_weights[s] > 0f)
            {
                _threshold[s] = 1.0;
            }
            else
            {
                _threshold[s] = 0.0;
                _alias[s] = heaviest;
            }
        }
    }
}

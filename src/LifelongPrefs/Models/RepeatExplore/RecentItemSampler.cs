namespace LifelongPrefs.Models;

/// <summary>
/// Draws negative items for <see cref="RepeatExplore"/>'s online steps in proportion to how often they were bought
/// recently, mixed with a uniform share so every item can be drawn: the proposal
/// <c>q(i) = (1 − ε)·n_i / n + ε / items</c>, with n_i the item's lines among the last <see cref="Capacity"/> learned
/// ones (a ring buffer), and ε = <see cref="UniformShare"/> (1 before anything was learned).
/// </summary>
/// <remarks>
/// Popular items carry most of the softmax's partition function, so drawing them more often and weighting each draw
/// by <c>1 / (S·q(i))</c> gives a far less noisy estimate of it than uniform draws (the log-Q correction of sampled
/// softmax, Bengio &amp; Senécal 2008; Yi et al., RecSys 2019). Only the writer uses it.
/// </remarks>
internal sealed class RecentItemSampler
{
    /// <summary>The uniform share ε of the proposal.</summary>
    internal const float UniformShare = 0.1f;

    private readonly int[] _ring;
    private float[] _counts = [];
    private int _next;

    /// <summary>Creates an empty sampler remembering the last <paramref name="capacity"/> lines.</summary>
    internal RecentItemSampler(int capacity) => _ring = new int[capacity];

    /// <summary>Gets how many lines the ring holds at most (allocated up front, so learning never grows it).</summary>
    internal int Capacity => _ring.Length;

    /// <summary>Gets how many lines it holds now.</summary>
    internal int Filled { get; private set; }

    /// <summary>Grows the per-item counts to <paramref name="items"/> items.</summary>
    internal void Grow(int items)
    {
        if (items > _counts.Length)
        {
            Array.Resize(ref _counts, Math.Max(items, Math.Min(2 * _counts.Length, Array.MaxLength)));
        }
    }

    /// <summary>Records one learned line of <paramref name="item"/>, forgetting the oldest when full.</summary>
    internal void Add(int item)
    {
        if (Filled == Capacity)
        {
            _counts[_ring[_next]]--;
        }
        else
        {
            Filled++;
        }

        _ring[_next] = item;
        _counts[item]++;
        _next = (_next + 1) % Capacity;
    }

    /// <summary>
    /// Fills <paramref name="items"/> with draws from the proposal and <paramref name="logWeights"/> with their
    /// <see cref="LogWeight"/> for <c>items.Length</c> draws. Each draw makes two generator calls, always, so the
    /// sequence does not depend on the branch: a share in [0, 1), then a pick below the ring's fill (the catalog size
    /// while the ring is empty); the item is the ring's entry at the pick when the ring holds lines and the share is at
    /// least <see cref="UniformShare"/>, else the pick modulo the catalog size.
    /// </summary>
    /// <remarks>
    /// The ring (4 MB) and the counts are far larger than the first cache levels, and each draw reads a random entry of
    /// each: all picks are drawn first and their entries asked for (prefetched) before the first is read, so the misses
    /// overlap. Nothing the picks depend on changes in between (the ring changes only in <see cref="Add"/>). Until
    /// 2026-12-04 each draw read its entries at once; the generator calls, items and weights are the same.
    /// </remarks>
    /// <param name="random">The generator.</param>
    /// <param name="catalog">The number of items.</param>
    /// <param name="items">Receives the drawn items.</param>
    /// <param name="logWeights">Receives their log weights (as long as <paramref name="items"/>).</param>
    internal void SampleInto(Random random, int catalog, Span<int> items, Span<float> logWeights)
    {
        int draws = items.Length;
        bool fromRing = Filled > 0;
        for (int k = 0; k < draws; k++)
        {
            // A ring pick is stored as its complement until it is resolved.
            double share = random.NextDouble();
            int pick = random.Next(fromRing ? Filled : catalog);
            if (fromRing && share >= UniformShare)
            {
                Kernels.Prefetch<int>(_ring.AsSpan(pick, 1));
                items[k] = ~pick;
            }
            else
            {
                items[k] = pick % catalog;
            }
        }

        for (int k = 0; k < draws; k++)
        {
            if (items[k] < 0)
            {
                items[k] = _ring[~items[k]];
            }

            Kernels.Prefetch<float>(_counts.AsSpan(items[k], 1));
        }

        for (int k = 0; k < draws; k++)
        {
            logWeights[k] = LogWeight(items[k], draws, catalog);
        }
    }

    /// <summary>Gets <c>−log(S·q(item))</c>: the log of how many catalog items one of <paramref name="draws"/> draws of it stands for.</summary>
    internal float LogWeight(int item, int draws, int items)
    {
        float q = Filled > 0 ? (1f - UniformShare) * _counts[item] / Filled + UniformShare / items : 1f / items;
        return -MathF.Log(draws * q);
    }

    /// <summary>Copies the ring and its write position out (for saving).</summary>
    internal (int[] Ring, int Next) Export() => (_ring.AsSpan(0, Filled).ToArray(), _next);

    /// <summary>Restores a ring written by <see cref="Export"/> (items already checked against the catalog).</summary>
    internal void Restore(ReadOnlySpan<int> ring, int next, int items)
    {
        Array.Clear(_counts);
        Grow(items);
        ring.CopyTo(_ring);
        Filled = ring.Length;
        _next = next;
        foreach (int item in ring)
        {
            _counts[item]++;
        }
    }
}

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Per-item interaction weights, plain and exponentially time-decayed, owned by the learner thread alone, with each
/// user's share kept so that <see cref="ForgetUser"/> can take it out again (right to erasure).
/// </summary>
/// <remarks>
/// <para>
/// A decayed sum Σ wₑ·2^(−(now − tₑ)/h) is kept as Σ wₑ·2^((tₑ − t₀)/h) for a reference time t₀, so an event costs one
/// addition instead of a pass over every item; when the exponent grows past 2^40 the sums are rescaled to a new
/// reference, long before a double could overflow. The sums are doubles (published as floats), so that taking a
/// user's share out leaves a value within a few ulps of what a stream without that user would have summed.
/// </para>
/// <para>
/// The plain totals are not summed at all: the counts of each (item, kind) are integers and a total is
/// Σ_kind count·weight, computed in one fixed order when published. So a total after <see cref="ForgetUser"/> is
/// bit-identical to the total of a stream that never held the user's events.
/// </para>
/// </remarks>
internal sealed class TrendingCounts(TimeSpan halfLife)
{
    private const double RebaseExponent = 40;
    private const int Kinds = (int)EventKind.Return + 1;
    private static readonly float[] KindWeights = [.. Enumerable.Range(0, Kinds).Select(k => ProfileOptions.Default.KindWeight((EventKind)k))];
    private readonly double _halfLifeTicks = halfLife.Ticks;
    private double[] _scaled = [];
    private long[] _counts = [];   // (item, kind) counts, row-major
    private Dictionary<int, Share>?[] _shares = [];   // per user: per item, the user's counts and decayed sum
    private long _referenceTicks = long.MinValue;

    /// <summary>Gets the newest event time seen.</summary>
    internal long StreamTicks { get; private set; }

    /// <summary>Adds one event.</summary>
    internal void Add(in Interaction e, int itemCount)
    {
        if (itemCount > _scaled.Length)
        {
            int size = (int)Math.Min(Array.MaxLength / Kinds, Math.Max(itemCount, Math.Max(16L, 2L * _scaled.Length)));
            Array.Resize(ref _scaled, size);
            Array.Resize(ref _counts, size * Kinds);
        }

        float w = KindWeights[(int)e.Kind]; // the profiles' kind weights: purchase 1 … view 0.1, return 0
        if (w == 0f)
        {
            return;
        }

        if (_referenceTicks == long.MinValue)
        {
            _referenceTicks = e.Ticks;
        }

        StreamTicks = Math.Max(StreamTicks, e.Ticks);
        double exponent = (e.Ticks - _referenceTicks) / _halfLifeTicks;
        if (exponent > RebaseExponent)
        {
            Rebase(e.Ticks, Math.Pow(2, -exponent));
            exponent = 0;
        }

        double scaled = w * Math.Pow(2, exponent);
        _scaled[e.Item] += scaled;
        _counts[(e.Item * Kinds) + (int)e.Kind]++;
        Share share = ShareOf(e.User, e.Item);
        share.Scaled += scaled;
        share.Counts[(int)e.Kind]++;
    }

    /// <summary>Takes every event of <paramref name="user"/> out of the counts and drops the user's shares.</summary>
    internal void ForgetUser(int user)
    {
        if ((uint)user >= (uint)_shares.Length || _shares[user] is not { } shares)
        {
            return;
        }

        foreach ((int item, Share share) in shares)
        {
            bool left = false;
            for (int k = 0; k < Kinds; k++)
            {
                _counts[(item * Kinds) + k] -= share.Counts[k];
                left |= _counts[(item * Kinds) + k] != 0;
            }

            // Nobody else's event left on the item: its sum is exactly zero, not a rounding residue.
            _scaled[item] = left ? Math.Max(0, _scaled[item] - share.Scaled) : 0;
        }

        _shares[user] = null;
    }

    /// <summary>Copies the decayed weights as of <see cref="StreamTicks"/> and the plain totals, one per item.</summary>
    internal (float[] Trending, float[] Totals) Snapshot(int itemCount)
    {
        var trending = new float[itemCount];
        var totals = new float[itemCount];
        int n = Math.Min(itemCount, _scaled.Length);
        if (n > 0)
        {
            double scale = Math.Pow(2, -(StreamTicks - _referenceTicks) / _halfLifeTicks);
            for (int i = 0; i < n; i++)
            {
                trending[i] = (float)(_scaled[i] * scale);
                totals[i] = Total(i);
            }
        }

        return (trending, totals);
    }

    /// <summary>Gets the raw state (for the tracker's state image): decayed sums, counts and the reference time.</summary>
    internal (double[] Scaled, long[] Counts, long ReferenceTicks) Raw => (_scaled, _counts, _referenceTicks);

    /// <summary>Adds the counts and every user's share as state sections (owner thread parked).</summary>
    internal void WriteState(Persistence.ModelStateWriter writer)
    {
        writer.AddDoubles("trending.scaled", _scaled);
        writer.AddLongs("trending.counts", _counts);
        writer.AddLongs("trending.ticks", [_referenceTicks, StreamTicks]);
        var owners = new List<int>();
        var items = new List<int>();
        var counts = new List<int>();
        var scaled = new List<double>();
        for (int user = 0; user < _shares.Length; user++)
        {
            if (_shares[user] is not { } shares)
            {
                continue;
            }

            foreach ((int item, Share share) in shares.OrderBy(p => p.Key))
            {
                owners.Add(user);
                items.Add(item);
                counts.AddRange(share.Counts);
                scaled.Add(share.Scaled);
            }
        }

        writer.AddInts("trending.share.users", [.. owners]);
        writer.AddInts("trending.share.items", [.. items]);
        writer.AddInts("trending.share.counts", [.. counts]);
        writer.AddDoubles("trending.share.scaled", [.. scaled]);
    }

    /// <summary>Reads and checks the counts of <paramref name="users"/> users; the returned action applies them.</summary>
    internal Action ReadState(Persistence.ModelStateReader reader, int users)
    {
        double[] scaled = reader.Doubles("trending.scaled");
        long[] counts = reader.Longs("trending.counts", (long)scaled.Length * Kinds);
        long[] ticks = reader.Longs("trending.ticks", 2);
        reader.Require(ticks[1] >= 0, "trending stream time is negative");
        reader.Require(Array.TrueForAll(scaled, v => v >= 0) && Array.TrueForAll(counts, v => v >= 0), "trending counts are negative");
        int[] owners = reader.Ints("trending.share.users");
        int[] items = reader.Ints("trending.share.items", owners.Length);
        int[] shareCounts = reader.Ints("trending.share.counts", (long)owners.Length * Kinds);
        double[] shareScaled = reader.Doubles("trending.share.scaled", owners.Length);
        for (int i = 0; i < owners.Length; i++)
        {
            reader.Require((uint)owners[i] < (uint)users && (uint)items[i] < (uint)scaled.Length,
                $"trending share {i} names user {owners[i]} and item {items[i]} outside {users} users and {scaled.Length} items");
            reader.Require(i == 0 || owners[i] > owners[i - 1] || (owners[i] == owners[i - 1] && items[i] > items[i - 1]),
                $"trending share {i} is out of order");
        }

        return () =>
        {
            var shares = new Dictionary<int, Share>?[owners.Length == 0 ? 0 : owners[^1] + 1];
            for (int i = 0; i < owners.Length; i++)
            {
                var share = new Share { Scaled = shareScaled[i] };
                Array.Copy(shareCounts, i * Kinds, share.Counts, 0, Kinds);
                (shares[owners[i]] ??= []).Add(items[i], share);
            }

            (_scaled, _counts, _shares, _referenceTicks, StreamTicks) = (scaled, counts, shares, ticks[0], ticks[1]);
        };
    }

    private float Total(int item)
    {
        float total = 0f;
        for (int k = 0; k < Kinds; k++)
        {
            total += _counts[(item * Kinds) + k] * KindWeights[k];
        }

        return total;
    }

    private Share ShareOf(int user, int item)
    {
        if (user >= _shares.Length)
        {
            Array.Resize(ref _shares, Math.Max(user + 1, Math.Max(16, 2 * _shares.Length)));
        }

        Dictionary<int, Share> shares = _shares[user] ??= [];
        if (!shares.TryGetValue(item, out Share? share))
        {
            share = new Share();
            shares.Add(item, share);
        }

        return share;
    }

    /// <summary>Moves the reference to <paramref name="ticks"/>: every sum (and every user's share) shrinks by <paramref name="factor"/>.</summary>
    private void Rebase(long ticks, double factor)
    {
        for (int i = 0; i < _scaled.Length; i++)
        {
            _scaled[i] *= factor;
        }

        foreach (Dictionary<int, Share>? shares in _shares)
        {
            if (shares is null)
            {
                continue;
            }

            foreach (Share share in shares.Values)
            {
                share.Scaled *= factor;
            }
        }

        _referenceTicks = ticks;
    }

    /// <summary>One user's part of one item's counts.</summary>
    private sealed class Share
    {
        internal readonly int[] Counts = new int[Kinds];
        internal double Scaled;
    }
}

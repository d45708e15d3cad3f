using LifelongPrefs.Data;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Per-item interaction weights, plain and exponentially time-decayed, owned by the learner thread alone.
/// </summary>
/// <remarks>
/// A decayed sum Σ wₑ·2^(−(now − tₑ)/h) is kept as Σ wₑ·2^((tₑ − t₀)/h) for a reference time t₀, so an event costs one
/// addition instead of a pass over every item; when the exponent grows past 2^40 the sums are rescaled to a new
/// reference, long before float32 could overflow.
/// </remarks>
internal sealed class TrendingCounts(TimeSpan halfLife)
{
    private const double RebaseExponent = 40;
    private readonly double _halfLifeTicks = halfLife.Ticks;
    private float[] _scaled = [];
    private float[] _totals = [];
    private long _referenceTicks = long.MinValue;

    /// <summary>Gets the newest event time seen.</summary>
    internal long StreamTicks { get; private set; }

    /// <summary>Adds one event.</summary>
    internal void Add(in Interaction e, int itemCount)
    {
        if (itemCount > _totals.Length)
        {
            int size = (int)Math.Min(Array.MaxLength, Math.Max(itemCount, Math.Max(16L, 2L * _totals.Length)));
            Array.Resize(ref _scaled, size);
            Array.Resize(ref _totals, size);
        }

        float w = ProfileOptions.Default.KindWeight(e.Kind); // the profiles' kind weights: purchase 1 … view 0.1, return 0
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
            // Move the reference to this event: every sum shrinks by 2^exponent, this event adds w·2^0.
            float factor = (float)Math.Pow(2, -exponent);
            for (int i = 0; i < _scaled.Length; i++)
            {
                _scaled[i] *= factor;
            }

            _referenceTicks = e.Ticks;
            exponent = 0;
        }

        _scaled[e.Item] += (float)(w * Math.Pow(2, exponent));
        _totals[e.Item] += w;
    }

    /// <summary>Copies the decayed weights as of <see cref="StreamTicks"/> and the plain totals, one per item.</summary>
    internal (float[] Trending, float[] Totals) Snapshot(int itemCount)
    {
        var trending = new float[itemCount];
        var totals = new float[itemCount];
        int n = Math.Min(itemCount, _totals.Length);
        if (n > 0)
        {
            float scale = (float)Math.Pow(2, -(StreamTicks - _referenceTicks) / _halfLifeTicks);
            for (int i = 0; i < n; i++)
            {
                trending[i] = _scaled[i] * scale;
            }

            _totals.AsSpan(0, n).CopyTo(totals);
        }

        return (trending, totals);
    }

    /// <summary>Adds the counts as state sections (owner thread parked).</summary>
    internal void WriteState(Persistence.ModelStateWriter writer)
    {
        writer.AddFloats("trending.scaled", _scaled);
        writer.AddFloats("trending.totals", _totals);
        writer.AddLongs("trending.ticks", [_referenceTicks, StreamTicks]);
    }

    /// <summary>Reads and checks the counts; the returned action applies them.</summary>
    internal Action ReadState(Persistence.ModelStateReader reader)
    {
        float[] scaled = reader.Floats("trending.scaled");
        float[] totals = reader.Floats("trending.totals", scaled.Length);
        long[] ticks = reader.Longs("trending.ticks", 2);
        reader.Require(ticks[1] >= 0, "trending stream time is negative");
        return () => (_scaled, _totals, _referenceTicks, StreamTicks) = (scaled, totals, ticks[0], ticks[1]);
    }
}

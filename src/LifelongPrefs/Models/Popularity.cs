namespace LifelongPrefs.Models;

/// <summary>
/// Recommends what most people buy: each item's score is its number of positive events, optionally
/// time-decayed so that recent events count more (a half-life in days).
/// </summary>
/// <remarks>
/// The non-personal baseline. With decay, an event at time t weighs 2^((t − t_last)/halfLife) relative to the
/// newest event t_last; weights are kept against a fixed reference time and rebased when they grow large, so
/// <see cref="Update"/> is O(new events) and never overflows.
/// </remarks>
public sealed class Popularity : Recommender
{
    private const double RebaseLimit = 500; // 2^500 is far below double's range, far above any count
    private readonly double _halfLifeTicks;
    private double[] _weights = [];
    private long _referenceTicks = long.MinValue;
    private int _userCount;

    /// <summary>Creates the model.</summary>
    /// <param name="halfLifeDays">Half-life of an event's weight in days; null (the default) for plain counts.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="halfLifeDays"/> is not positive and finite.</exception>
    public Popularity(double? halfLifeDays = null)
    {
        if (halfLifeDays is { } days && (!(days > 0) || !double.IsFinite(days)))
        {
            throw new ArgumentOutOfRangeException(nameof(halfLifeDays), days, $"'{nameof(halfLifeDays)}' must be positive and finite but was {days}.");
        }

        _halfLifeTicks = halfLifeDays is { } d ? d * TimeSpan.TicksPerDay : double.PositiveInfinity;
    }

    /// <inheritdoc/>
    public override string Name => double.IsPositiveInfinity(_halfLifeTicks) ? "Popularity" : "Popularity(decayed)";

    /// <inheritdoc/>
    public override int ItemCount => _weights.Length;

    /// <summary>Gets the current (possibly decayed, possibly rebased) weight of an item: only ratios are meaningful.</summary>
    /// <param name="item">The item index.</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is not in [0, <see cref="ItemCount"/>).</exception>
    public double Weight(int item)
    {
        if ((uint)item >= (uint)_weights.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(item), item, $"'{nameof(item)}' must be in [0, {_weights.Length}) but was {item}.");
        }

        return _weights[item];
    }

    /// <inheritdoc/>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        _weights = new double[itemCount];
        _referenceTicks = long.MinValue;
        _userCount = userCount;
        Accumulate(events);
        progress?.Report(new TrainingProgress(Name, 1, 1, double.NaN, double.NaN, TimeSpan.Zero, TimeSpan.Zero));
    }

    /// <inheritdoc/>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, _weights.Length);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        if (itemCount > _weights.Length)
        {
            Array.Resize(ref _weights, itemCount);
        }

        _userCount = userCount;
        Accumulate(newEvents);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.Scoring(history, scores, _weights.Length);
        PopularityScorer.Score(_weights, scores);
    }

    /// <inheritdoc/>
    public override IScorer CreateScorer() => new PopularityScorer((double[])_weights.Clone());

    // The half-life is the one option; plain counts have an infinite half-life.
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.Popularity, 1, OptionsFingerprint.Canonical(new { HalfLifeTicks = _halfLifeTicks }));

    /// <inheritdoc/>
    private protected override void WriteState(ModelStateWriter writer) => WriteState(writer, "");

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader) => ReadState(reader, "");

    /// <summary>Adds the weights, reference time and user count under <paramref name="prefix"/> (also used by <see cref="PersonalPopularity"/>).</summary>
    internal void WriteState(ModelStateWriter writer, string prefix)
    {
        writer.AddDoubles(prefix + "weights", _weights);
        writer.AddLong(prefix + "referenceTicks", _referenceTicks);
        writer.AddInt(prefix + "userCount", _userCount);
    }

    /// <summary>Validates the sections written by <see cref="WriteState(ModelStateWriter, string)"/> and returns the action that applies them.</summary>
    internal Action ReadState(ModelStateReader reader, string prefix)
    {
        double[] weights = reader.Doubles(prefix + "weights");
        long reference = reader.Long(prefix + "referenceTicks");
        int users = reader.Int(prefix + "userCount");
        reader.Require(users >= 0 && !Array.Exists(weights, w => w < 0), "negative weights or user count");
        return () => (_weights, _referenceTicks, _userCount) = (weights, reference, users);
    }

    private void Accumulate(IReadOnlyList<Interaction> events)
    {
        bool decay = !double.IsPositiveInfinity(_halfLifeTicks);
        for (int i = 0; i < events.Count; i++)
        {
            Interaction e = events[i];
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (!decay)
            {
                _weights[e.Item] += 1;
                continue;
            }

            if (_referenceTicks == long.MinValue)
            {
                _referenceTicks = e.Ticks;
            }

            double exponent = (e.Ticks - _referenceTicks) / _halfLifeTicks;
            if (exponent > RebaseLimit)
            {
                // Move the reference forward: scale every weight down instead of letting them overflow.
                double shrink = Math.Pow(2, -exponent);
                for (int j = 0; j < _weights.Length; j++)
                {
                    _weights[j] *= shrink;
                }

                _referenceTicks = e.Ticks;
                exponent = 0;
            }

            _weights[e.Item] += Math.Pow(2, exponent);
        }
    }
}

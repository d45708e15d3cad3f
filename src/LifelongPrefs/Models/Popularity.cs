using LifelongPrefs.Data;
using LifelongPrefs.Training;

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
public sealed class Popularity : ISavableRecommender
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
    public string Name => double.IsPositiveInfinity(_halfLifeTicks) ? "Popularity" : "Popularity(decayed)";

    /// <inheritdoc/>
    public int ItemCount => _weights.Length;

    /// <summary>Gets the current (possibly decayed, possibly rebased) weight of an item: only ratios are meaningful.</summary>
    /// <param name="item">The item index.</param>
    /// <returns>The weight.</returns>
    public double Weight(int item) => _weights[item];

    /// <inheritdoc/>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
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
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
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
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.ScoreLength(scores, _weights.Length);
        double max = 0;
        foreach (double w in _weights)
        {
            max = Math.Max(max, w);
        }

        // Normalised to [0, 1] so that float keeps the ordering even after decay weights grew large.
        double scale = max > 0 ? 1 / max : 0;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = (float)(_weights[i] * scale);
        }
    }

    /// <inheritdoc/>
    public void Save(Stream stream) => ModelState.Write(stream, Name, StateSections());

    /// <inheritdoc/>
    public void Load(Stream stream) => Restore(ModelState.Read(stream, Name), Name);

    internal List<(string, Array)> StateSections() =>
    [
        ("weights", (double[])_weights.Clone()),
        ("halfLifeTicks", new[] { _halfLifeTicks }),
        ("referenceTicks", new[] { (int)(_referenceTicks >> 32), (int)(_referenceTicks & 0xFFFFFFFF) }),
        ("userCount", new[] { _userCount }),
    ];

    internal void Restore(Dictionary<string, Array> sections, string model)
    {
        double[] weights = ModelState.Section<double>(sections, "weights", model);
        double[] halfLife = ModelState.Section<double>(sections, "halfLifeTicks", model);
        int[] reference = ModelState.Section<int>(sections, "referenceTicks", model);
        int[] users = ModelState.Section<int>(sections, "userCount", model);
        if (halfLife.Length != 1 || !halfLife[0].Equals(_halfLifeTicks))
        {
            throw new ModelStateException($"The state was saved with a different half-life than this {model} was created with.");
        }

        if (reference.Length != 2 || users.Length != 1 || users[0] < 0 || Array.Exists(weights, w => !double.IsFinite(w) || w < 0))
        {
            throw new ModelStateException($"The saved {model} state has inconsistent sections.");
        }

        // Everything validated: now swap the state in.
        _weights = weights;
        _referenceTicks = ((long)reference[0] << 32) | (uint)reference[1];
        _userCount = users[0];
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

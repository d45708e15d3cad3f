namespace LifelongPrefs.Models;

/// <summary>The continual-learning seam of BPR-MF (<see cref="IContinualModel"/>): weighted pairs, replayed pairs, the tables.</summary>
public sealed partial class BprMf : IContinualModel, IForgettingModel
{
    private float[] _pairWeights = [];   // one per training pair during a weighted run, else empty
    private float[] _batchWeights = [];  // per-batch scratch, sized BatchSize on the first weighted run
    private int _lastBatch;

    /// <inheritdoc/>
    int IContinualModel.Dimensions => _options.Dimensions;

    /// <inheritdoc/>
    Parameter IContinualModel.UserFactors => _users;

    /// <inheritdoc/>
    Parameter IContinualModel.ItemFactors => _items;

    /// <inheritdoc/>
    Parameter IContinualModel.ItemBias => _itemBias;

    /// <inheritdoc/>
    int IContinualModel.LastBatchSize => _lastBatch;

    /// <inheritdoc/>
    long IContinualModel.LearnedPairCount
    {
        get
        {
            long pairs = 0;
            for (int u = 0; u < _seen.UserCount; u++)
            {
                pairs += _seen.Of(u).Count;
            }

            return pairs;
        }
    }

    /// <inheritdoc/>
    bool IContinualModel.IsTrainedUser(int user) => IsTrained(user);

    /// <inheritdoc/>
    void IContinualModel.BeginUpdate(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount, List<ContinualPair> pairs)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users.Rows, _items.Rows, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        foreach (Interaction e in newEvents)
        {
            if (_seen.Add(e))
            {
                pairs.Add(new ContinualPair(e.User, e.Item, e.Ticks));
            }
        }
    }

    /// <inheritdoc/>
    void IContinualModel.TrainPairs(List<(int User, int Item)> pairs, float[] weights)
    {
        if (weights.Length != 0 && weights.Length != pairs.Count)
        {
            throw new ArgumentException($"'{nameof(weights)}' holds {weights.Length} weights for {pairs.Count} pairs.", nameof(weights));
        }

        if (weights.Length > 0 && _batchWeights.Length == 0)
        {
            _batchWeights = new float[_options.BatchSize];
        }

        _pairWeights = weights;
        try
        {
            Train(pairs, _options.UpdateEpochs, null, null, CancellationToken.None);
        }
        finally
        {
            _pairWeights = [];
        }
    }

    /// <summary>Notes the batch size and gathers the examples' weights (when the run is weighted) into the batch scratch.</summary>
    private void GatherWeights(ReadOnlySpan<int> examples)
    {
        _lastBatch = examples.Length;
        if (_pairWeights.Length > 0)
        {
            for (int k = 0; k < examples.Length; k++)
            {
                _batchWeights[k] = _pairWeights[examples[k]];
            }
        }
    }

    /// <summary>The first <paramref name="n"/> batch weights of a weighted run, else empty (all 1: the unweighted loss bit for bit).</summary>
    private ReadOnlySpan<float> BatchWeights(int n) => _pairWeights.Length > 0 ? _batchWeights.AsSpan(0, n) : [];
}

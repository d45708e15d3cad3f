using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Models;

public sealed partial class PropensityMlp
{
    /// <summary>
    /// Replays <paramref name="events"/> into <paramref name="features"/>, emitting examples for each user's latest
    /// <paramref name="labelBaskets"/> baskets among them, with features as of just before each basket.
    /// </summary>
    private (List<float> X, List<float> Y) Replay(PropensityFeatures features, IReadOnlyList<Interaction> events,
        int labelBaskets, Random random)
    {
        // Pass 1: each user's distinct positive basket keys in order; the last few are label windows.
        var keys = new Dictionary<int, List<long>>();
        foreach (Interaction e in events)
        {
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (!keys.TryGetValue(e.User, out List<long>? list))
            {
                keys[e.User] = list = [];
            }

            long key = e.BasketKey;
            if (list.Count == 0 || list[^1] != key)
            {
                list.Add(key);
            }
        }

        var labels = new Dictionary<(int User, long Key), List<int>>();
        foreach (var (user, list) in keys)
        {
            for (int k = Math.Max(0, list.Count - labelBaskets); k < list.Count; k++)
            {
                labels[(user, list[k])] = [];
            }
        }

        // Pass 2: the distinct positive items of each label basket.
        foreach (Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e) && labels.TryGetValue((e.User, e.BasketKey), out List<int>? items)
                && !items.Contains(e.Item))
            {
                items.Add(e.Item);
            }
        }

        // Pass 3: replay; at a label basket's first event, emit its examples before observing it.
        var x = new List<float>();
        var y = new List<float>();
        var row = new float[Width];
        foreach (Interaction e in events)
        {
            if (RecommenderGuard.IsPositive(e) && labels.Remove((e.User, e.BasketKey), out List<int>? positives))
            {
                features.Advance(e.Ticks);
                Emit(features, features.User(e.User), positives, e.Ticks, random, x, y, row);
            }

            features.Observe(e);
        }

        return (x, y);
    }

    /// <summary>Appends the positives of one label basket and their sampled negatives.</summary>
    private void Emit(PropensityFeatures features, PropensityFeatures.UserState? user, List<int> positives, long now,
        Random random, List<float> x, List<float> y, float[] row)
    {
        int items = features.ItemCount;
        foreach (int item in positives)
        {
            features.WriteRow(user, item, now, row);
            x.AddRange(row);
            y.Add(1f);
        }

        int uniform = _options.NegativesPerPositive * positives.Count;
        for (int n = 0; n < uniform; n++)
        {
            // Redraw a few times on a hit: with a basket far smaller than the catalog this almost never loops.
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int item = random.Next(items);
                if (!positives.Contains(item))
                {
                    features.WriteRow(user, item, now, row);
                    x.AddRange(row);
                    y.Add(0f);
                    break;
                }
            }
        }

        if (user is null || user.ItemList.Count == 0)
        {
            return;
        }

        int repeat = _options.RepeatNegativesPerPositive * positives.Count;
        for (int n = 0; n < repeat; n++)
        {
            int item = user.ItemList[random.Next(user.ItemList.Count)];
            if (!positives.Contains(item))
            {
                features.WriteRow(user, item, now, row);
                x.AddRange(row);
                y.Add(0f);
            }
        }
    }

    /// <summary>Forward and backward on the examples at <paramref name="index"/> (no step); returns the batch's mean loss.</summary>
    float IEpochModel.Backward(ReadOnlySpan<int> index)
    {
        float[] inputs = _trainInputs, targets = _trainTargets;
        int n = index.Length;
        // x: (n, Width) gathered from the standardised example matrix.
        Tensor x = _batch.Get(n, Width);
        Kernels.GatherRows(inputs, Width, index, x.Span);
        Span<float> y = _targets.AsSpan(0, n);
        for (int k = 0; k < n; k++)
        {
            y[k] = targets[index[k]];
        }

        Tensor logits = _net.Forward(x); // (n, 1)
        Tensor gradient = _gradient.Get(n, 1);
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(logits.Span, y, [], [], gradient.Span);
        _net.Backward(gradient);
        return loss;
    }
}

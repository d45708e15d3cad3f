using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Models;

public sealed partial class RepeatAware
{
    /// <summary>Feature rows and 0/1 labels of every training example's candidates.</summary>
    private (float[] X, float[] Y, float[] W) BuildRows(List<(int User, long Key)> targets, CancellationToken cancellationToken)
    {
        var x = new List<float>();
        var y = new List<float>();
        var w = new List<float>();
        var drawn = new HashSet<int>();
        var all = new float[_items * F];
        var candidates = new HashSet<int>();
        var positives = new HashSet<int>();
        var history = new List<Interaction>();
        var masked = new float[_items];
        int k = Math.Min(_options.ExploreCandidates, _items);
        var topItems = new int[k];
        var topScores = new float[k];
        foreach (var (user, key) in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            history.Clear();
            positives.Clear();
            foreach (ref readonly Interaction e in _histories.EventsOf(user))
            {
                if (e.BasketKey != key)
                {
                    history.Add(e);
                }
                else if (RecommenderGuard.IsPositive(e))
                {
                    positives.Add(e.Item);
                }
            }

            _features.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history), _knn, _popularity,
                _maxPopularity, _items, all);
            candidates.Clear();
            candidates.UnionWith(_features.Bought);

            // The strongest never-bought co-occurrence items: the explore candidates the model must learn to order.
            _features.KnnScores[.._items].CopyTo(masked);
            foreach (int item in _features.Bought)
            {
                masked[item] = float.NegativeInfinity;
            }

            int found = Kernels.TopK(masked, topItems, topScores);
            for (int j = 0; j < found; j++)
            {
                if (topScores[j] > 0f)
                {
                    candidates.Add(topItems[j]);
                }
            }

            // Uniform draws stand for the rest of the catalogue. Target items are NOT forced in: that would make
            // never-bought rows look far likelier to be bought than they are among thousands of items. Each draw is
            // weighted by rest / draws so the weighted loss estimates the BCE over the whole catalogue.
            drawn.Clear();
            for (int j = 0; j < _options.RandomNegatives; j++)
            {
                int item = _random.Next(_items);
                if (!candidates.Contains(item))
                {
                    drawn.Add(item);
                }
            }

            float restWeight = drawn.Count == 0 ? 0f : (float)(_items - candidates.Count) / drawn.Count;
            foreach (int item in candidates.Order())
            {
                AddRow(item, 1f);
            }

            foreach (int item in drawn.Order())
            {
                AddRow(item, restWeight);
            }
        }

        void AddRow(int item, float weight)
        {
            for (int c = 0; c < F; c++)
            {
                x.Add(all[item * F + c]);
            }

            y.Add(positives.Contains(item) ? 1f : 0f);
            w.Add(weight);
        }

        return ([.. x], [.. y], [.. w]);
    }

    /// <summary>Forward and backward of the weighted BCE on one full batch of rows (no step).</summary>
    float IEpochModel.Backward(ReadOnlySpan<int> order)
    {
        int b = order.Length;
        float[] x = _rowsX, y = _rowsY, w = _rowsW;
        Span<float> batch = _batch.Span, user = _batchUser.Span;
        for (int r = 0; r < b; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(order[r] * F, F);
            row.CopyTo(batch.Slice(r * F, F));
            row.Slice(RepeatAwareFeatures.UserColumn, RepeatAwareFeatures.UserColumns)
                .CopyTo(user.Slice(r * RepeatAwareFeatures.UserColumns, RepeatAwareFeatures.UserColumns));
            _labels[r] = y[order[r]];
            _weights[r] = w[order[r]];
        }

        // logit = mlp(f) + bought · gate(c): forward both, then combine.
        ReadOnlySpan<float> s = _mlp.Forward(_batch).Span;
        ReadOnlySpan<float> g = _gate.Forward(_batchUser).Span;
        for (int r = 0; r < b; r++)
        {
            _logits[r] = s[r] + batch[r * F + RepeatAwareFeatures.BoughtColumn] * g[r];
        }

        Span<float> dLogit = _gradLogits.Span;
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(_logits, _labels, _weights, [], dLogit);

        // d logit / d gate = bought, d logit / d mlp = 1.
        Span<float> dGate = _gradGate.Span;
        for (int r = 0; r < b; r++)
        {
            dGate[r] = dLogit[r] * batch[r * F + RepeatAwareFeatures.BoughtColumn];
        }

        _mlp.Backward(_gradLogits);
        _gate.Backward(_gradGate);
        return loss;
    }
}

namespace LifelongPrefs.Models;

public sealed partial class PropensityMlp
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.PropensityMlp, 1, OptionsFingerprint.Canonical(_options));

    private KeyValuePair<string, Parameter>[] NamedParameters() => [.. _net.NamedParameters().Select(p => KeyValuePair.Create("net." + p.Key, p.Value))];

    /// <inheritdoc/>
    /// <remarks>
    /// Saves every network parameter under its path (<c>net.0.weight</c>, …), the batch-norm running statistics, Adam's
    /// two moment buffers per parameter and its step count, the random generators' states (sampling and shuffling,
    /// dropout), the standard scaler, the holdout report and the whole feature state (per-item counts, buyers,
    /// recent-window counts and last-purchase times, the recent-window queue, and each user's basket count, current
    /// basket key, last purchase, net spend and per-item statistics in first-purchase order), so a fresh instance with
    /// the same options scores bit-identically after <see cref="Recommender.Load"/>, and <see cref="Update"/> after a load continues
    /// exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted run).
    /// </remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        KeyValuePair<string, Parameter>[] named = NamedParameters();
        writer.AddInt("featureWidth", Width);
        writer.AddInt("userCount", _userCount);
        writer.AddFloats("scaler.mean", _scalerMean);
        writer.AddFloats("scaler.scale", _scalerScale);
        if (HoldoutClassification is { } report)
        {
            // Float sections must be finite, so a NaN metric (e.g. AUC without negatives) is stored as 0 plus a mask bit.
            double[] metrics = [report.Examples, report.PositiveRate, report.Auc, report.Accuracy, report.Precision, report.Recall, report.F1, report.LogLoss];
            int nanMask = 0;
            for (int k = 0; k < metrics.Length; k++)
            {
                if (!double.IsFinite(metrics[k]))
                {
                    (nanMask, metrics[k]) = (nanMask | (1 << k), 0);
                }
            }

            writer.AddDoubles("holdout", metrics);
            writer.AddInt("holdout.nanMask", nanMask);
        }

        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        writer.AddRandom("dropoutRandom", _dropoutRandom);
        for (int b = 0; b < _norms.Length; b++)
        {
            writer.AddFloats($"norm{b}.runningMean", _norms[b].RunningMeanTensor);
            writer.AddFloats($"norm{b}.runningVariance", _norms[b].RunningVarianceTensor);
        }

        if (_features is not null)
        {
            AddFeatureSections(_features, writer);
        }
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    /// <remarks>See <see cref="WriteState"/> for what is restored.</remarks>
    private protected override Action ReadState(ModelStateReader reader)
    {
        reader.Require(reader.Int("featureWidth") == Width, $"the feature width is not {Width}");
        int userCount = reader.Int("userCount");
        reader.Require(userCount >= 0, $"{userCount} users");
        float[] scalerMean = reader.Floats("scaler.mean");
        float[] scalerScale = reader.Floats("scaler.scale", scalerMean.Length);
        reader.Require((scalerMean.Length == 0 || scalerMean.Length == Width) && Array.TrueForAll(scalerScale, v => v > 0f), "the scaler");
        PropensityClassificationReport? holdout = null;
        if (reader.Has("holdout"))
        {
            double[] m = reader.Doubles("holdout", 8);
            int nanMask = reader.Int("holdout.nanMask");
            reader.Require(m[0] >= 0 && m[0] <= int.MaxValue && m[0] == Math.Floor(m[0]) && (uint)nanMask < 1u << 8 && (nanMask & 1) == 0, "the holdout report");
            for (int k = 0; k < m.Length; k++)
            {
                m[k] = (nanMask & (1 << k)) != 0 ? double.NaN : m[k];
            }

            holdout = new PropensityClassificationReport((int)m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
        }

        KeyValuePair<string, Parameter>[] named = NamedParameters();
        float[][] values = reader.Parameters(named);
        SavedOptimizer moments = reader.Optimizer(_optimizer, named);
        var norms = new float[2 * _norms.Length][];
        for (int b = 0; b < _norms.Length; b++)
        {
            norms[2 * b] = reader.Floats($"norm{b}.runningMean", _norms[b].Features);
            norms[2 * b + 1] = reader.Floats($"norm{b}.runningVariance", _norms[b].Features);
        }

        PropensityFeatures? features = reader.Has("features.itemEvents") ? ReadFeatures(reader, userCount) : null;
        int[] randomState = reader.Random("random");
        int[] dropoutRandomState = reader.Random("dropoutRandom");

        return () =>
        {
            // Everything validated: swap the state in.
            FixedShapeState.Apply(named, values, moments, _optimizer, _random, randomState);
            _dropoutRandom.SetState(dropoutRandomState);
            for (int b = 0; b < _norms.Length; b++)
            {
                norms[2 * b].CopyTo(_norms[b].RunningMeanTensor.Span);
                norms[2 * b + 1].CopyTo(_norms[b].RunningVarianceTensor.Span);
            }

            _scalerMean = scalerMean;
            _scalerScale = scalerScale;
            HoldoutClassification = holdout;
            _features = features;
            _userCount = userCount;
        };
    }

    /// <summary>Adds the feature state's sections (per-user items as CSR, their statistics aligned with its entries).</summary>
    private static void AddFeatureSections(PropensityFeatures features, ModelStateWriter writer)
    {
        (long Ticks, int Item)[] window = [.. features.Window];
        int users = features.UserCount;
        var present = new int[users];
        var baskets = new int[users];
        var keys = new long[users];
        var lastPurchase = new long[users];
        var monetary = new double[users];
        var offsets = new int[users + 1];
        var userItems = new List<int>();
        var itemBaskets = new List<int>();
        var itemLastBasket = new List<int>();
        var itemLastTicks = new List<long>();
        for (int u = 0; u < users; u++)
        {
            PropensityFeatures.UserState? user = features.User(u);
            if (user is not null)
            {
                (present[u], baskets[u], keys[u], lastPurchase[u], monetary[u]) = (1, user.Baskets, user.CurrentKey, user.LastPurchaseTicks, user.Monetary);
                foreach (int item in user.ItemList)
                {
                    PropensityFeatures.UserItemState s = user.Items[item];
                    userItems.Add(item);
                    itemBaskets.Add(s.Baskets);
                    itemLastBasket.Add(s.LastBasket);
                    itemLastTicks.Add(s.LastTicks);
                }
            }

            offsets[u + 1] = userItems.Count;
        }

        writer.AddLong("features.latestTicks", features.LatestTicks);
        writer.AddFloats("features.itemEvents", features.ItemEvents);
        writer.AddFloats("features.itemBuyers", features.ItemBuyers);
        writer.AddFloats("features.itemRecent", features.ItemRecent);
        writer.AddLongs("features.itemLast", features.ItemLast);
        writer.AddLongs("features.windowTicks", [.. window.Select(w => w.Ticks)]);
        writer.AddInts("features.windowItems", [.. window.Select(w => w.Item)]);
        writer.AddInts("features.userPresent", present);
        writer.AddInts("features.userBaskets", baskets);
        writer.AddLongs("features.userKey", keys);
        writer.AddLongs("features.userLastPurchase", lastPurchase);
        writer.AddDoubles("features.userMonetary", monetary);
        writer.AddCsr("features.userItems", offsets, [.. userItems]);
        writer.AddInts("features.userItemBaskets", [.. itemBaskets]);
        writer.AddInts("features.userItemLastBasket", [.. itemLastBasket]);
        writer.AddLongs("features.userItemLastTicks", [.. itemLastTicks]);
    }

    /// <summary>Validates the feature sections and builds a new feature state from them (the model is not touched).</summary>
    private PropensityFeatures ReadFeatures(ModelStateReader reader, int users)
    {
        long latest = reader.Long("features.latestTicks");
        float[] count = reader.Floats("features.itemEvents");
        int items = count.Length;
        float[] buyers = reader.Floats("features.itemBuyers", items);
        float[] recent = reader.Floats("features.itemRecent", items);
        long[] itemLast = reader.Longs("features.itemLast", items);
        int[] windowItems = reader.Ints("features.windowItems");
        long[] windowTicks = reader.Longs("features.windowTicks", windowItems.Length);
        int[] present = reader.Ints("features.userPresent", users);
        int[] baskets = reader.Ints("features.userBaskets", users);
        long[] keys = reader.Longs("features.userKey", users);
        long[] lastPurchase = reader.Longs("features.userLastPurchase", users);
        double[] monetary = reader.Doubles("features.userMonetary", users);
        var (offsets, userItems) = reader.Csr("features.userItems", users, items);
        int pairs = userItems.Length;
        int[] itemBaskets = reader.Ints("features.userItemBaskets", pairs);
        int[] itemLastBasket = reader.Ints("features.userItemLastBasket", pairs);
        long[] itemLastTicks = reader.Longs("features.userItemLastTicks", pairs);

        bool consistent = Array.TrueForAll(count, v => v >= 0f) && Array.TrueForAll(buyers, v => v >= 0f)
            && Array.TrueForAll(recent, v => v >= 0f) && Array.TrueForAll(windowItems, i => (uint)i < (uint)items);
        var seen = new HashSet<int>();
        var restored = new PropensityFeatures.UserState?[users];
        for (int u = 0; consistent && u < users; u++)
        {
            int start = offsets[u], end = offsets[u + 1];
            consistent = (uint)present[u] <= 1u && baskets[u] >= 0 && (present[u] == 1 || (start == end && baskets[u] == 0));
            if (!consistent || present[u] == 0)
            {
                continue;
            }

            seen.Clear();
            var list = new (int Item, PropensityFeatures.UserItemState State)[end - start];
            for (int k = start; consistent && k < end; k++)
            {
                consistent = seen.Add(userItems[k]) && itemBaskets[k] >= 1 && itemLastBasket[k] >= 1 && itemLastBasket[k] <= baskets[u];
                list[k - start] = (userItems[k], new PropensityFeatures.UserItemState
                {
                    Baskets = itemBaskets[k],
                    LastBasket = itemLastBasket[k],
                    LastTicks = itemLastTicks[k],
                });
            }

            if (consistent)
            {
                restored[u] = PropensityFeatures.UserState.Restore(keys[u], baskets[u], lastPurchase[u], monetary[u], list);
            }
        }

        reader.Require(consistent, "the feature sections disagree");
        var window = new (long Ticks, int Item)[windowItems.Length];
        for (int k = 0; k < window.Length; k++)
        {
            window[k] = (windowTicks[k], windowItems[k]);
        }

        return PropensityFeatures.Restore(TimeSpan.FromDays(_options.RecentWindowDays), restored, count, buyers, recent,
            itemLast, window, latest);
    }
}

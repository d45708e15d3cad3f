using System.Diagnostics;
using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="PropensityMlp"/>. Defaults were chosen by a four-run sweep on the Online Retail
/// next-basket protocol within the 60-second training budget: repeat negatives (2 per positive) cut NDCG@20 from
/// 0.313 to 0.173 (they over-represent the user's own items among negatives, so the net learns to distrust
/// re-purchases); three label baskets per user or 20 negatives per positive gained under 0.002 for 1.6–3× the time.
/// </summary>
/// <param name="Hidden1">Units of the first hidden layer.</param>
/// <param name="Hidden2">Units of the second hidden layer.</param>
/// <param name="Dropout">Dropout probability after each hidden layer, in [0, 1).</param>
/// <param name="Epochs">Maximum passes over the training examples in <see cref="PropensityMlp.Fit"/>.</param>
/// <param name="Patience">Epochs without a validation improvement before stopping early.</param>
/// <param name="UpdateEpochs">Passes over the new examples in <see cref="PropensityMlp.Update"/>.</param>
/// <param name="BatchSize">Examples per optimizer step; at least 2 (batch normalisation needs two rows).</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WeightDecay">Adam's coupled L2 coefficient.</param>
/// <param name="LabelBasketsPerUser">How many of each user's latest training baskets become label windows.</param>
/// <param name="NegativesPerPositive">Uniformly sampled catalog negatives per positive item.</param>
/// <param name="RepeatNegativesPerPositive">Extra negatives per positive drawn from the user's earlier items that are not in the basket (0 by default: see above).</param>
/// <param name="RecentWindowDays">Length of the window of the "recent popularity" item feature, in days.</param>
/// <param name="ValidationUsers">Users whose last basket is held out for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, dropout, shuffling, sampling and the validation split.</param>
public sealed record PropensityMlpOptions(int Hidden1 = 64, int Hidden2 = 32, float Dropout = 0.1f, int Epochs = 8,
    int Patience = 2, int UpdateEpochs = 2, int BatchSize = 512, float LearningRate = 3e-3f, float WeightDecay = 0f,
    int LabelBasketsPerUser = 1, int NegativesPerPositive = 10, int RepeatNegativesPerPositive = 0,
    int RecentWindowDays = 30, int ValidationUsers = 500, int Seed = 42)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden1, nameof(Hidden1));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden2, nameof(Hidden2));
        if (!(Dropout >= 0f && Dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, $"'{nameof(Dropout)}' must be in [0, 1) but was {Dropout}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Epochs, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"'{nameof(LearningRate)}' must be positive and finite but was {LearningRate}.");
        }

        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, $"'{nameof(WeightDecay)}' must be non-negative and finite but was {WeightDecay}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LabelBasketsPerUser, nameof(LabelBasketsPerUser));
        ArgumentOutOfRangeException.ThrowIfNegative(NegativesPerPositive, nameof(NegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegative(RepeatNegativesPerPositive, nameof(RepeatNegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RecentWindowDays, nameof(RecentWindowDays));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
    }
}

/// <summary>Classification quality of a propensity model on held-out (user, item) examples.</summary>
/// <param name="Examples">Number of held-out examples (positives plus sampled negatives).</param>
/// <param name="PositiveRate">Share of positives among them.</param>
/// <param name="Auc">Area under the ROC curve.</param>
/// <param name="Accuracy">Accuracy at probability 0.5 (logit 0).</param>
/// <param name="Precision">Precision at probability 0.5.</param>
/// <param name="Recall">Recall at probability 0.5.</param>
/// <param name="F1">F1 at probability 0.5.</param>
/// <param name="LogLoss">Mean binary cross-entropy.</param>
public sealed record PropensityClassificationReport(int Examples, double PositiveRate, double Auc, double Accuracy,
    double Precision, double Recall, double F1, double LogLoss);

/// <summary>
/// A purchase-propensity classifier in the classic "Dense–Dropout" form: for a (user, item) pair at a moment in
/// time, hand-made features (user RFM, item popularity and recent popularity, the user's history with the item)
/// are standardised and fed to Linear → BatchNorm1d → ReLU → Dropout → Linear → BatchNorm1d → ReLU → Dropout →
/// Linear(→1), trained with binary cross-entropy on logits. Items are ranked by the logit.
/// </summary>
/// <remarks>
/// <para>
/// Training examples come from replaying the training events in time order: each user's latest basket (or latest
/// <see cref="PropensityMlpOptions.LabelBasketsPerUser"/> baskets) is a label window whose items are positives;
/// negatives are sampled uniformly from the catalog plus from the user's earlier items missing from the basket
/// (the hard "will they re-buy it?" cases). Features are written at the first event of the label basket, before
/// it is observed, so no label leaks into its features.
/// </para>
/// <para>
/// The network has no user or item identities — it learns how features map to propensity, so it scores users and
/// items it never trained on from their history and the catalog statistics alone, and <see cref="Update"/> only
/// extends the statistics and fine-tunes the network on the new users' latest baskets.
/// </para>
/// <para>
/// Fit holds out the last basket of <see cref="PropensityMlpOptions.ValidationUsers"/> users, early-stops on NDCG@20
/// over all items, keeps the best epoch's weights (and batch-norm statistics), reports classification metrics on
/// those held-out baskets in <see cref="HoldoutClassification"/>, and finally folds the held-out events into the
/// statistics used for scoring.
/// </para>
/// </remarks>
public sealed class PropensityMlp : IRecommender
{
    private const int Width = PropensityFeatures.Width;

    private readonly PropensityMlpOptions _options;
    private readonly Random _random;
    private readonly Sequential _net;
    private readonly BatchNorm1d[] _norms;
    private readonly Adam _optimizer;
    private readonly StandardScaler _scaler = new();
    private PropensityFeatures? _features;
    private int _userCount;

    // Scoring scratch: the (items, features) matrix, a reusable user state and the cached item columns.
    private readonly PropensityFeatures.UserState _scratchUser = new();
    private readonly Workspace _scoreInput = new();
    private float[] _itemColumns = [];
    private long _itemColumnsNow = long.MinValue;
    private bool _itemColumnsValid;

    // Training scratch.
    private readonly Workspace _batch = new();
    private readonly Workspace _gradient = new();
    private float[] _targets = [];

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public PropensityMlp(PropensityMlpOptions? options = null)
    {
        _options = options ?? new PropensityMlpOptions();
        _options.Validate();
        _random = new Random(_options.Seed);
        var init = new Random(unchecked(_options.Seed * 31 + 1));
        var dropout = new Random(unchecked(_options.Seed * 31 + 2));
        _norms = [new BatchNorm1d(_options.Hidden1), new BatchNorm1d(_options.Hidden2)];
        var first = new Linear(Width, _options.Hidden1, init) { ComputeInputGradient = false };
        _net = new Sequential(
            first, _norms[0], new Relu(), new Dropout(_options.Dropout, dropout),
            new Linear(_options.Hidden1, _options.Hidden2, init), _norms[1], new Relu(), new Dropout(_options.Dropout, dropout),
            new Linear(_options.Hidden2, 1, init));
        _optimizer = new Adam(_net.Parameters, _options.LearningRate, weightDecay: _options.WeightDecay);
    }

    /// <inheritdoc/>
    public string Name => "PropensityMLP";

    /// <inheritdoc/>
    public int ItemCount => _features?.ItemCount ?? 0;

    /// <summary>Gets the network's named parameters (for checkpoints and regularisers).</summary>
    public IReadOnlyList<Parameter> Parameters => _net.Parameters;

    /// <summary>Gets the number of feature columns per (user, item) pair.</summary>
    public static int FeatureCount => Width;

    /// <summary>
    /// Gets the classification metrics on the validation users' held-out baskets (positives = the basket's items,
    /// negatives sampled as in training), computed after <see cref="Fit"/> with the kept weights; null before
    /// Fit or when no validation users were available.
    /// </summary>
    public PropensityClassificationReport? HoldoutClassification { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The model was already fitted (use <see cref="Update"/>).</exception>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        if (_features is not null)
        {
            throw new InvalidOperationException("PropensityMlp.Fit trains a fresh model; create a new instance, or call Update to continue learning.");
        }

        var clock = Stopwatch.StartNew();
        HoldoutValidation? validation = _options.ValidationUsers > 0
            ? HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed)
            : null;
        IReadOnlyList<Interaction> fitEvents = validation?.FitEvents ?? events;
        _userCount = userCount;
        _features = new PropensityFeatures(userCount, itemCount, TimeSpan.FromDays(_options.RecentWindowDays));
        _itemColumnsValid = false;
        var (x, y) = Replay(_features, fitEvents, _options.LabelBasketsPerUser, _random);
        if (y.Count >= 2)
        {
            float[] inputs = [.. x];
            _scaler.Fit(inputs, Width);
            _scaler.Transform(inputs, inputs);
            Train(inputs, [.. y], _options.Epochs, validation?.UserCount > 0 ? validation : null, progress, clock, cancellationToken);
            if (validation is not null && validation.UserCount > 0)
            {
                HoldoutClassification = Classify(events, fitEvents);
            }
        }

        // Score with statistics over every training event, the held-out validation baskets included.
        _features = new PropensityFeatures(userCount, itemCount, TimeSpan.FromDays(_options.RecentWindowDays));
        foreach (Interaction e in events)
        {
            _features.Observe(e);
        }

        _itemColumnsValid = false;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// New events are replayed on top of the current statistics; each affected user's latest new basket becomes a
    /// label window (features from everything before it) and the network is fine-tuned on those examples for
    /// <see cref="PropensityMlpOptions.UpdateEpochs"/> passes with the scaler fitted in <see cref="Fit"/>.
    /// Calling Update before Fit starts the statistics from the new events and, with no fitted scaler, trains nothing.
    /// </remarks>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, ItemCount);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        _features ??= new PropensityFeatures(0, 0, TimeSpan.FromDays(_options.RecentWindowDays));
        _features.Grow(userCount, itemCount);
        _userCount = userCount;
        _itemColumnsValid = false;
        var (x, y) = Replay(_features, newEvents, 1, _random);
        if (y.Count >= 2 && _scaler.Columns == Width && _options.UpdateEpochs > 0)
        {
            float[] inputs = [.. x];
            _scaler.Transform(inputs, inputs);
            Train(inputs, [.. y], _options.UpdateEpochs, null, null, Stopwatch.StartNew(), CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The user's features come from <paramref name="history"/> only (so unseen users work); item features from the
    /// model's statistics. "Now" is the later of the history's last event and the latest event the model has seen.
    /// One (items, features) forward pass in inference mode; the score is the logit.
    /// </remarks>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        int items = ItemCount;
        RecommenderGuard.ScoreLength(scores, items);
        if (items == 0 || _features is null)
        {
            return;
        }

        PropensityFeatures.UserState state = _scratchUser;
        state.Clear();
        long now = _features.LatestTicks;
        foreach (ref readonly Interaction e in history)
        {
            if ((uint)e.Item < (uint)items)
            {
                state.Observe(e);
                now = Math.Max(now, e.Ticks);
            }
        }

        RefreshItemColumns(now);

        // x: (items, Width) — user columns repeated, item columns from the cache, pair columns "never bought"
        // except for the history's items.
        Tensor input = _scoreInput.Get(items, Width);
        Span<float> x = input.Span;
        Span<float> userColumns = stackalloc float[4];
        Span<float> neverPair = stackalloc float[Width - PropensityFeatures.PairStart];
        PropensityFeatures.WriteUser(state.Baskets > 0 ? state : null, now, userColumns);
        PropensityFeatures.WriteNeverPair(neverPair);
        for (int i = 0; i < items; i++)
        {
            Span<float> row = x.Slice(i * Width, Width);
            userColumns.CopyTo(row);
            _itemColumns.AsSpan(i * 4, 4).CopyTo(row[4..]);
            neverPair.CopyTo(row[PropensityFeatures.PairStart..]);
        }

        foreach (int item in state.ItemList)
        {
            PropensityFeatures.WritePair(state, item, now, x.Slice(item * Width + PropensityFeatures.PairStart, Width - PropensityFeatures.PairStart));
        }

        if (_scaler.Columns != Width)
        {
            // Never trained (too little data): rank by the raw features' obvious order — repeat, then popularity.
            for (int i = 0; i < items; i++)
            {
                scores[i] = x[i * Width + PropensityFeatures.PairStart] * 100f + x[i * Width + 4];
            }

            return;
        }

        _scaler.Transform(x, x);
        bool training = _net.Training;
        _net.Training = false;
        Tensor logits = _net.Forward(input);
        _net.Training = training;
        logits.Span.CopyTo(scores);
    }

    private void RefreshItemColumns(long now)
    {
        int items = ItemCount;
        if (_itemColumnsValid && _itemColumnsNow == now && _itemColumns.Length == items * 4)
        {
            return;
        }

        if (_itemColumns.Length != items * 4)
        {
            _itemColumns = new float[items * 4];
        }

        for (int i = 0; i < items; i++)
        {
            _features!.WriteItem(i, now, _itemColumns.AsSpan(i * 4, 4));
        }

        _itemColumnsNow = now;
        _itemColumnsValid = true;
    }

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

            long key = PropensityFeatures.Key(e);
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
            if (RecommenderGuard.IsPositive(e) && labels.TryGetValue((e.User, PropensityFeatures.Key(e)), out List<int>? items)
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
            if (RecommenderGuard.IsPositive(e) && labels.Remove((e.User, PropensityFeatures.Key(e)), out List<int>? positives))
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

    private void Train(float[] inputs, float[] targets, int epochs, HoldoutValidation? validation,
        IProgress<TrainingProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        int count = targets.Length;
        int batchSize = _options.BatchSize;
        if (_targets.Length < batchSize)
        {
            _targets = new float[batchSize];
        }

        int[] order = new int[count];
        int[] batchIndex = new int[batchSize];
        double best = double.NegativeInfinity;
        float[][]? bestParameters = null;
        float[][]? bestNorms = null;
        int sinceBest = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            for (int k = 0; k < count; k++)
            {
                order[k] = k;
            }

            _random.Shuffle(order);
            _net.Training = true;
            double lossSum = 0;
            int batches = 0;
            for (int start = 0; start < count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, count - start);
                if (n < 2)
                {
                    continue; // batch normalisation cannot train on a single row
                }

                order.AsSpan(start, n).CopyTo(batchIndex);
                lossSum += Step(inputs, targets, batchIndex.AsSpan(0, n));
                batches++;
            }

            double metric = double.NaN;
            if (validation is not null)
            {
                metric = validation.Ndcg(this);
                if (metric > best)
                {
                    best = metric;
                    sinceBest = 0;
                    bestParameters = HoldoutValidation.Snapshot(_net.Parameters);
                    // Batch-norm running statistics are buffers, not parameters: keep them with the best epoch too.
                    bestNorms = new float[2 * _norms.Length][];
                    for (int b = 0; b < _norms.Length; b++)
                    {
                        bestNorms[2 * b] = _norms[b].RunningMeanTensor.Span.ToArray();
                        bestNorms[2 * b + 1] = _norms[b].RunningVarianceTensor.Span.ToArray();
                    }
                }
                else
                {
                    sinceBest++;
                }
            }

            TimeSpan elapsed = clock.Elapsed;
            progress?.Report(new TrainingProgress(Name, epoch, epochs, batches > 0 ? lossSum / batches : double.NaN, metric,
                elapsed, elapsed / epoch * (epochs - epoch)));
            if (validation is not null && sinceBest >= _options.Patience)
            {
                break;
            }
        }

        if (bestParameters is not null && bestNorms is not null)
        {
            HoldoutValidation.Restore(_net.Parameters, bestParameters);
            for (int b = 0; b < _norms.Length; b++)
            {
                bestNorms[2 * b].CopyTo(_norms[b].RunningMeanTensor.Span);
                bestNorms[2 * b + 1].CopyTo(_norms[b].RunningVarianceTensor.Span);
            }
        }

        _net.Training = true;
    }

    /// <summary>One Adam step on the examples at <paramref name="index"/>; returns the batch's mean loss.</summary>
    private float Step(float[] inputs, float[] targets, ReadOnlySpan<int> index)
    {
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
        _optimizer.StepAndZeroGrad();
        return loss;
    }

    /// <summary>
    /// Classification metrics on the validation users' held-out baskets: the events of <paramref name="all"/> not in
    /// <paramref name="fit"/> (a subsequence of it), with features from the fit-time statistics.
    /// </summary>
    private PropensityClassificationReport? Classify(IReadOnlyList<Interaction> all, IReadOnlyList<Interaction> fit)
    {
        var heldOut = new SortedDictionary<int, (long Now, List<int> Items)>();
        for (int i = 0, j = 0; i < all.Count; i++)
        {
            Interaction e = all[i];
            if (j < fit.Count && fit[j] == e)
            {
                j++;
                continue;
            }

            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (!heldOut.TryGetValue(e.User, out var basket))
            {
                heldOut[e.User] = basket = (e.Ticks, []);
            }

            if (!basket.Items.Contains(e.Item))
            {
                basket.Items.Add(e.Item);
            }
        }

        var random = new Random(unchecked(_options.Seed * 31 + 3));
        var x = new List<float>();
        var y = new List<float>();
        var row = new float[Width];
        foreach (var (user, (now, items)) in heldOut)
        {
            Emit(_features!, _features!.User(user), items, Math.Max(now, _features.LatestTicks), random, x, y, row);
        }

        if (y.Count == 0)
        {
            return null;
        }

        float[] inputs = [.. x];
        float[] labels = [.. y];
        _scaler.Transform(inputs, inputs);
        var logits = new float[labels.Length];
        _net.Training = false;
        for (int start = 0; start < labels.Length; start += _options.BatchSize)
        {
            int n = Math.Min(_options.BatchSize, labels.Length - start);
            Tensor batch = Tensor.FromArray(inputs.AsSpan(start * Width, n * Width).ToArray(), n, Width);
            _net.Forward(batch).Span.CopyTo(logits.AsSpan(start, n));
        }

        _net.Training = true;
        int positives = 0;
        foreach (float label in labels)
        {
            positives += label > 0.5f ? 1 : 0;
        }

        return new PropensityClassificationReport(labels.Length, positives / (double)labels.Length,
            ClassificationMetrics.Auc(logits, labels),
            ClassificationMetrics.Accuracy(logits, labels, 0f),
            ClassificationMetrics.Precision(logits, labels, 0f),
            ClassificationMetrics.Recall(logits, labels, 0f),
            ClassificationMetrics.F1(logits, labels, 0f),
            ClassificationMetrics.LogLossWithLogits(logits, labels));
    }
}

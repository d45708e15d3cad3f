using LifelongPrefs.Data;
using LifelongPrefs.Evaluation;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Persistence;
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
/// <param name="MaxEpochs">The cap on passes over the training examples in <see cref="PropensityMlp.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before stopping early; at least 1.</param>
/// <param name="UpdateEpochs">Passes over the new examples in <see cref="PropensityMlp.Update"/> (no validation).</param>
/// <param name="BatchSize">Examples per optimizer step; at least 2 (batch normalisation needs two rows).</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WeightDecay">Adam's coupled L2 coefficient.</param>
/// <param name="LabelBasketsPerUser">How many of each user's latest training baskets become label windows.</param>
/// <param name="NegativesPerPositive">Uniformly sampled catalog negatives per positive item.</param>
/// <param name="RepeatNegativesPerPositive">Extra negatives per positive drawn from the user's earlier items that are not in the basket (0 by default: see above).</param>
/// <param name="RecentWindowDays">Length of the window of the "recent popularity" item feature, in days.</param>
/// <param name="ValidationUsers">Users whose last basket is held out for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, dropout, shuffling, sampling and the validation split.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record PropensityMlpOptions(int Hidden1 = 64, int Hidden2 = 32, float Dropout = 0.1f, int MaxEpochs = 200,
    int Patience = 5, int UpdateEpochs = 2, int BatchSize = 512, float LearningRate = 3e-3f, float WeightDecay = 0f,
    int LabelBasketsPerUser = 1, int NegativesPerPositive = 10, int RepeatNegativesPerPositive = 0,
    int RecentWindowDays = 30, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden1, nameof(Hidden1));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden2, nameof(Hidden2));
        RecommenderGuard.Rate(Dropout, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));
        RecommenderGuard.NonNegativeFinite(WeightDecay, nameof(WeightDecay));

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LabelBasketsPerUser, nameof(LabelBasketsPerUser));
        ArgumentOutOfRangeException.ThrowIfNegative(NegativesPerPositive, nameof(NegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegative(RepeatNegativesPerPositive, nameof(RepeatNegativesPerPositive));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RecentWindowDays, nameof(RecentWindowDays));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
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
public sealed class PropensityMlp : ISavableRecommender, ITrainableRecommender
{
    private const int Width = PropensityFeatures.Width;

    private readonly PropensityMlpOptions _options;
    private readonly SeededRandom _random;
    private readonly SeededRandom _dropoutRandom;
    private readonly Sequential _net;
    private readonly BatchNorm1d[] _norms;
    private readonly Adam _optimizer;
    // The standard scaler's fitted means and scales (empty before Fit); kept as arrays so Load can restore them.
    private float[] _scalerMean = [];
    private float[] _scalerScale = [];
    private PropensityFeatures? _features;
    private int _userCount;

    // Scoring scratch, pooled per call (built on first use).
    private ScratchPool<PropensityMlpScorer.Scratch>? _scorePool;

    // The shared loop, the initial values a second Fit returns to, and the current training set.
    private readonly EpochTrainer _trainer = new();
    private readonly TrainingSnapshot _initial;
    private readonly int[] _initialRandom, _initialDropoutRandom;
    private float[] _trainInputs = [], _trainTargets = [];

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
        _random = new SeededRandom(_options.Seed);
        var init = new Random(unchecked(_options.Seed * 31 + 1));   // used up here: the layers' initial weights
        _dropoutRandom = new SeededRandom(unchecked(_options.Seed * 31 + 2));
        SeededRandom dropout = _dropoutRandom;
        _norms = [new BatchNorm1d(_options.Hidden1), new BatchNorm1d(_options.Hidden2)];
        var first = new Linear(Width, _options.Hidden1, init) { ComputeInputGradient = false };
        _net = new Sequential(
            first, _norms[0], new Relu(), new Dropout(_options.Dropout, dropout),
            new Linear(_options.Hidden1, _options.Hidden2, init), _norms[1], new Relu(), new Dropout(_options.Dropout, dropout),
            new Linear(_options.Hidden2, 1, init));
        _optimizer = new Adam(_net.Parameters, _options.LearningRate, weightDecay: _options.WeightDecay);
        _initial = new TrainingSnapshot(_net.Parameters, NormBuffers());
        _initial.Capture();
        (_initialRandom, _initialDropoutRandom) = (_random.GetState(), _dropoutRandom.GetState());
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

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: weights, batch-norm statistics, Adam's state and the generators return to
    /// those of a new instance with the same options first, so it ends exactly where <c>new PropensityMlp(options).Fit(...)</c>
    /// would. Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, Width);
        if (_features is not null || _optimizer.StepCount > 0)
        {
            _initial.Restore();
            _optimizer.ResetState();
            _random.SetState(_initialRandom);
            _dropoutRandom.SetState(_initialDropoutRandom);
            (_scalerMean, _scalerScale, HoldoutClassification, _userCount) = ([], [], null, 0);
        }

        HoldoutValidation? validation = _options.ValidationUsers > 0
            ? HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed)
            : null;
        IReadOnlyList<Interaction> fitEvents = validation?.FitEvents ?? events;
        _userCount = userCount;
        _features = new PropensityFeatures(userCount, itemCount, TimeSpan.FromDays(_options.RecentWindowDays));
        var (x, y) = Replay(_features, fitEvents, _options.LabelBasketsPerUser, _random);
        if (y.Count >= 2)
        {
            float[] inputs = [.. x];
            var scaler = new StandardScaler();
            scaler.Fit(inputs, Width);
            _scalerMean = scaler.Mean.ToArray();
            _scalerScale = scaler.Scale.ToArray();
            Standardise(inputs);
            Train(inputs, [.. y], _options.MaxEpochs, validation?.UserCount > 0 ? validation : null, progress, cancellationToken);
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
    }

    /// <inheritdoc/>
    /// <remarks>
    /// New events are replayed on top of the current statistics; each affected user's latest new basket becomes a
    /// label window (features from everything before it) and the network is fine-tuned on those examples for
    /// <see cref="PropensityMlpOptions.UpdateEpochs"/> passes with the scaler fitted in <see cref="Fit"/>.
    /// Calling Update before Fit starts the statistics from the new events and, with no fitted scaler, trains nothing.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="PropensityMlpOptions.MaxUsers"/> or <see cref="PropensityMlpOptions.MaxItems"/> (nothing changes).</exception>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, ItemCount);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        var (x, y) = Replay(_features!, newEvents, 1, _random);
        if (y.Count >= 2 && _scalerMean.Length == Width && _options.UpdateEpochs > 0)
        {
            float[] inputs = [.. x];
            Standardise(inputs);
            Train(inputs, [.. y], _options.UpdateEpochs, null, null, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, ItemCount);
        Grow(userCount, itemCount);
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first, so a rejected growth allocates and changes nothing.
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, Width);
        _features ??= new PropensityFeatures(0, 0, TimeSpan.FromDays(_options.RecentWindowDays));
        _features.Grow(userCount, itemCount);
        _userCount = userCount;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The user's features come from <paramref name="history"/> only (so unseen users work); item features from the
    /// model's statistics. "Now" is the later of the history's last event and the latest event the model has seen.
    /// One (items, features) forward pass in inference mode; the score is the logit.
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        PropensityMlpScorer.Score(ScoringState(ParameterValues.Live(_net.Parameters)), _scorePool ??= PropensityMlpScorer.NewPool(),
            history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    public IScorer CreateScorer() => new PropensityMlpScorer(ScoringState(default), _net.Parameters);

    /// <summary>What scoring reads, as views over the live network, scaler and statistics (nothing is copied).</summary>
    private PropensityScoringState ScoringState(ParameterValues parameters) => new()
    {
        Parameters = parameters,
        Mean0 = _norms[0].RunningMean,
        Variance0 = _norms[0].RunningVariance,
        Mean1 = _norms[1].RunningMean,
        Variance1 = _norms[1].RunningVariance,
        Epsilon = _norms[0].Epsilon,
        ScalerMean = _scalerMean,
        ScalerScale = _scalerScale,
        ItemEvents = _features is null ? [] : _features.ItemEvents,
        ItemBuyers = _features is null ? [] : _features.ItemBuyers,
        ItemRecent = _features is null ? [] : _features.ItemRecent,
        ItemLast = _features is null ? [] : _features.ItemLast,
        LatestTicks = _features?.LatestTicks ?? long.MinValue,
    };

    /// <inheritdoc/>
    /// <remarks>
    /// Saves every network parameter under its path (<c>net.0.weight</c>, …), the batch-norm running statistics, Adam's
    /// two moment buffers per parameter and its step count, the random generators' states (sampling and shuffling,
    /// dropout), the standard scaler, the holdout report and the whole feature state (per-item counts, buyers,
    /// recent-window counts and last-purchase times, the recent-window queue, and each user's basket count, current
    /// basket key, last purchase, net spend and per-item statistics in first-purchase order), so a fresh instance with
    /// the same options scores bit-identically after <see cref="Load"/>, and <see cref="Update"/> after a load continues
    /// exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted run).
    /// </remarks>
    public void Save(Stream stream) => ModelStateIo.Save(stream, StateHeader, WriteState);

    /// <inheritdoc/>
    /// <remarks>As <see cref="Save"/>.</remarks>
    public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.SaveAsync(stream, StateHeader, WriteState, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>See <see cref="Save"/> for what is restored.</remarks>
    public void Load(Stream stream) => ModelStateIo.Load(stream, StateHeader, Name, ReadState);

    /// <inheritdoc/>
    /// <remarks>See <see cref="Save"/> for what is restored.</remarks>
    public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.LoadAsync(stream, StateHeader, Name, ReadState, cancellationToken);

    private ModelStateHeader StateHeader => new(ModelTypeId.PropensityMlp, 1, OptionsFingerprint.Canonical(_options));

    private KeyValuePair<string, Parameter>[] NamedParameters() => [.. _net.NamedParameters().Select(p => KeyValuePair.Create("net." + p.Key, p.Value))];

    private void WriteState(ModelStateWriter writer)
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
    private Action ReadState(ModelStateReader reader)
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
            for (int p = 0; p < named.Length; p++)
            {
                values[p].CopyTo(named[p].Value.Value.Span);
                named[p].Value.ZeroGradient();
            }

            moments.ApplyTo(_optimizer, named);
            _random.SetState(randomState);
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

    /// <summary>Standardises row-major (rows, <see cref="Width"/>) data in place with the fitted scaler.</summary>
    private void Standardise(Span<float> data)
    {
        float[] mean = _scalerMean, scale = _scalerScale;
        for (int start = 0; start < data.Length; start += Width)
        {
            for (int j = 0; j < Width; j++)
            {
                data[start + j] = (data[start + j] - mean[j]) / scale[j];
            }
        }
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
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (_targets.Length < _options.BatchSize)
        {
            _targets = new float[_options.BatchSize];
        }

        (_trainInputs, _trainTargets) = (inputs, targets);
        // Batch normalisation cannot train on a single row: a last batch of one is skipped.
        var plan = new EpochPlan(_options.BatchSize, epochs, _options.Patience, HoldoutValidation.MetricFor(validation, this), MinimumBatch: 2);
        _trainer.Run(this, targets.Length, plan, progress, cancellationToken);
    }

    /// <summary>The batch-norm running statistics, which a best-epoch snapshot keeps with the parameters.</summary>
    private Tensor[] NormBuffers() => [.. _norms.SelectMany(n => new[] { n.RunningMeanTensor, n.RunningVarianceTensor })];

    /// <inheritdoc/>
    void IEpochModel.SetTraining(bool training) => _net.Training = training;

    /// <inheritdoc/>
    void IEpochModel.EndRun() => (_trainInputs, _trainTargets) = ([], []);

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<Tensor> IEpochModel.SnapshotBuffers => NormBuffers();

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters => [.. _net.NamedParameters()];

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;

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
        Standardise(inputs);
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

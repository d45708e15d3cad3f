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

    // Scoring scratch: the (items, features) matrix, a reusable user state and the cached item columns.
    private readonly PropensityFeatures.UserState _scratchUser = new();
    private readonly Workspace _scoreInput = new();
    private float[] _itemColumns = [];
    private long _itemColumnsNow = long.MinValue;
    private bool _itemColumnsValid;

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
        _itemColumnsValid = false;
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

        _itemColumnsValid = false;
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
        _itemColumnsValid = false;
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

        if (_scalerMean.Length != Width)
        {
            // Never trained (too little data): rank by the raw features' obvious order — repeat, then popularity.
            for (int i = 0; i < items; i++)
            {
                scores[i] = x[i * Width + PropensityFeatures.PairStart] * 100f + x[i * Width + 4];
            }

            return;
        }

        Standardise(x);
        bool training = _net.Training;
        _net.Training = false;
        Tensor logits = _net.Forward(input);
        _net.Training = training;
        logits.Span.CopyTo(scores);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Saves every network parameter, the batch-norm running statistics, Adam's two moment buffers per parameter
    /// and its step count, the random generators' states (sampling and shuffling, dropout), the standard scaler, the holdout report and the whole feature state (per-item counts, buyers, recent-window
    /// counts and last-purchase times, the recent-window queue, and each user's basket count, current basket key,
    /// last purchase, net spend and per-item statistics in first-purchase order), so a fresh instance with the same
    /// options scores bit-identically after <see cref="Load"/>, and <see cref="Update"/> after a load continues exactly
    /// as the saved model would have (checkpoint-then-continue equals an uninterrupted run).
    /// </remarks>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var sections = new List<(string Name, Array Values)>
        {
            ("meta", new[] { _userCount, Width, _options.Hidden1, _options.Hidden2, _options.RecentWindowDays, _features is null ? 0 : 1 }),
            ("scalerMean", _scalerMean),
            ("scalerScale", _scalerScale),
        };
        PropensityClassificationReport? report = HoldoutClassification;
        sections.Add(("holdout", report is null ? Array.Empty<double>() :
            new[] { report.Examples, report.PositiveRate, report.Auc, report.Accuracy, report.Precision, report.Recall, report.F1, report.LogLoss }));
        IReadOnlyList<Parameter> parameters = _net.Parameters;
        for (int p = 0; p < parameters.Count; p++)
        {
            sections.Add(($"param{p}", parameters[p].Value.Span.ToArray()));
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                sections.Add(($"adam{p}.{slot}", _optimizer.GetState(p, slot).ToArray()));
            }
        }

        ModelState.AddStepCount(sections, _optimizer.StepCount);
        ModelState.AddRandom(sections, "random", _random);
        ModelState.AddRandom(sections, "dropoutRandom", _dropoutRandom);

        for (int b = 0; b < _norms.Length; b++)
        {
            sections.Add(($"norm{b}.mean", _norms[b].RunningMean.ToArray()));
            sections.Add(($"norm{b}.variance", _norms[b].RunningVariance.ToArray()));
        }

        if (_features is not null)
        {
            AddFeatureSections(_features, sections);
        }

        ModelState.Write(stream, Name, sections);
    }

    /// <inheritdoc/>
    /// <remarks>See <see cref="Save"/> for what is restored.</remarks>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Dictionary<string, Array> sections = ModelState.Read(stream, Name);
        int[] meta = ModelState.Section<int>(sections, "meta", Name);
        if (meta.Length != 6 || meta[1] != Width || meta[2] != _options.Hidden1 || meta[3] != _options.Hidden2
            || meta[4] != _options.RecentWindowDays || meta[0] < 0 || (uint)meta[5] > 1u)
        {
            throw new ModelStateException($"The saved {Name} state was written with other options or has an invalid header.");
        }

        int userCount = meta[0];
        float[] scalerMean = ModelState.Section<float>(sections, "scalerMean", Name);
        float[] scalerScale = ModelState.Section<float>(sections, "scalerScale", Name);
        if (scalerMean.Length != scalerScale.Length || (scalerMean.Length != 0 && scalerMean.Length != Width)
            || !Array.TrueForAll(scalerMean, float.IsFinite) || !Array.TrueForAll(scalerScale, v => float.IsFinite(v) && v > 0f))
        {
            throw new ModelStateException($"The saved {Name} state has an invalid scaler.");
        }

        double[] holdout = ModelState.Section<double>(sections, "holdout", Name);
        if (holdout.Length != 0 && (holdout.Length != 8 || holdout[0] < 0 || holdout[0] > int.MaxValue || holdout[0] != Math.Floor(holdout[0])))
        {
            throw new ModelStateException($"The saved {Name} state has an invalid holdout report.");
        }

        IReadOnlyList<Parameter> parameters = _net.Parameters;
        var values = new float[parameters.Count][];
        var moments = new float[parameters.Count][][];
        for (int p = 0; p < parameters.Count; p++)
        {
            values[p] = Exact<float>(sections, $"param{p}", parameters[p].Length);
            moments[p] = new float[_optimizer.StateCount][];
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                moments[p][slot] = Exact<float>(sections, $"adam{p}.{slot}", parameters[p].Length);
            }
        }

        var norms = new float[2 * _norms.Length][];
        for (int b = 0; b < _norms.Length; b++)
        {
            norms[2 * b] = Exact<float>(sections, $"norm{b}.mean", _norms[b].Features);
            norms[2 * b + 1] = Exact<float>(sections, $"norm{b}.variance", _norms[b].Features);
        }

        PropensityFeatures? features = meta[5] == 1 ? ReadFeatures(sections, userCount) : null;

        long steps = ModelState.ReadStepCount(sections, Name);
        int[] randomState = ModelState.ReadRandom(sections, "random", Name);
        int[] dropoutRandomState = ModelState.ReadRandom(sections, "dropoutRandom", Name);

        // Everything validated: swap the state in.
        for (int p = 0; p < parameters.Count; p++)
        {
            values[p].CopyTo(parameters[p].Value.Span);
            parameters[p].ZeroGradient();
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                moments[p][slot].CopyTo(_optimizer.GetState(p, slot));
            }
        }

        _optimizer.RestoreStepCount(steps);
        _random.SetState(randomState);
        _dropoutRandom.SetState(dropoutRandomState);

        for (int b = 0; b < _norms.Length; b++)
        {
            norms[2 * b].CopyTo(_norms[b].RunningMeanTensor.Span);
            norms[2 * b + 1].CopyTo(_norms[b].RunningVarianceTensor.Span);
        }

        _scalerMean = scalerMean;
        _scalerScale = scalerScale;
        HoldoutClassification = holdout.Length == 0 ? null
            : new PropensityClassificationReport((int)holdout[0], holdout[1], holdout[2], holdout[3], holdout[4], holdout[5], holdout[6], holdout[7]);
        _features = features;
        _userCount = userCount;
        _itemColumnsValid = false;
    }

    /// <summary>Returns a section of exactly <paramref name="length"/> elements, or throws.</summary>
    private T[] Exact<T>(Dictionary<string, Array> sections, string name, int length)
    {
        T[] values = ModelState.Section<T>(sections, name, Name);
        if (values.Length != length)
        {
            throw new ModelStateException($"The saved {Name} state's section '{name}' has {values.Length} elements; expected {length}.");
        }

        return values;
    }

    private static void SplitLongs(ReadOnlySpan<long> values, int[] destination)
    {
        for (int i = 0; i < values.Length; i++)
        {
            destination[2 * i] = (int)values[i];
            destination[2 * i + 1] = (int)(values[i] >> 32);
        }
    }

    private static long JoinLong(int[] source, int index) => (long)(uint)source[2 * index] | ((long)source[2 * index + 1] << 32);

    /// <summary>Appends the feature state's sections (longs as low/high int pairs, per-user items as CSR).</summary>
    private static void AddFeatureSections(PropensityFeatures features, List<(string Name, Array Values)> sections)
    {
        int items = features.ItemCount;
        var itemLast = new int[2 * items];
        SplitLongs(features.ItemLast, itemLast);
        var window = features.Window.ToArray();
        var windowTicks = new int[2 * window.Length];
        var windowItems = new int[window.Length];
        for (int k = 0; k < window.Length; k++)
        {
            windowTicks[2 * k] = (int)window[k].Ticks;
            windowTicks[2 * k + 1] = (int)(window[k].Ticks >> 32);
            windowItems[k] = window[k].Item;
        }

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
                present[u] = 1;
                baskets[u] = user.Baskets;
                keys[u] = user.CurrentKey;
                lastPurchase[u] = user.LastPurchaseTicks;
                monetary[u] = user.Monetary;
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

        var keyInts = new int[2 * users];
        SplitLongs(keys, keyInts);
        var lastPurchaseInts = new int[2 * users];
        SplitLongs(lastPurchase, lastPurchaseInts);
        var itemLastTicksInts = new int[2 * itemLastTicks.Count];
        SplitLongs(itemLastTicks.ToArray(), itemLastTicksInts);
        var latest = new int[2];
        SplitLongs([features.LatestTicks], latest);
        sections.AddRange(
        [
            ("latestTicks", latest),
            ("itemEvents", features.ItemEvents.ToArray()),
            ("itemBuyers", features.ItemBuyers.ToArray()),
            ("itemRecent", features.ItemRecent.ToArray()),
            ("itemLast", itemLast),
            ("windowTicks", windowTicks),
            ("windowItems", windowItems),
            ("userPresent", present),
            ("userBaskets", baskets),
            ("userKey", keyInts),
            ("userLastPurchase", lastPurchaseInts),
            ("userMonetary", monetary),
            ("userOffsets", offsets),
            ("userItems", userItems.ToArray()),
            ("userItemBaskets", itemBaskets.ToArray()),
            ("userItemLastBasket", itemLastBasket.ToArray()),
            ("userItemLastTicks", itemLastTicksInts),
        ]);
    }

    /// <summary>Validates the feature sections and builds a new feature state from them (the model is not touched).</summary>
    private PropensityFeatures ReadFeatures(Dictionary<string, Array> sections, int users)
    {
        int[] latest = Exact<int>(sections, "latestTicks", 2);
        float[] count = ModelState.Section<float>(sections, "itemEvents", Name);
        int items = count.Length;
        float[] buyers = Exact<float>(sections, "itemBuyers", items);
        float[] recent = Exact<float>(sections, "itemRecent", items);
        int[] itemLastInts = Exact<int>(sections, "itemLast", 2 * items);
        int[] windowItems = ModelState.Section<int>(sections, "windowItems", Name);
        int[] windowTicks = Exact<int>(sections, "windowTicks", 2 * windowItems.Length);
        int[] present = Exact<int>(sections, "userPresent", users);
        int[] baskets = Exact<int>(sections, "userBaskets", users);
        int[] keys = Exact<int>(sections, "userKey", 2 * users);
        int[] lastPurchase = Exact<int>(sections, "userLastPurchase", 2 * users);
        double[] monetary = Exact<double>(sections, "userMonetary", users);
        int[] offsets = Exact<int>(sections, "userOffsets", users + 1);
        int[] userItems = ModelState.Section<int>(sections, "userItems", Name);
        int pairs = userItems.Length;
        int[] itemBaskets = Exact<int>(sections, "userItemBaskets", pairs);
        int[] itemLastBasket = Exact<int>(sections, "userItemLastBasket", pairs);
        int[] itemLastTicks = Exact<int>(sections, "userItemLastTicks", 2 * pairs);

        bool consistent = offsets[0] == 0 && offsets[users] == pairs
            && Array.TrueForAll(count, v => float.IsFinite(v) && v >= 0f)
            && Array.TrueForAll(buyers, v => float.IsFinite(v) && v >= 0f)
            && Array.TrueForAll(recent, v => float.IsFinite(v) && v >= 0f)
            && Array.TrueForAll(windowItems, i => (uint)i < (uint)items)
            && Array.TrueForAll(userItems, i => (uint)i < (uint)items)
            && Array.TrueForAll(monetary, double.IsFinite);
        var seen = new HashSet<int>();
        var restored = new PropensityFeatures.UserState?[users];
        for (int u = 0; consistent && u < users; u++)
        {
            int start = offsets[u], end = offsets[u + 1];
            consistent = start <= end && end <= pairs && (uint)present[u] <= 1u && baskets[u] >= 0
                && (present[u] == 1 || (start == end && baskets[u] == 0));
            if (!consistent || present[u] == 0)
            {
                continue;
            }

            seen.Clear();
            var list = new (int Item, PropensityFeatures.UserItemState State)[end - start];
            for (int k = start; consistent && k < end; k++)
            {
                consistent = seen.Add(userItems[k]) && itemBaskets[k] >= 1 && itemLastBasket[k] >= 1
                    && itemLastBasket[k] <= baskets[u];
                list[k - start] = (userItems[k], new PropensityFeatures.UserItemState
                {
                    Baskets = itemBaskets[k],
                    LastBasket = itemLastBasket[k],
                    LastTicks = JoinLong(itemLastTicks, k),
                });
            }

            if (consistent)
            {
                restored[u] = PropensityFeatures.UserState.Restore(JoinLong(keys, u), baskets[u], JoinLong(lastPurchase, u), monetary[u], list);
            }
        }

        if (!consistent)
        {
            throw new ModelStateException($"The saved {Name} state has inconsistent feature sections.");
        }

        var itemLast = new long[items];
        for (int i = 0; i < items; i++)
        {
            itemLast[i] = JoinLong(itemLastInts, i);
        }

        var window = new (long Ticks, int Item)[windowItems.Length];
        for (int k = 0; k < window.Length; k++)
        {
            window[k] = (JoinLong(windowTicks, k), windowItems[k]);
        }

        return PropensityFeatures.Restore(TimeSpan.FromDays(_options.RecentWindowDays), restored, count, buyers, recent,
            itemLast, window, JoinLong(latest, 0));
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

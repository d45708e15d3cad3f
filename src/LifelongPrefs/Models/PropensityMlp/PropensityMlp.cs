using LifelongPrefs.Evaluation;

namespace LifelongPrefs.Models;

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
/// Fit holds out the last basket of <see cref="LearnedModelOptions.ValidationUsers"/> users, early-stops on NDCG@20
/// over all items, keeps the best epoch's weights (and batch-norm statistics), reports classification metrics on
/// those held-out baskets in <see cref="HoldoutClassification"/>, and finally folds the held-out events into the
/// statistics used for scoring.
/// </para>
/// </remarks>
public sealed partial class PropensityMlp : Recommender, ITrainableRecommender
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
    private readonly InitialState _initial;
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
        _initial = new InitialState(_net.Parameters, NormBuffers(), _optimizer, _random, _dropoutRandom);
    }

    /// <inheritdoc/>
    public override string Name => "PropensityMLP";

    /// <inheritdoc/>
    public override int ItemCount => _features?.ItemCount ?? 0;

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
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _options.CheckFit(events, userCount, itemCount, Width);
        if (_features is not null || _optimizer.StepCount > 0)
        {
            _initial.Restore();
            (_scalerMean, _scalerScale, HoldoutClassification, _userCount) = ([], [], null, 0);
        }

        HoldoutValidation? validation = _options.HoldOut(events, userCount);
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
    /// <see cref="LearnedModelOptions.UpdateEpochs"/> passes with the scaler fitted in <see cref="Fit"/>.
    /// Calling Update before Fit starts the statistics from the new events and, with no fitted scaler, trains nothing.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, ItemCount, _options.MaxUsers, _options.MaxItems);
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
        RecommenderGuard.Grown(userCount, itemCount, _userCount, ItemCount, _options.MaxUsers, _options.MaxItems);
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
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        PropensityMlpScorer.Score(ScoringState(ParameterValues.Live(_net.Parameters)), _scorePool ??= PropensityMlpScorer.NewPool(),
            history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer() => new PropensityMlpScorer(ScoringState(default), _net.Parameters);

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
}

namespace LifelongPrefs.Models;

/// <summary>
/// A repeat-aware next-basket model: hand-made repeat features (purchase frequency, time-decayed frequency,
/// recency, inter-purchase time) and explore features (item-item co-occurrence with the history, popularity)
/// are scored by a small MLP, and a learned user-level gate shifts every previously bought item up or down
/// depending on how much this user re-buys; everything is trained end to end with binary cross-entropy.
/// </summary>
/// <remarks>
/// <para>
/// The design follows the lesson of "A Next Basket Recommendation Reality Check" (Li et al., TOIS 2023): in retail
/// the user's own purchase frequency is the baseline to beat, so the repeat signal is given to the model directly
/// (as TIFU-KNN does, Hu et al. SIGIR 2020), and the learned part decides how to weigh it against exploration per
/// user, in the spirit of RepeatNet's repeat/explore mode (Ren et al., AAAI 2019). The logit of item i for user u is
/// <c>mlp(f_ui) + bought_ui · gate(c_u)</c>, with <c>f_ui</c> the 14 features of <see cref="RepeatAwareFeatures"/>,
/// <c>c_u</c> the user-level columns of it (history length, the user's own repeat ratio, distinct items) and
/// <c>gate</c> a linear map: a log-space mixture weight for the repeat mode.
/// </para>
/// <para>
/// Training examples: for every user with at least two baskets, the last training basket is the target and the
/// earlier events the history. Candidates are every item the user bought before, the top
/// <see cref="RepeatAwareOptions.ExploreCandidates"/> never-bought items by co-occurrence, and uniform random items
/// weighted to stand for the rest of the catalogue (target items are not forced in, which would inflate the
/// apparent buy rate of never-bought items); labels are 1 for target items. The co-occurrence table used for the training features is
/// built without the target baskets so the explore features are not leaked; scoring uses one built from every
/// event. Early stopping uses <see cref="HoldoutValidation"/> and restores the best epoch's weights.
/// </para>
/// <para>
/// Every item gets a score from the same network, so never-bought items are ranked by their explore features
/// (the explore evaluation variant) and a user the model never saw is scored from their history alone.
/// <see cref="Update"/> adds the new events to the co-occurrence counts, popularity and stored histories, grows
/// for new users and items, and trains <see cref="LearnedModelOptions.UpdateEpochs"/> passes on the affected users'
/// latest baskets. Memory is dominated by the dense co-occurrence table (items² floats).
/// </para>
/// <para>
/// <see cref="Recommender.Save"/> writes the options, the MLP and gate weights, Adam's moments and step count, the random
/// generator's state, the co-occurrence model, the popularity counts and the stored per-user histories, so a fresh
/// instance created with the same options scores bit-identically after <see cref="Recommender.Load"/>, and <see cref="Update"/>
/// after a load continues exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted
/// run).
/// </para>
/// </remarks>
public sealed partial class RepeatAware : Recommender, ITrainableRecommender
{
    private const int F = RepeatAwareFeatures.Count;

    private readonly RepeatAwareOptions _options;
    private readonly SeededRandom _random;
    private readonly Sequential _mlp;
    private readonly Linear _gate;
    private readonly Adam _optimizer;
    private readonly RepeatAwareFeatures _features;
    private UserHistories _histories = new();
    private ItemKnn _knn = new();
    private float[] _popularity = [];
    private float _maxPopularity;
    private int _users;
    private int _items;
    private bool _fitted;

    // Scoring scratch, pooled per call (built on first use); batch scratch (BatchSize × F), reused between steps.
    private ScratchPool<RepeatAwareScorer.Scratch>? _scorePool;
    private Tensor _batch = new(0, F);
    private Tensor _batchUser = new(0, RepeatAwareFeatures.UserColumns);
    private Tensor _gradLogits = new(0, 1);
    private Tensor _gradGate = new(0, 1);
    private float[] _logits = [];
    private float[] _labels = [];
    private float[] _weights = [];

    // The shared loop, the initial values a second Fit returns to, and the current training rows.
    private readonly EpochTrainer _trainer = new();
    private readonly InitialState _initial;
    private float[] _rowsX = [], _rowsY = [], _rowsW = [];

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public RepeatAware(RepeatAwareOptions? options = null)
    {
        _options = options ?? new RepeatAwareOptions();
        _options.Validate();
        _random = new SeededRandom(_options.Seed);
        int h = _options.Hidden;
        _mlp = new Sequential(new Linear(F, h, _random), new Relu(), new Linear(h, h, _random), new Relu(), new Linear(h, 1, _random));
        ((Linear)_mlp[0]).ComputeInputGradient = false;
        _gate = new Linear(RepeatAwareFeatures.UserColumns, 1, _random) { ComputeInputGradient = false };
        _optimizer = new Adam([.. _mlp.Parameters, .. _gate.Parameters], _options.LearningRate);
        _features = new RepeatAwareFeatures(_options.Decay);
        _initial = new InitialState(_optimizer.Parameters, [], _optimizer, _random);
    }

    /// <inheritdoc/>
    public override string Name => "RepeatAware";

    /// <inheritdoc/>
    public override int ItemCount => _items;

    /// <summary>Gets the learned parameters (MLP layers, then the gate), e.g. for checkpoints.</summary>
    public IReadOnlyList<Parameter> Parameters => _optimizer.Parameters;

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: weights, Adam's state, the generator, the histories and the co-occurrence
    /// model return to those of a new instance with the same options first, so it ends exactly where
    /// <c>new RepeatAware(options).Fit(...)</c> would. Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _options.CheckFit(events, userCount, itemCount, F);
        if (_fitted || _optimizer.StepCount > 0)
        {
            _initial.Restore();
            _histories = new UserHistories();
            (_knn, _popularity, _maxPopularity, _users, _items) = (new ItemKnn(), [], 0f, 0, 0);
        }

        _fitted = true;
        HoldoutValidation? validation = _options.HoldOut(events, userCount);
        IReadOnlyList<Interaction> fitEvents = validation?.FitEvents ?? events;
        _users = userCount;
        _items = itemCount;
        _popularity = new float[itemCount];
        AddEvents(fitEvents);

        // Training rows from each user's last training basket, with co-occurrence counted without those baskets.
        var targets = LastBaskets(AllUsers(), out HashSet<(int, long)> targetKeys);
        var rest = new List<Interaction>(fitEvents.Count);
        foreach (Interaction e in fitEvents)
        {
            if (!targetKeys.Contains((e.User, e.BasketKey)))
            {
                rest.Add(e);
            }
        }

        _knn = new ItemKnn();
        _knn.Fit(rest, userCount, itemCount, null, cancellationToken);
        (float[] x, float[] y, float[] w) = BuildRows(targets, cancellationToken);
        _knn = new ItemKnn();
        _knn.Fit(fitEvents, userCount, itemCount, null, cancellationToken);
        Train(x, y, w, _options.MaxEpochs, validation is { UserCount: > 0 } ? validation : null, progress, cancellationToken);

        // Scoring from now on sees the held-out validation baskets too.
        if (validation is not null)
        {
            _histories = new UserHistories();
            Array.Clear(_popularity);
            _maxPopularity = 0f;
            AddEvents(events);
            _knn = new ItemKnn();
            _knn.Fit(events, userCount, itemCount, null, cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users, _items, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        AddEvents(newEvents);
        _knn.Update(newEvents, userCount, itemCount);
        if (_options.UpdateEpochs == 0)
        {
            return;
        }

        var affected = new SortedSet<int>();
        foreach (Interaction e in newEvents)
        {
            affected.Add(e.User);
        }

        (float[] x, float[] y, float[] w) = BuildRows(LastBaskets(affected, out _), CancellationToken.None);
        Train(x, y, w, _options.UpdateEpochs, null, null, CancellationToken.None);
    }

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users, _items, _options.MaxUsers, _options.MaxItems);
        Grow(userCount, itemCount);
        AddEvents([]); // the new users' (empty) histories, as an update would add them
        _knn.Update([], userCount, itemCount);
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first, so a rejected growth allocates and changes nothing.
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, F);
        _fitted = true;
        _users = userCount;
        if (itemCount > _items)
        {
            Array.Resize(ref _popularity, itemCount);
            _items = itemCount;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        RepeatAwareScorer.Score(ParameterValues.Live(Parameters), _knn, _popularity, _maxPopularity, _items,
            _scorePool ??= RepeatAwareScorer.NewPool(_options.Decay), history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer() => new RepeatAwareScorer(ParameterValues.Freeze(Parameters), _knn.CreateScorer(),
        (float[])_popularity.Clone(), _maxPopularity, _items, _options.Decay);

    /// <summary>Mini-batch Adam over the rows in the shared loop (early stopping with <paramref name="validation"/>).</summary>
    private void Train(float[] x, float[] y, float[] w, int epochs, HoldoutValidation? validation,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int n = y.Length;
        if (n == 0)
        {
            return;
        }

        int b = Math.Min(_options.BatchSize, n);
        if (_batch.Rows != b)
        {
            _batch = new Tensor(b, F);
            _batchUser = new Tensor(b, RepeatAwareFeatures.UserColumns);
            _gradLogits = new Tensor(b, 1);
            _gradGate = new Tensor(b, 1);
            _logits = new float[b];
            _labels = new float[b];
            _weights = new float[b];
        }

        (_rowsX, _rowsY, _rowsW) = (x, y, w);
        // Only full batches, so every step has the same shape (no workspace reallocation); the reshuffle each
        // epoch means every row is still used.
        var plan = new EpochPlan(b, epochs, _options.Patience, HoldoutValidation.MetricFor(validation, this), MinimumBatch: b);
        _trainer.Run(this, n, plan, progress, cancellationToken);
    }

    /// <inheritdoc/>
    void IEpochModel.SetTraining(bool training) => _mlp.Training = training;

    /// <inheritdoc/>
    void IEpochModel.EndRun() => (_rowsX, _rowsY, _rowsW) = ([], [], []);

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters => NamedParameters();

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;
}

using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Models;

/// <summary>
/// Matrix factorisation trained with Bayesian Personalized Ranking (Rendle et al., UAI 2009): for a user u, a
/// bought item i and a sampled item j, maximise log σ(x_ui − x_uj) with x_ui = p_u · q_i + b_i.
/// </summary>
/// <remarks>
/// Built on the engine: embedding rows are gathered and their gradients scattered back with the row kernels,
/// the loss is <see cref="BprLoss"/>, and a lazy <see cref="Adam"/> updates only the rows each batch touched.
/// Negatives are drawn uniformly from the catalog (a sampled item the user did buy is kept: with thousands of
/// items it is rare and unbiased in expectation). <see cref="Update"/> grows both tables for new users and items
/// and trains a few passes over the new pairs only, so earlier knowledge is kept rather than retrained.
/// <para>
/// <see cref="Recommender.Save"/> writes the three tables, Adam's moments and step count, each user's seen items and the
/// random generator's state; <see cref="Recommender.Load"/> into an instance with the same options restores scores
/// bit-identically, and <see cref="Update"/> after a load continues exactly as the saved model would have
/// (checkpoint-then-continue equals an uninterrupted run).
/// </para>
/// </remarks>
public sealed partial class BprMf : Recommender, ITrainableRecommender
{
    private readonly BprMfOptions _options;
    private readonly SeededRandom _random;
    private Parameter _users;
    private Parameter _items;
    private Parameter _itemBias;
    private Adam _optimizer;
    private UserItemSets _seen = new();
    private Parameter[] _regularised;
    private readonly EpochTrainer _trainer = new();
    private List<(int User, int Item)> _pairs = [];

    // Per-batch scratch, sized once for BatchSize.
    private readonly int[] _u, _i, _j;
    private readonly float[] _pu, _qi, _qj, _xi, _xj, _gi, _gj;

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public BprMf(BprMfOptions? options = null)
    {
        _options = options ?? new BprMfOptions();
        _options.Validate();
        _random = new SeededRandom(_options.Seed);
        int d = _options.Dimensions, b = _options.BatchSize;
        (_users, _items, _itemBias, _optimizer, _regularised) = NewTables();
        if (_options.L2 > 0)
        {
            _trainer.Hooks.Add(new L2Penalty(_options.L2, p => Array.IndexOf(_regularised, p) >= 0));
        }

        (_u, _i, _j) = (new int[b], new int[b], new int[b]);
        (_pu, _qi, _qj) = (new float[b * d], new float[b * d], new float[b * d]);
        (_xi, _xj, _gi, _gj) = (new float[b], new float[b], new float[b], new float[b]);
    }

    /// <inheritdoc/>
    public override string Name => "BPR-MF";

    /// <inheritdoc/>
    public override int ItemCount => _items.Rows;

    /// <summary>Gets the named parameters (user and item tables, item bias), e.g. for checkpoints.</summary>
    public IReadOnlyList<Parameter> Parameters => [_users, _items, _itemBias];

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: the model is reset to the state of a new instance with the same options
    /// first, so it ends exactly where <c>new BprMf(options).Fit(...)</c> would. Exclusive: no other call may run at
    /// the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _options.CheckFit(events, userCount, itemCount, _options.Dimensions);
        if (_users.Rows > 0 || _items.Rows > 0 || _optimizer.StepCount > 0)
        {
            _random.SetState(new SeededRandom(_options.Seed).GetState());
            (_users, _items, _itemBias, _optimizer, _regularised) = NewTables();
            _seen = new UserItemSets();
        }

        Grow(userCount, itemCount);

        // Early stopping: hold out some users' last training basket, keep the epoch with the best NDCG@20 on it,
        // then learn the held-out pairs too (as an update would), so no training event is left unused.
        HoldoutValidation? validation = _options.HoldOut(events, userCount);
        Train(CollectNewPairs(validation?.FitEvents ?? events), _options.MaxEpochs, validation, progress, cancellationToken);
        if (validation is not null)
        {
            Train(CollectNewPairs(events), _options.UpdateEpochs, null, null, cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users.Rows, _items.Rows, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        Train(CollectNewPairs(newEvents), _options.UpdateEpochs, null, null, CancellationToken.None);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        BprMfScorer.Score(_users.Value.Span, _items.Value.Span, _itemBias.Value.Span, _options.Dimensions, IsTrained(user),
            user, history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer()
    {
        var trained = new bool[_users.Rows];
        for (int u = 0; u < trained.Length; u++)
        {
            trained[u] = IsTrained(u);
        }

        return new BprMfScorer(_users.Value.Span, _items.Value.Span, _itemBias.Value.Span, trained, _options.Dimensions);
    }

    /// <summary>Whether <paramref name="user"/> has a learned row (a user with training pairs), else scoring folds them in.</summary>
    private bool IsTrained(int user) => (uint)user < (uint)_users.Rows && _seen.Of(user).Count > 0;

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users.Rows, _items.Rows, _options.MaxUsers, _options.MaxItems);
        Grow(userCount, itemCount);
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first, so a rejected growth allocates and changes nothing.
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _options.Dimensions);
        float scale = 0.1f / MathF.Sqrt(_options.Dimensions);
        _users.GrowRows(userCount, rows => Init.Normal(rows, 0f, scale, _random));
        _items.GrowRows(itemCount, rows => Init.Normal(rows, 0f, scale, _random));
        _itemBias.GrowRows(itemCount);
        _seen.EnsureUsers(userCount);
    }

    /// <summary>The empty tables and their optimizer of a new instance.</summary>
    private (Parameter Users, Parameter Items, Parameter ItemBias, Adam Optimizer, Parameter[] Regularised) NewTables()
    {
        int d = _options.Dimensions;
        var users = new Parameter("users", new Tensor(0, d), sparseRows: true);
        var items = new Parameter("items", new Tensor(0, d), sparseRows: true);
        var itemBias = new Parameter("itemBias", new Tensor(0, 1), sparseRows: true);
        return (users, items, itemBias, new Adam([users, items, itemBias], _options.LearningRate, lazy: true), [users, items]);
    }

    /// <summary>Distinct (user, item) positives not seen before, in event order.</summary>
    private List<(int User, int Item)> CollectNewPairs(IReadOnlyList<Interaction> events)
    {
        var pairs = new List<(int, int)>();
        foreach (Interaction e in events)
        {
            if (_seen.Add(e))
            {
                pairs.Add((e.User, e.Item));
            }
        }

        return pairs;
    }

    private void Train(List<(int User, int Item)> pairs, int epochs, HoldoutValidation? validation,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (_items.Rows == 0)
        {
            return;
        }

        _pairs = pairs;
        var plan = new EpochPlan(_options.BatchSize, epochs, _options.Patience, HoldoutValidation.MetricFor(validation, this));
        _trainer.Run(this, pairs.Count, plan, progress, cancellationToken);
    }

    /// <inheritdoc/>
    float IEpochModel.Backward(ReadOnlySpan<int> examples)
    {
        if (_private is not null)
        {
            return PrivateBackward(examples);   // examples are the sampled users of a private update (BprMf.Private.cs)
        }

        for (int k = 0; k < examples.Length; k++)
        {
            (_u[k], _i[k]) = _pairs[examples[k]];
            _j[k] = _random.Next(_items.Rows);
        }

        GatherWeights(examples);
        return Backward(examples.Length);
    }

    /// <inheritdoc/>
    void IEpochModel.EndRun() => _pairs = [];

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters =>
        [new("users", _users), new("items", _items), new("itemBias", _itemBias)];

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;
}

using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Models;

/// <summary>
/// GRU4Rec (Hidasi et al., ICLR 2016, "Session-based Recommendations with Recurrent Neural Networks") over each
/// user's flattened item sequence, trained with softmax cross-entropy as recommended by Hidasi &amp; Czapp (2023,
/// "The effect of third party implementations on reproducibility"): the full-catalog softmax by default, or its
/// sampled, logQ-corrected estimate for large catalogs.
/// </summary>
/// <remarks>
/// <para>
/// <b>Model.</b> Item i is embedded as row i + 1 of an <see cref="Embedding"/> (row 0 is padding); a <see cref="Gru"/>
/// runs over the left-padded window; the state h_t after each real position scores every item as
/// <c>h_t · W_jᵀ + b_j</c>, where W is a separate output table (default) or the input embeddings
/// (<see cref="Gru4RecOptions.TieOutput"/>). The target at position t is the next item of the sequence. Only real
/// positions are scored: their states are gathered into an (N, H) block, so padding costs nothing in the output layer.
/// </para>
/// <para>
/// <b>Data.</b> The sequence of a user is their positive events' items in time order with immediate repeats dropped
/// (a repeat carries no next-item signal). A sequence longer than <see cref="Gru4RecOptions.MaxLength"/> is cut into
/// consecutive windows from its end, so every transition is trained exactly once per epoch.
/// </para>
/// <para>
/// <b>Training.</b> Adam (lazy on the embedding rows) in the shared <see cref="EpochTrainer"/>: early stopping on
/// <see cref="HoldoutValidation"/> NDCG@20 with the best epoch's parameters restored. <see cref="Update"/> grows the tables and re-trains on the windows of the
/// users with new events. All randomness flows from <see cref="ModelOptions.Seed"/>; the kernels run
/// single-threaded, so the same seed gives bit-identical scores.
/// </para>
/// <para>
/// <b>Scoring.</b> The user's visible history (last T items) runs through the GRU; the last state scores the catalog.
/// A user never seen in training is scored from the history alone, and an empty history gives the zero state, whose
/// scores are the learned item biases (a popularity prior).
/// </para>
/// <para>
/// <b>Saving.</b> <see cref="Recommender.Save"/> writes every parameter, Adam's moments, the history store's events (the
/// sequences are derived from it), the negative sampler's weights, Adam's step count and the random generators' states, so a fresh instance created
/// with the same options scores bit-identically after <see cref="Recommender.Load"/>, and <see cref="Update"/> after a load
/// continues exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted run). A model
/// can load a state whose user and item counts are at least its own (e.g. any fresh instance).
/// </para>
/// </remarks>
public sealed partial class Gru4Rec : Recommender, ITrainableRecommender
{
    private readonly Gru4RecOptions _options;
    // Not readonly: a second Fit rebuilds them as a new instance would (Build).
    private SeededRandom _random;
    private SeededRandom _samplerRandom;
    private Embedding _embedding;
    private Gru _gru;
    private Parameter? _outputWeight; // (I, H), null when tied to the embeddings
    private Parameter _outputBias;    // (I, 1)
    private Parameter[] _parameters;
    private Adam _optimizer;
    private readonly EpochTrainer _trainer = new();
    private Window[] _windows = [];
    private UserHistories _histories = new();
    private readonly List<List<int>> _runSequences = [];   // the sequences the current run's windows read
    private PopularitySampler? _sampler;
    private bool _fitted;

    // Per-batch scratch, sized for BatchSize windows of MaxLength (the catalog-sized ones grow with it).
    private readonly int[] _ids, _positions, _targets;
    private readonly float[] _mask, _hidden, _gradHidden;
    private readonly Workspace _gradStates = new();
    private float[] _logits = [];
    private float[] _biasGrad = [];
    private readonly int[] _negatives;
    private readonly float[] _negativeLogQ, _negativeVectors, _negativeGrad, _positiveLogits, _positiveLogQ, _positiveGrad, _negativeBiasGrad;

    // The scoring view over the live parameters (built on first use; its scratch is pooled per call).
    private Gru4RecScorer? _liveScorer;

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException"><see cref="Gru4RecOptions.TieOutput"/> is set with different embedding and hidden sizes.</exception>
    public Gru4Rec(Gru4RecOptions? options = null)
    {
        _options = options ?? new Gru4RecOptions();
        _options.Validate();
        Build();
        int h = _options.HiddenSize, t = _options.MaxLength, b = _options.BatchSize;
        int n = b * t;
        (_ids, _positions, _targets, _mask) = (new int[n], new int[n], new int[n], new float[n]);
        (_hidden, _gradHidden) = (new float[n * h], new float[n * h]);
        int s = _options.Loss == Gru4RecLoss.SampledSoftmax ? _options.Negatives : 0;
        (_negatives, _negativeLogQ, _negativeVectors, _negativeGrad, _negativeBiasGrad) =
            (new int[s], new float[s], new float[s * h], new float[n * s], new float[s]);
        (_positiveLogits, _positiveLogQ, _positiveGrad) = s > 0 ? (new float[n], new float[n], new float[n]) : ([], [], []);
    }

    /// <inheritdoc/>
    public override string Name => "GRU4Rec";

    /// <inheritdoc/>
    public override int ItemCount => _outputBias.Rows;

    /// <summary>Gets the trainable parameters (embeddings, GRU weights, output table unless tied, output bias), e.g. for checkpoints.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: the model is first rebuilt as a new instance with the same options, so it
    /// ends exactly where <c>new Gru4Rec(options).Fit(...)</c> would. Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _options.CheckFit(events, userCount, itemCount, Math.Max(_options.Dimensions, _options.HiddenSize));
        if (_fitted || ItemCount > 0 || _histories.UserCount > 0 || _optimizer.StepCount > 0)
        {
            Build();
            (_sampler, _fitted, _histories) = (null, false, new UserHistories());
        }

        _fitted = true;
        HoldoutValidation validation = HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed, _options.Validation);
        Grow(userCount, itemCount);
        Append(validation.FitEvents);
        if (_options.Loss == Gru4RecLoss.SampledSoftmax && itemCount > 0)
        {
            float[] weights = SequenceItemCounts(itemCount);
            for (int i = 0; i < itemCount; i++)
            {
                weights[i] = MathF.Pow(weights[i] + 1f, 0.75f);
            }

            _sampler = new PopularitySampler(weights, _samplerRandom);
        }

        if (itemCount > 0)
        {
            Train(CollectWindows(null), _options.MaxEpochs, validation, progress, cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _histories.UserCount, ItemCount, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        Dictionary<int, int> oldLengths = Append(newEvents);
        if (itemCount > 0)
        {
            Train(CollectWindows(oldLengths), _options.UpdateEpochs, null, null, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        (_liveScorer ??= NewScorer(ParameterValues.Live(_parameters), () => ItemCount)).Score(user, history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer()
    {
        int items = ItemCount;
        return NewScorer(ParameterValues.Freeze(_parameters), () => items);
    }

    private Gru4RecScorer NewScorer(ParameterValues parameters, Func<int> itemCount) =>
        new(parameters, itemCount, _options.Dimensions, _options.HiddenSize, _options.MaxLength, _options.TieOutput);

    /// <summary>The output item vectors, (I, H): the separate table, or the embedding rows after the padding row.</summary>
    private ReadOnlySpan<float> OutputTable() =>
        _outputWeight is not null ? _outputWeight.Value.Span : _embedding.Weight.Value.Span[_options.Dimensions..];

    private Span<float> OutputGradient() =>
        _outputWeight is not null ? _outputWeight.Gradient.Span : _embedding.Weight.Gradient.Span[_options.Dimensions..];

    /// <summary>Creates the generators, layers and optimizer of a new instance (the constructor, and a second Fit).</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_random), nameof(_samplerRandom), nameof(_embedding), nameof(_gru),
        nameof(_outputBias), nameof(_parameters), nameof(_optimizer))]
    private void Build()
    {
        _liveScorer = null;   // it reads the parameter list this method replaces; the next read builds one over the new list
        _random = new SeededRandom(_options.Seed);
        _samplerRandom = new SeededRandom(unchecked(_options.Seed * 31 + 7));
        int d = _options.Dimensions, h = _options.HiddenSize;
        _embedding = new Embedding(1, d, _random, paddingIndex: 0);
        _gru = new Gru(d, h, _random);
        _outputBias = new Parameter("outputBias", new Tensor(0, 1));
        var parameters = new List<Parameter> { _embedding.Weight };
        parameters.AddRange(_gru.Parameters);
        _outputWeight = null;
        if (!_options.TieOutput)
        {
            _outputWeight = new Parameter("outputWeight", new Tensor(0, h));
            parameters.Add(_outputWeight);
        }

        parameters.Add(_outputBias);
        _parameters = [.. parameters];
        _optimizer = new Adam(_parameters, _options.LearningRate, lazy: true);
    }

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _histories.UserCount, ItemCount, _options.MaxUsers, _options.MaxItems);
        Grow(userCount, itemCount);
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first, so a rejected growth allocates and changes nothing.
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, Math.Max(_options.Dimensions, _options.HiddenSize));
        _embedding.Grow(itemCount + 1);
        _outputWeight?.GrowRows(itemCount, rows => Init.Normal(rows, 0f, 1f / MathF.Sqrt(_options.HiddenSize), _random));
        _outputBias.GrowRows(itemCount);
        _sampler?.Grow(itemCount, 1f);
        _histories.EnsureUsers(userCount);
    }

    /// <summary>Trains on <paramref name="windows"/> in the shared loop (early stopping when validation users exist).</summary>
    private void Train(List<Window> windows, int epochs, HoldoutValidation? validation, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        _windows = [.. windows];
        var plan = new EpochPlan(_options.BatchSize, epochs, _options.Patience, HoldoutValidation.MetricFor(validation, this));
        _trainer.Run(this, _windows.Length, plan, progress, cancellationToken);
    }

    /// <inheritdoc/>
    void IEpochModel.EndRun()
    {
        _windows = [];
        _runSequences.Clear();
    }

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters => NamedParameters();

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;

    private static float[] UniformWeights(int items)
    {
        var weights = new float[items];
        Array.Fill(weights, 1f);
        return weights;
    }
}

using LifelongPrefs.Nn.Sampling;

namespace LifelongPrefs.Models;

/// <summary>
/// SASRec, self-attentive sequential recommendation (Kang &amp; McAuley, ICDM 2018): a causal Transformer over each
/// user's item sequence predicts the next item at every position, scoring items by the dot product of the hidden
/// state with the <b>shared</b> item embeddings.
/// </summary>
/// <remarks>
/// <para>
/// A user's sequence is their purchases in time order, baskets flattened (distinct items of a basket, first occurrence
/// first). Item i is embedding row i + 1; row 0 is the padding id (always zero). For the last <c>n</c> items, left-padded:
/// </para>
/// <code>
/// x = Dropout(√d · E[ids] + P) ⊙ mask            (B, n, d)
/// h = LayerNorm(Block_L(… Block_1(x) …))           causal self-attention, pre-LN blocks
/// logits[b, t, i] = h[b, t] · E[i + 1]             the same table as the input
/// </code>
/// <para>
/// Training targets the next item at every real position. With <see cref="SasRecLoss.FullSoftmax"/> the logits over
/// all items are computed only for real positions, in chunks of <c>512</c> positions so memory stays bounded
/// (<c>512 × items</c> floats); the output gradient into the table is <c>dE += dLogitsᵀ·H</c> (one GEMM), added to
/// the lookup's sparse gradient, so the table learns from both uses. Adam is lazy on the table, which matters for
/// the sampled losses. With <see cref="SasRecLoss.SampledSoftmax"/> each batch draws
/// <see cref="SasRecOptions.Negatives"/> items from a popularity sampler (Q(i) ∝ (count_i + 1)^0.75 over the training
/// sequences, new items of <see cref="Update"/> with count 0); the positive logit is <c>h·E[target]</c>, the negative
/// logits are <c>H·E[negatives]ᵀ</c>, and only the target and negative rows of the table receive an output gradient.
/// </para>
/// <para>
/// <see cref="Fit"/> holds out the last basket of <see cref="LearnedModelOptions.ValidationUsers"/> users, trains on the
/// rest and keeps the epoch with the best validation NDCG@20 (early stopping with
/// <see cref="LearnedModelOptions.Patience"/> in the shared <see cref="EpochTrainer"/>). <see cref="Update"/> grows the item table for new items (users have no
/// parameters: a user is their sequence, so unseen users work out of the box) and re-trains
/// <see cref="LearnedModelOptions.UpdateEpochs"/> passes on the sequences of the users the new events touched.
/// <see cref="Score"/> reads the history it is given, so it never depends on what was trained for the user.
/// </para>
/// </remarks>
public sealed partial class SasRec : Recommender, ITrainableRecommender
{
    private const int ChunkRows = 512;

    private readonly SasRecOptions _options;
    // The layout number within container format 2 (see Persistence/README.md): 2 saves the history store's events,
    // 1 saved the derived sequences (still read).
    private const int StateFormat = 2;

    private SeededRandom _random;
    private SeededRandom? _samplerRandom;
    private Network _network;
    private Adam _optimizer;
    private readonly float _embeddingScale;
    private PopularitySampler? _sampler;

    // Every event the model has seen (the sequences for Update are derived from it).
    private UserHistories _histories = new();

    // Per-batch scratch, sized once for BatchSize × MaxLength positions.
    private readonly int[] _ids, _targets, _positions, _classTargets, _negatives;
    private readonly float[] _mask;
    private readonly float[] _scaledBuffer, _gradEmbeddingBuffer, _gradHidden;
    private float[] _gathered, _gradGathered, _logits;

    // Sampled-softmax scratch: S shared negatives, their log Q, vectors E[neg] and row gradients (S, d); per-position
    // positive logits, log Q and gradients. Empty unless the loss is SampledSoftmax.
    private readonly int[] _sharedNegatives;
    private readonly float[] _negativeLogQ, _negativeVectors, _negativeRowGrad, _positiveLogits, _positiveLogQ, _positiveGrad;

    // The scoring view over the live network (built on first use; its scratch is pooled per call).
    private SasRecScorer? _liveScorer;

    private Tensor? _scaledView, _gradHiddenView, _gradEmbeddingView;
    private int _itemCount;
    private int _userCount;
    private bool _fitted;
    private readonly EpochTrainer _trainer = new();
    private SequenceBatch? _rows;

    /// <summary>Creates an untrained model.</summary>
    /// <param name="options">Hyper-parameters; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public SasRec(SasRecOptions? options = null)
    {
        _options = options ?? new SasRecOptions();
        _options.Validate();
        _random = new SeededRandom(_options.Seed);
        _network = new Network(_options, _random);
        _optimizer = new Adam(_network.Parameters, _options.LearningRate, lazy: true);
        _embeddingScale = MathF.Sqrt(_options.Dimensions);
        int positions = _options.BatchSize * _options.MaxLength, d = _options.Dimensions;
        (_ids, _targets, _positions, _classTargets, _negatives) =
            (new int[positions], new int[positions], new int[positions], new int[positions], new int[positions]);
        _mask = new float[positions];
        (_scaledBuffer, _gradEmbeddingBuffer, _gradHidden) = (new float[positions * d], new float[positions * d], new float[positions * d]);
        (_gathered, _gradGathered, _logits) = ([], [], []);
        int s = _options.Loss == SasRecLoss.SampledSoftmax ? _options.Negatives : 0;
        (_sharedNegatives, _negativeLogQ, _negativeVectors, _negativeRowGrad) = (new int[s], new float[s], new float[s * d], new float[s * d]);
        (_positiveLogits, _positiveLogQ, _positiveGrad) = s > 0 ? (new float[positions], new float[positions], new float[positions]) : ([], [], []);
    }

    /// <inheritdoc/>
    public override string Name => "SASRec";

    /// <inheritdoc/>
    public override int ItemCount => _itemCount;

    /// <summary>Gets the options the model was created with.</summary>
    public SasRecOptions Options => _options;

    /// <summary>
    /// Gets the named parameters (<c>items.weight</c>, <c>positions.weight</c>, <c>blocks.k.…</c>, <c>norm.…</c>),
    /// e.g. for checkpoints. The item table has <see cref="ItemCount"/> + 1 rows (row 0 is padding).
    /// </summary>
    internal IEnumerable<KeyValuePair<string, Parameter>> NamedParameters => _network.NamedParameters();

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: the model is first rebuilt as a new instance with the same options, so it
    /// ends exactly where <c>new SasRec(options).Fit(...)</c> would. Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public override void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _options.CheckFit(events, userCount, itemCount, _options.Dimensions);
        if (_fitted || _itemCount > 0 || _userCount > 0 || _optimizer.StepCount > 0)
        {
            // As the constructor does, in the same order, so the generators draw the same initial weights.
            _random = new SeededRandom(_options.Seed);
            _network = new Network(_options, _random);
            _optimizer = new Adam(_network.Parameters, _options.LearningRate, lazy: true);
            (_histories, _sampler, _samplerRandom, _itemCount, _userCount) = (new UserHistories(), null, null, 0, 0);
        }

        _fitted = true;
        Grow(userCount, itemCount);

        HoldoutValidation? validation = _options.HoldOut(events, userCount);
        if (validation is { UserCount: 0 })
        {
            validation = null;
        }

        UserHistories fitHistories = UserHistories.FromEvents(validation is null ? events : validation.FitEvents, userCount);
        BuildSampler(fitHistories);
        Train(BuildRows(fitHistories, null, _options.MaxLength), _options.MaxEpochs, validation, progress, cancellationToken);

        // Keep every event (including the held-out baskets) for later updates.
        _histories.EnsureUsers(userCount);
        _histories.Append(events);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="ModelOptions.MaxUsers"/> or <see cref="ModelOptions.MaxItems"/> (nothing changes).</exception>
    public override void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, _itemCount, _options.MaxUsers, _options.MaxItems);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        HashSet<int> affected = Append(newEvents);
        _fitted = true;
        if (_sampler is null)
        {
            BuildSampler(_histories); // no sampler yet (never fitted, or fitted on an empty catalog)
        }

        if (affected.Count > 0)
        {
            Train(BuildRows(_histories, affected, _options.MaxLength), _options.UpdateEpochs, null, null, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The user's positive events are flattened like the training sequences and the last
    /// <see cref="SasRecOptions.MaxLength"/> items are encoded in inference mode; the last position's hidden state is
    /// dotted with every item embedding. An empty history gives scores from the learned final-norm bias alone.
    /// Items outside the model's catalog in <paramref name="history"/> are skipped.
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommender.Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Recommender.Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        (_liveScorer ??= new SasRecScorer(() => ParameterValues.Live(_network.Parameters), () => _itemCount, _options))
            .Score(user, history, scores);

    /// <inheritdoc/>
    public override IScorer CreateScorer()
    {
        ParameterValues frozen = ParameterValues.Freeze(_network.Parameters);
        int items = _itemCount;
        return new SasRecScorer(() => frozen, () => items, _options);
    }

    /// <summary>The item rows of the table without the padding row: (items, d).</summary>
    private ReadOnlySpan<float> ItemRows(ReadOnlySpan<float> table) => table.Slice(_options.Dimensions, _itemCount * _options.Dimensions);

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, _itemCount, _options.MaxUsers, _options.MaxItems);
        Grow(userCount, itemCount);
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first and the counts last, so a rejected growth changes nothing (not even ItemCount).
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _options.Dimensions);
        _network.Items.Grow(itemCount + 1);
        _sampler?.Grow(itemCount, 1f); // new items count 0: weight (0 + 1)^0.75
        _histories.EnsureUsers(userCount);
        _userCount = userCount;
        _itemCount = itemCount;
    }

    /// <summary>
    /// Builds the <see cref="SasRecLoss.SampledSoftmax"/> sampler from the item counts of the sequences of
    /// <paramref name="histories"/>: Q(i) ∝ (count_i + 1)^0.75, with its own generator seeded from the model's. Does
    /// nothing for the other losses.
    /// </summary>
    private void BuildSampler(UserHistories histories)
    {
        if (_options.Loss != SasRecLoss.SampledSoftmax || _itemCount == 0)
        {
            return;
        }

        var weights = new float[_itemCount];
        var scratch = new HashSet<int>();
        for (int u = 0; u < histories.UserCount; u++)
        {
            foreach (int item in SequenceOf(histories, u, scratch))
            {
                weights[item]++;
            }
        }

        // word2vec's 0.75 power flattens popularity; the +1 keeps every item drawable and its log Q finite.
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = MathF.Pow(weights[i] + 1f, 0.75f);
        }

        _samplerRandom = new SeededRandom(_random.Next());
        _sampler = new PopularitySampler(weights, _samplerRandom);
    }

    /// <summary>Next-item rows (ids shifted by one, padding 0) from the sequences of <paramref name="users"/> (null = all).</summary>
    private static SequenceBatch BuildRows(UserHistories histories, HashSet<int>? users, int maxLength)
    {
        var shifted = new List<int[]>();
        var scratch = new HashSet<int>();
        for (int u = 0; u < histories.UserCount; u++)
        {
            List<int> s = users is null || users.Contains(u) ? SequenceOf(histories, u, scratch) : [];
            if (s.Count < 2)
            {
                continue;
            }

            var row = new int[s.Count];
            for (int j = 0; j < row.Length; j++)
            {
                row[j] = s[j] + 1;
            }

            shifted.Add(row);
        }

        return SequenceBuilder.NextItem(shifted, maxLength, 0);
    }

    private void Train(SequenceBatch rows, int epochs, HoldoutValidation? validation, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (_itemCount == 0)
        {
            return;
        }

        _rows = rows;
        var plan = new EpochPlan(_options.BatchSize, epochs, _options.Patience, HoldoutValidation.MetricFor(validation, this));
        _trainer.Run(this, rows.Rows, plan, progress, cancellationToken);
    }

    /// <inheritdoc/>
    float IEpochModel.Backward(ReadOnlySpan<int> examples)
    {
        SequenceBatch rows = _rows!;
        int t = _options.MaxLength;
        for (int k = 0; k < examples.Length; k++)
        {
            int r = examples[k];
            rows.Ids.AsSpan(r * t, t).CopyTo(_ids.AsSpan(k * t, t));
            rows.Mask.AsSpan(r * t, t).CopyTo(_mask.AsSpan(k * t, t));
            rows.Targets.AsSpan(r * t, t).CopyTo(_targets.AsSpan(k * t, t));
        }

        return Backward(examples.Length);
    }

    /// <inheritdoc/>
    void IEpochModel.SetTraining(bool training) => _network.Training = training;

    /// <inheritdoc/>
    void IEpochModel.EndRun() => _rows = null;

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters => [.. _network.NamedParameters()];

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;
}

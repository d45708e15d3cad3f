using System.Diagnostics;
using System.Numerics.Tensors;
using LifelongPrefs.Data;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Nn.Sampling;
using LifelongPrefs.Persistence;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Models;

/// <summary>The training objective of <see cref="SasRec"/>.</summary>
public enum SasRecLoss
{
    /// <summary>
    /// Full softmax cross-entropy over every item at every position (logits <c>H·Eᵀ</c>). Costs O(items) per position
    /// but is known to lift SASRec markedly over the paper's sampled objective (Klenitskiy &amp; Vasilev, RecSys 2023).
    /// </summary>
    FullSoftmax,

    /// <summary>
    /// The paper's objective: binary cross-entropy of the next item against one uniformly sampled negative per
    /// position. Cheap per step, but needs many more epochs.
    /// </summary>
    BinaryCrossEntropy,

    /// <summary>
    /// Sampled softmax over the positive and <see cref="SasRecOptions.Negatives"/> negatives shared by the batch, drawn
    /// in proportion to (training count + 1)^0.75, with the logQ correction on the positive and the negatives and
    /// accidental hits removed. Costs O(negatives) per position instead of O(items).
    /// </summary>
    SampledSoftmax,
}

/// <summary>
/// Hyper-parameters of <see cref="SasRec"/>. Architecture defaults follow the paper (d = 64, two blocks, one head,
/// n = 50, feed-forward width d) and dropout 0.2 (the paper's value for dense data). Loss and learning rate come from a two-point check on the Online Retail next-basket protocol: full softmax with 12 epochs at 1e-3 reached
/// validation NDCG@20 0.148 in ~180 s, 5 epochs at 3e-3 reached 0.151 in ~50 s (2 shared cores). The number of epochs
/// is not tuned to any dataset: training runs until the validation NDCG@20 has not improved for <see cref="Patience"/>
/// epochs (at most <see cref="MaxEpochs"/>) and keeps the best epoch, so a small log with few steps per epoch trains
/// as long as it keeps learning.
/// </summary>
/// <param name="Dimensions">Model width d (item and position embeddings, attention, feed-forward).</param>
/// <param name="Blocks">Number of stacked Transformer blocks.</param>
/// <param name="Heads">Attention heads per block; must divide <paramref name="Dimensions"/>.</param>
/// <param name="MaxLength">n, the window of most recent items the model reads.</param>
/// <param name="Dropout">Dropout on the embeddings, the residual branches and the attention weights, in [0, 1).</param>
/// <param name="MaxEpochs">The cap on passes over the users' sequences in <see cref="SasRec.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="UpdateEpochs">Passes over the affected users' sequences in <see cref="SasRec.Update"/> (no validation).</param>
/// <param name="BatchSize">Sequences per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="Loss">The training objective.</param>
/// <param name="Negatives">Shared negatives drawn per batch for <see cref="SasRecLoss.SampledSoftmax"/> (ignored by the other losses).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops; at least 1.</param>
/// <param name="ValidationUsers">Users whose last basket is held out inside <see cref="SasRec.Fit"/> for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, shuffling, dropout and negative sampling.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record SasRecOptions(int Dimensions = 64, int Blocks = 2, int Heads = 1, int MaxLength = 50, float Dropout = 0.2f,
    int MaxEpochs = 200, int UpdateEpochs = 2, int BatchSize = 128, float LearningRate = 3e-3f, SasRecLoss Loss = SasRecLoss.FullSoftmax,
    int Negatives = 256, int Patience = 5, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Blocks, nameof(Blocks));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Heads, nameof(Heads));
        if (Dimensions % Heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Heads), Heads,
                $"'{nameof(Heads)}' ({Heads}) must divide '{nameof(Dimensions)}' ({Dimensions}).");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength, nameof(MaxLength));
        RecommenderGuard.Rate(Dropout, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!Enum.IsDefined(Loss))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"'{nameof(Loss)}' is not a defined {nameof(SasRecLoss)}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
    }
}

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
/// <see cref="Fit"/> holds out the last basket of <see cref="SasRecOptions.ValidationUsers"/> users, trains on the
/// rest and keeps the epoch with the best validation NDCG@20 (early stopping with
/// <see cref="SasRecOptions.Patience"/> in the shared <see cref="EpochTrainer"/>). <see cref="Update"/> grows the item table for new items (users have no
/// parameters: a user is their sequence, so unseen users work out of the box) and re-trains
/// <see cref="SasRecOptions.UpdateEpochs"/> passes on the sequences of the users the new events touched.
/// <see cref="Score"/> reads the history it is given, so it never depends on what was trained for the user.
/// </para>
/// </remarks>
public sealed class SasRec : ISavableRecommender, ITrainableRecommender
{
    private const int ChunkRows = 512;

    private readonly SasRecOptions _options;
    private const int StateFormat = 1;   // the layout number within container format 2 (see Persistence/README.md)

    private SeededRandom _random;
    private SeededRandom? _samplerRandom;
    private Network _network;
    private Adam _optimizer;
    private readonly float _embeddingScale;
    private PopularitySampler? _sampler;

    // Persistent per-user purchase sequences (unshifted item indices) for Update.
    private SequenceState _state = new();

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
    public string Name => "SASRec";

    /// <inheritdoc/>
    public int ItemCount => _itemCount;

    /// <summary>Gets the options the model was created with.</summary>
    public SasRecOptions Options => _options;

    /// <summary>
    /// Gets the named parameters (<c>items.weight</c>, <c>positions.weight</c>, <c>blocks.k.…</c>, <c>norm.…</c>),
    /// e.g. for checkpoints. The item table has <see cref="ItemCount"/> + 1 rows (row 0 is padding).
    /// </summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters => _network.NamedParameters();

    /// <summary>Gets the optimizer steps skipped so far because a gradient held NaN or infinity (those batches were discarded).</summary>
    public long SkippedSteps => _trainer.SkippedSteps;

    /// <inheritdoc/>
    /// <remarks>
    /// A second call retrains from scratch: the model is first rebuilt as a new instance with the same options, so it
    /// ends exactly where <c>new SasRec(options).Fit(...)</c> would. Exclusive: no other call may run at the same time.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _options.Dimensions);
        if (_fitted || _itemCount > 0 || _userCount > 0 || _optimizer.StepCount > 0)
        {
            // As the constructor does, in the same order, so the generators draw the same initial weights.
            _random = new SeededRandom(_options.Seed);
            _network = new Network(_options, _random);
            _optimizer = new Adam(_network.Parameters, _options.LearningRate, lazy: true);
            (_state, _sampler, _samplerRandom, _itemCount, _userCount) = (new SequenceState(), null, null, 0, 0);
        }

        _fitted = true;
        Grow(userCount, itemCount);

        HoldoutValidation? validation = _options.ValidationUsers > 0
            ? HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed)
            : null;
        if (validation is { UserCount: 0 })
        {
            validation = null;
        }

        var fitState = new SequenceState();
        fitState.Append(validation is null ? events : validation.FitEvents, userCount, null);
        BuildSampler(fitState);
        Train(BuildRows(fitState, null), _options.MaxEpochs, validation, progress, cancellationToken);

        // Keep every event (including the held-out baskets) for later updates.
        _state.Append(events, userCount, null);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="SasRecOptions.MaxUsers"/> or <see cref="SasRecOptions.MaxItems"/> (nothing changes).</exception>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, _itemCount);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        var affected = new HashSet<int>();
        _state.Append(newEvents, userCount, affected);
        _fitted = true;
        if (_sampler is null)
        {
            BuildSampler(_state); // no sampler yet (never fitted, or fitted on an empty catalog)
        }

        if (affected.Count > 0)
        {
            Train(BuildRows(_state, affected), _options.UpdateEpochs, null, null, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The user's positive events are flattened like the training sequences and the last
    /// <see cref="SasRecOptions.MaxLength"/> items are encoded in inference mode; the last position's hidden state is
    /// dotted with every item embedding. An empty history gives scores from the learned final-norm bias alone.
    /// Items outside the model's catalog in <paramref name="history"/> are skipped.
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        (_liveScorer ??= new SasRecScorer(() => ParameterValues.Live(_network.Parameters), () => _itemCount, _options))
            .Score(user, history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    public IScorer CreateScorer()
    {
        ParameterValues frozen = ParameterValues.Freeze(_network.Parameters);
        int items = _itemCount;
        return new SasRecScorer(() => frozen, () => items, _options);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Saves every parameter under its dotted path (the item table at its current <see cref="ItemCount"/> + 1 rows), Adam's
    /// two moment buffers per parameter, the per-user flattened sequences with each user's open basket (for
    /// <see cref="Update"/>), the negative sampler's weights (<see cref="SasRecLoss.SampledSoftmax"/>), the user and item
    /// counts, Adam's step count and the random generators' states.
    /// </remarks>
    public void Save(Stream stream) => ModelStateIo.Save(stream, StateHeader, WriteState);

    /// <inheritdoc/>
    /// <remarks>As <see cref="Save"/>.</remarks>
    public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.SaveAsync(stream, StateHeader, WriteState, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// <para>
    /// The saved state must come from a model with the same options. Everything is validated and rebuilt in new objects
    /// (network, optimizer, sequences, sampler) before they are swapped in, so a failed load leaves the model unchanged.
    /// <see cref="Score"/> is bit-identical to the saved model's afterwards.
    /// </para>
    /// <para>
    /// Training after a load continues exactly as the saved model would have: Adam's moments and step count and the
    /// generators behind shuffling, dropout and negative sampling are all restored.
    /// </para>
    /// </remarks>
    public void Load(Stream stream) => ModelStateIo.Load(stream, StateHeader, Name, ReadState);

    /// <inheritdoc/>
    /// <remarks>As <see cref="Load"/>.</remarks>
    public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.LoadAsync(stream, StateHeader, Name, ReadState, cancellationToken);

    private ModelStateHeader StateHeader => new(ModelTypeId.SasRec, StateFormat, OptionsFingerprint.Canonical(_options));

    private void WriteState(ModelStateWriter writer)
    {
        KeyValuePair<string, Parameter>[] named = [.. _network.NamedParameters()];
        writer.AddInt("itemCount", _itemCount);
        writer.AddInt("userCount", _userCount);
        writer.AddInt("fitted", _fitted ? 1 : 0);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        _state.Export(writer);
        if (_sampler is not null)
        {
            writer.AddFloats("samplerWeights", _sampler.Weights.ToArray());
            writer.AddRandom("samplerRandom", _samplerRandom!);
        }
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    private Action ReadState(ModelStateReader reader)
    {
        int items = reader.Int("itemCount"), users = reader.Int("userCount");
        bool fitted = reader.Flag("fitted");
        reader.Require(items >= 0 && users >= 0 && (items + 1L) * _options.Dimensions <= int.MaxValue, $"{items} items and {users} users");

        // Shapes first, from the current network's paths (the item table scaled to the saved catalog): nothing is
        // allocated for the new network until every section has been checked.
        KeyValuePair<string, Parameter>[] current = [.. _network.NamedParameters()];
        long Length(Parameter p) => ReferenceEquals(p, _network.Items.Weight) ? (items + 1L) * _options.Dimensions : p.Length;
        float[][] values = reader.Parameters(current, Length);
        SavedOptimizer moments = reader.Optimizer(_optimizer, current, Length);
        int[] randomState = reader.Random("random");
        SequenceState sequences = SequenceState.Import(reader, users, items);
        PopularitySampler? sampler = null;
        SeededRandom? samplerRandom = null;
        if (reader.Has("samplerWeights"))
        {
            float[] weights = reader.Floats("samplerWeights", items);
            reader.Require(_options.Loss == SasRecLoss.SampledSoftmax && items > 0 && Array.TrueForAll(weights, w => w > 0f),
                "sampler weights without a sampled loss, or not positive");
            samplerRandom = new SeededRandom(0);
            samplerRandom.SetState(reader.Random("samplerRandom"));
            sampler = new PopularitySampler(weights, samplerRandom);
        }

        return () =>
        {
            // A fresh network and optimizer, exactly as a new instance builds them; the generator that its dropout and
            // embedding growth draw from then takes the saved state.
            var random = new SeededRandom(_options.Seed);
            var network = new Network(_options, random);
            random.SetState(randomState);
            network.Items.Weight.GrowRows(items + 1);
            KeyValuePair<string, Parameter>[] named = [.. network.NamedParameters()];
            for (int i = 0; i < named.Length; i++)
            {
                values[i].CopyTo(named[i].Value.Value.Span);
            }

            var optimizer = new Adam(network.Parameters, _options.LearningRate, lazy: true);
            moments.ApplyTo(optimizer, named);

            // Everything validated: swap the state in.
            (_random, _network, _optimizer, _state, _sampler, _samplerRandom) = (random, network, optimizer, sequences, sampler, samplerRandom);
            (_itemCount, _userCount, _fitted) = (items, users, fitted);
        };
    }

    private static long BasketKey(in Interaction e) => e.BasketKey;

    /// <summary>The item rows of the table without the padding row: (items, d).</summary>
    private ReadOnlySpan<float> ItemRows(ReadOnlySpan<float> table) => table.Slice(_options.Dimensions, _itemCount * _options.Dimensions);

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _userCount, _itemCount);
        Grow(userCount, itemCount);
        _state.Append([], userCount, null); // the new users' (empty) sequences, as an update would add them
    }

    private void Grow(int userCount, int itemCount)
    {
        // Sizes first and the counts last, so a rejected growth changes nothing (not even ItemCount).
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, _options.Dimensions);
        _network.Items.Grow(itemCount + 1);
        _sampler?.Grow(itemCount, 1f); // new items count 0: weight (0 + 1)^0.75
        _userCount = userCount;
        _itemCount = itemCount;
    }

    /// <summary>
    /// Builds the <see cref="SasRecLoss.SampledSoftmax"/> sampler from the item counts of <paramref name="state"/>'s
    /// sequences: Q(i) ∝ (count_i + 1)^0.75, with its own generator seeded from the model's. Does nothing for the other losses.
    /// </summary>
    private void BuildSampler(SequenceState state)
    {
        if (_options.Loss != SasRecLoss.SampledSoftmax || _itemCount == 0)
        {
            return;
        }

        var weights = new float[_itemCount];
        foreach (List<int> sequence in state.Sequences)
        {
            foreach (int item in sequence)
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
    private SequenceBatch BuildRows(SequenceState state, HashSet<int>? users)
    {
        var shifted = new List<int[]>();
        for (int u = 0; u < state.Sequences.Count; u++)
        {
            List<int> s = state.Sequences[u];
            if (s.Count < 2 || (users is not null && !users.Contains(u)))
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

        return SequenceBuilder.NextItem(shifted, _options.MaxLength, 0);
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

    /// <summary>Embeds, encodes and normalises a (batch, n) window of shifted ids: returns h (batch, n, d).</summary>
    private Tensor Encode(ReadOnlySpan<int> ids, ReadOnlySpan<float> mask, int batch)
    {
        Tensor e = _network.Items.Forward(ids, batch, _options.MaxLength);                   // E[ids]: (B,n,d)

        // √d scaling of the item embeddings, as in the paper's code, so the item signal dominates the positions at first.
        Tensor scaled = View(_scaledBuffer, ref _scaledView, batch);
        Kernels.Scale(e.Span, _embeddingScale, scaled.Span);
        Tensor x = _network.Positions.Forward(scaled, mask);               // + P, padding zeroed
        x = _network.EmbeddingDropout.Forward(x);
        foreach (TransformerBlock block in _network.Blocks)
        {
            x = block.Forward(x, mask);
        }

        return _network.Norm.Forward(x);                                    // h: (B,n,d)
    }

    /// <summary>Forward and backward on the first <paramref name="batch"/> rows of the batch buffers (no step); returns the loss.</summary>
    private float Backward(int batch)
    {
        int t = _options.MaxLength, d = _options.Dimensions, items = _itemCount;
        int positions = batch * t;
        Tensor h = Encode(_ids.AsSpan(0, positions), _mask.AsSpan(0, positions), batch);

        // The positions that have a next-item target (real items; padding has target -1).
        int count = 0;
        for (int p = 0; p < positions; p++)
        {
            if (_targets[p] > 0)
            {
                _positions[count] = p;
                _classTargets[count] = _targets[p] - 1;
                count++;
            }
        }

        Span<float> gradHidden = _gradHidden.AsSpan(0, positions * d);
        gradHidden.Clear();
        EnsureCapacity(count, items);
        Span<float> gathered = _gathered.AsSpan(0, count * d), gradGathered = _gradGathered.AsSpan(0, count * d);
        Kernels.GatherRows(h.Span, d, _positions.AsSpan(0, count), gathered); // H: (N,d)

        Parameter table = _network.Items.Weight;
        ReadOnlySpan<float> itemRows = ItemRows(table.Value.Span);                   // E[1..]: (I,d)
        Span<float> itemGrad = table.Gradient.Span.Slice(d, items * d);
        float loss = _options.Loss switch
        {
            SasRecLoss.FullSoftmax => FullSoftmax(count, items, gathered, gradGathered, itemRows, itemGrad, table),
            SasRecLoss.BinaryCrossEntropy => SampledBinary(count, items, gathered, gradGathered, itemRows, itemGrad, table),
            _ => SampledSoftmax(count, gathered, gradGathered, itemRows, itemGrad, table),
        };

        // dh: scatter the per-position gradients back to their (b, t) slots; padding rows stay zero.
        Kernels.ScatterAddRows(gradGathered, d, _positions.AsSpan(0, count), gradHidden);
        Tensor g = View(_gradHidden, ref _gradHiddenView, batch);
        g = _network.Norm.Backward(g);
        for (int b = _network.Blocks.Length - 1; b >= 0; b--)
        {
            g = _network.Blocks[b].Backward(g);
        }

        g = _network.EmbeddingDropout.Backward(g);
        g = _network.Positions.Backward(g);
        Tensor gradEmbedding = View(_gradEmbeddingBuffer, ref _gradEmbeddingView, batch);
        Kernels.Scale(g.Span, _embeddingScale, gradEmbedding.Span);    // through the √d scaling
        _network.Items.Backward(gradEmbedding);                          // input path: scatter into E[ids]
        return loss;
    }

    /// <summary>Full softmax CE over all items for N positions, in chunks; writes dH and adds dE.</summary>
    private float FullSoftmax(int count, int items, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        int d = _options.Dimensions;
        double loss = 0;
        for (int start = 0; start < count; start += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, count - start);
            ReadOnlySpan<float> hChunk = gathered.Slice(start * d, rows * d);
            Span<float> logits = _logits.AsSpan(0, rows * items);

            // logits = H·Eᵀ: (rows, I)
            Kernels.Gemm(Transpose.None, Transpose.Transpose, rows, items, d, 1f, hChunk, d, itemRows, d, 0f, logits, items);
            float chunkLoss = SoftmaxCrossEntropyLoss.Compute(logits, rows, items, _classTargets.AsSpan(start, rows), [], [], logits);

            // The loss is the mean over all N positions: re-weight this chunk's mean (rows/N).
            float weight = (float)rows / count;
            loss += chunkLoss * weight;
            Kernels.Scale(logits, weight, logits);

            // dH = dLogits·E: (rows, d); dE += dLogitsᵀ·H: (I, d), the output path of the shared table.
            Kernels.Gemm(Transpose.None, Transpose.None, rows, d, items, 1f, logits, items, itemRows, d, 0f, gradGathered.Slice(start * d, rows * d), d);
            Kernels.Gemm(Transpose.Transpose, Transpose.None, items, d, rows, 1f, logits, items, hChunk, d, 1f, itemGrad, d);
        }

        // Every item row received an output gradient.
        for (int i = 1; i <= items; i++)
        {
            table.MarkRowTouched(i);
        }

        return (float)loss;
    }

    /// <summary>The paper's loss: BCE of the target (label 1) and one uniform negative (label 0) per position.</summary>
    private float SampledBinary(int count, int items, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        int d = _options.Dimensions;
        Span<float> logits = _logits.AsSpan(0, 2 * count), labels = _logits.AsSpan(2 * count, 2 * count);
        for (int n = 0; n < count; n++)
        {
            int target = _classTargets[n];
            int negative = _random.Next(items);
            if (negative == target && items > 1)
            {
                // Resample once over the other items so the negative is never the positive.
                negative = (target + 1 + _random.Next(items - 1)) % items;
            }

            _negatives[n] = negative;
            ReadOnlySpan<float> hn = gathered.Slice(n * d, d);
            logits[2 * n] = TensorPrimitives.Dot(hn, itemRows.Slice(target * d, d));
            logits[(2 * n) + 1] = TensorPrimitives.Dot(hn, itemRows.Slice(negative * d, d));
            labels[2 * n] = 1f;
            labels[(2 * n) + 1] = 0f;
        }

        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(logits, labels, [], [], logits);

        // s = h·e: dh = g_pos·e_pos + g_neg·e_neg, de_pos += g_pos·h, de_neg += g_neg·h.
        for (int n = 0; n < count; n++)
        {
            int target = _classTargets[n], negative = _negatives[n];
            float gp = logits[2 * n], gn = logits[(2 * n) + 1];
            ReadOnlySpan<float> hn = gathered.Slice(n * d, d);
            Span<float> dh = gradGathered.Slice(n * d, d);
            Kernels.Scale(itemRows.Slice(target * d, d), gp, dh);
            Kernels.Axpy(gn, itemRows.Slice(negative * d, d), dh);
            Kernels.Axpy(gp, hn, itemGrad.Slice(target * d, d));
            Kernels.Axpy(gn, hn, itemGrad.Slice(negative * d, d));
            table.MarkRowTouched(target + 1);
            table.MarkRowTouched(negative + 1);
        }

        return loss;
    }

    /// <summary>
    /// Sampled softmax with logQ over <see cref="SasRecOptions.Negatives"/> shared popularity-sampled negatives, accidental
    /// hits removed; writes dH and adds dE to the target and negative rows of the shared table.
    /// </summary>
    private float SampledSoftmax(int count, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        Debug.Assert(_sampler is not null, "Fit and Update build the sampler before training.");
        int d = _options.Dimensions, s = _options.Negatives;
        ReadOnlySpan<int> targets = _classTargets.AsSpan(0, count);
        _sampler.Sample(_sharedNegatives);
        _sampler.LogProbabilities(_sharedNegatives, _negativeLogQ);
        _sampler.LogProbabilities(targets, _positiveLogQ.AsSpan(0, count));
        Kernels.GatherRows(itemRows, d, _sharedNegatives, _negativeVectors);      // E[neg]: (S,d)

        // Positive logits h_n·E[t_n]; negative logits (N,S) = H (N,d) · E[neg]ᵀ (d,S).
        Span<float> positive = _positiveLogits.AsSpan(0, count), negative = _logits.AsSpan(0, count * s);
        for (int n = 0; n < count; n++)
        {
            positive[n] = TensorPrimitives.Dot(gathered.Slice(n * d, d), itemRows.Slice(targets[n] * d, d));
        }

        Kernels.Gemm(Transpose.None, Transpose.Transpose, count, s, d, 1f, gathered, d, _negativeVectors, d, 0f, negative, s);

        // In place: the negative logits become dLoss/dLogits (exactly 0 at accidental hits); the mean over N is included.
        Span<float> gradPositive = _positiveGrad.AsSpan(0, count);
        float loss = SampledSoftmaxLoss.Compute(positive, negative, s, _positiveLogQ.AsSpan(0, count), _negativeLogQ,
            targets, _sharedNegatives, [], [], gradPositive, negative);

        // dH = g⁻ (N,S) · E[neg] (S,d) + g⁺_n · E[t_n]; dE[t_n] += g⁺_n · h_n (the output path of the shared table).
        Kernels.Gemm(Transpose.None, Transpose.None, count, d, s, 1f, negative, s, _negativeVectors, d, 0f, gradGathered, d);
        for (int n = 0; n < count; n++)
        {
            int target = targets[n];
            Kernels.Axpy(gradPositive[n], itemRows.Slice(target * d, d), gradGathered.Slice(n * d, d));
            Kernels.Axpy(gradPositive[n], gathered.Slice(n * d, d), itemGrad.Slice(target * d, d));
            table.MarkRowTouched(target + 1);
        }

        // dE[neg] (S,d) = g⁻ᵀ (S,N) · H (N,d), scattered so repeated negatives accumulate.
        Kernels.Gemm(Transpose.Transpose, Transpose.None, s, d, count, 1f, negative, s, gathered, d, 0f, _negativeRowGrad, d);
        Kernels.ScatterAddRows(_negativeRowGrad, d, _sharedNegatives, itemGrad);
        foreach (int item in _sharedNegatives)
        {
            table.MarkRowTouched(item + 1);
        }

        return loss;
    }

    /// <summary>A (batch, n, d) view over the front of <paramref name="buffer"/>, cached so a steady batch size allocates nothing.</summary>
    private Tensor View(float[] buffer, ref Tensor? cache, int batch)
    {
        int t = _options.MaxLength, d = _options.Dimensions;
        if (cache is null || cache.Shape[0] != batch)
        {
            cache = Tensor.FromArray(buffer, buffer.Length).Slice(0, batch * t * d).Reshape(batch, t, d);
        }

        return cache;
    }

    private void EnsureCapacity(int count, int items)
    {
        int d = _options.Dimensions;
        if (_gathered.Length < count * d)
        {
            _gathered = new float[_ids.Length * d];
            _gradGathered = new float[_ids.Length * d];
        }

        long logits = _options.Loss switch
        {
            SasRecLoss.FullSoftmax => (long)Math.Min(ChunkRows, _ids.Length) * items,
            SasRecLoss.BinaryCrossEntropy => 4L * _ids.Length,
            _ => (long)_ids.Length * _options.Negatives,
        };
        if (_logits.Length < logits)
        {
            _logits = new float[logits];
        }
    }

    /// <summary>Per-user flattened purchase sequences, appendable event by event (baskets continue across calls).</summary>
    private sealed class SequenceState
    {
        private readonly List<long> _lastKey = [];
        private readonly List<HashSet<int>> _basket = [];

        internal List<List<int>> Sequences { get; } = [];

        /// <summary>Adds the sequences, open baskets (sorted) and current basket keys to a state.</summary>
        internal void Export(ModelStateWriter writer)
        {
            writer.AddLists("sequences", Sequences);
            writer.AddSets("openBaskets", _basket);
            writer.AddLongs("basketKeys", [.. _lastKey]);
        }

        /// <summary>Reads and checks <see cref="Export"/>'s sections for <paramref name="users"/> users over <paramref name="items"/> items.</summary>
        internal static SequenceState Import(ModelStateReader reader, int users, int items)
        {
            List<List<int>> sequences = reader.Lists("sequences", items);
            List<HashSet<int>> baskets = reader.Sets("openBaskets", items);
            long[] keys = reader.Longs("basketKeys", users);
            reader.Require(sequences.Count == users && baskets.Count == users, "sequences, open baskets and user count disagree");
            var state = new SequenceState();
            state.Sequences.AddRange(sequences);
            state._basket.AddRange(baskets);
            state._lastKey.AddRange(keys);
            return state;
        }

        internal void Append(IReadOnlyList<Interaction> events, int userCount, HashSet<int>? affected)
        {
            while (Sequences.Count < userCount)
            {
                Sequences.Add([]);
                _lastKey.Add(long.MinValue);
                _basket.Add([]);
            }

            for (int i = 0; i < events.Count; i++)
            {
                Interaction e = events[i];
                if (!RecommenderGuard.IsPositive(e))
                {
                    continue;
                }

                long key = BasketKey(e);
                if (key != _lastKey[e.User])
                {
                    _basket[e.User].Clear();
                    _lastKey[e.User] = key;
                }

                if (_basket[e.User].Add(e.Item))
                {
                    Sequences[e.User].Add(e.Item);
                    affected?.Add(e.User);
                }
            }
        }
    }

    /// <summary>The SASRec network: its children give the stable parameter names.</summary>
    private sealed class Network : Module
    {
        internal Network(SasRecOptions options, Random random)
        {
            int d = options.Dimensions;
            Items = AddModule("items", new Embedding(1, d, random, paddingIndex: 0));
            Positions = AddModule("positions", new PositionalEmbedding(options.MaxLength, d, random));
            EmbeddingDropout = AddModule("embeddingDropout", new Dropout(options.Dropout, random));
            Blocks = AddModule("blocks", new BlockStack(options, random)).Blocks;

            Norm = AddModule("norm", new LayerNorm(d));
        }

        internal Embedding Items { get; }

        internal PositionalEmbedding Positions { get; }

        internal Dropout EmbeddingDropout { get; }

        internal TransformerBlock[] Blocks { get; }

        internal LayerNorm Norm { get; }
    }

    /// <summary>The stacked blocks, registered as <c>blocks.0</c>, <c>blocks.1</c>, ….</summary>
    private sealed class BlockStack : Module
    {
        internal BlockStack(SasRecOptions options, Random random)
        {
            Blocks = new TransformerBlock[options.Blocks];
            for (int b = 0; b < Blocks.Length; b++)
            {
                // The paper's feed-forward width equals d.
                Blocks[b] = AddModule(b.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    new TransformerBlock(options.Dimensions, options.Heads, options.Dimensions, random, options.Dropout));
            }
        }

        internal TransformerBlock[] Blocks { get; }
    }
}

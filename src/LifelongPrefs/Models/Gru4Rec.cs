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

/// <summary>The training loss of <see cref="Gru4Rec"/>.</summary>
public enum Gru4RecLoss
{
    /// <summary>Softmax cross-entropy over the whole catalog at every position (exact; cost grows with the catalog).</summary>
    FullSoftmax,

    /// <summary>
    /// Sampled softmax over the positive and <see cref="Gru4RecOptions.Negatives"/> negatives shared by the batch, drawn
    /// in proportion to count^0.75, with the logQ correction and accidental hits removed.
    /// </summary>
    SampledSoftmax,
}

/// <summary>
/// Hyper-parameters of <see cref="Gru4Rec"/>. The defaults come from a small sweep on the Online Retail next-basket
/// protocol (validation NDCG@20 inside <see cref="Gru4Rec.Fit"/>) under a one-minute training budget on two busy
/// cores. The full softmax over the 3,659 items costs about 20 s per epoch there and reaches validation 0.105 in two
/// epochs (test NDCG@20 0.114); the sampled softmax (512 negatives, about 7 s per epoch) plateaus at 0.104 after five
/// (test 0.109), so the default loss is the full softmax. Learning rate 5e-3 beat 2e-3 at equal epochs, and a
/// separate output table beat the tied one (validation 0.104 vs 0.102 with the sampled loss). The number of epochs is
/// not tuned: training runs until the validation NDCG@20 has not improved for <see cref="Patience"/> epochs (at most
/// <see cref="MaxEpochs"/>) and keeps the best epoch.
/// </summary>
/// <param name="Dimensions">Item-embedding size D.</param>
/// <param name="HiddenSize">GRU state size H (also the size of the output item vectors).</param>
/// <param name="MaxLength">Longest input window T; longer histories are cut into consecutive windows for training and truncated to their last T items for scoring.</param>
/// <param name="MaxEpochs">The cap on passes over the training windows in <see cref="Gru4Rec.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="UpdateEpochs">Passes over the affected users' windows in <see cref="Gru4Rec.Update"/> (no validation).</param>
/// <param name="BatchSize">Windows (sequences) per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="TieOutput">Whether the output layer reuses the input item embeddings (requires <paramref name="Dimensions"/> = <paramref name="HiddenSize"/>) instead of a separate table.</param>
/// <param name="Loss">The exact full softmax (default) or the cheaper sampled softmax with logQ correction.</param>
/// <param name="Negatives">Shared negatives per batch for <see cref="Gru4RecLoss.SampledSoftmax"/>.</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops; the best epoch's parameters are kept. At least 1.</param>
/// <param name="ValidationUsers">Users whose last basket is held out of the training events for early stopping (0 disables early stopping).</param>
/// <param name="Seed">Seed for initialisation, shuffling, validation sampling and negative sampling.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">The most items the model may grow to (checked before anything is allocated).</param>
public sealed record Gru4RecOptions(int Dimensions = 64, int HiddenSize = 64, int MaxLength = 50, int MaxEpochs = 200,
    int UpdateEpochs = 2, int BatchSize = 32, float LearningRate = 5e-3f, bool TieOutput = false,
    Gru4RecLoss Loss = Gru4RecLoss.FullSoftmax, int Negatives = 512, int Patience = 5, int ValidationUsers = 1000, int Seed = 42,
    int MaxUsers = 10_000_000, int MaxItems = 10_000_000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HiddenSize, nameof(HiddenSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength, nameof(MaxLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!Enum.IsDefined(Loss))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"'{nameof(Loss)}' is not a defined {nameof(Gru4RecLoss)}.");
        }

        if (TieOutput && Dimensions != HiddenSize)
        {
            throw new ArgumentException(
                $"'{nameof(TieOutput)}' needs '{nameof(Dimensions)}' ({Dimensions}) to equal '{nameof(HiddenSize)}' ({HiddenSize}).", nameof(TieOutput));
        }
    }
}

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
/// users with new events. All randomness flows from <see cref="Gru4RecOptions.Seed"/>; the kernels run
/// single-threaded, so the same seed gives bit-identical scores.
/// </para>
/// <para>
/// <b>Scoring.</b> The user's visible history (last T items) runs through the GRU; the last state scores the catalog.
/// A user never seen in training is scored from the history alone, and an empty history gives the zero state, whose
/// scores are the learned item biases (a popularity prior).
/// </para>
/// <para>
/// <b>Saving.</b> <see cref="Save"/> writes every parameter, Adam's moments, the users' sequences, the item counts
/// the negative sampler's weights, Adam's step count and the random generators' states, so a fresh instance created
/// with the same options scores bit-identically after <see cref="Load"/>, and <see cref="Update"/> after a load
/// continues exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted run). A model
/// can load a state whose user and item counts are at least its own (e.g. any fresh instance).
/// </para>
/// </remarks>
public sealed class Gru4Rec : ISavableRecommender, ITrainableRecommender
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
    private readonly List<List<int>> _sequences = [];
    private readonly List<float> _itemCounts = [];
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
    public string Name => "GRU4Rec";

    /// <inheritdoc/>
    public int ItemCount => _outputBias.Rows;

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
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, Math.Max(_options.Dimensions, _options.HiddenSize));
        if (_fitted || ItemCount > 0 || _sequences.Count > 0 || _optimizer.StepCount > 0)
        {
            Build();
            (_sampler, _fitted) = (null, false);
            _sequences.Clear();
            _itemCounts.Clear();
        }

        _fitted = true;
        HoldoutValidation validation = HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed);
        Grow(userCount, itemCount);
        Append(validation.FitEvents, null);
        if (_options.Loss == Gru4RecLoss.SampledSoftmax && itemCount > 0)
        {
            var weights = new float[itemCount];
            for (int i = 0; i < itemCount; i++)
            {
                weights[i] = MathF.Pow(_itemCounts[i] + 1f, 0.75f);
            }

            _sampler = new PopularitySampler(weights, _samplerRandom);
        }

        if (itemCount > 0)
        {
            Train(CollectWindows(null), _options.MaxEpochs, validation, progress, cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="Gru4RecOptions.MaxUsers"/> or <see cref="Gru4RecOptions.MaxItems"/> (nothing changes).</exception>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _sequences.Count, ItemCount);
        RecommenderGuard.Events(newEvents, userCount, itemCount, nameof(newEvents));
        Grow(userCount, itemCount);
        var oldLengths = new Dictionary<int, int>();
        Append(newEvents, oldLengths);
        if (itemCount > 0)
        {
            Train(CollectWindows(oldLengths), _options.UpdateEpochs, null, null, CancellationToken.None);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Thread-safe: a read, it may run on any number of threads at once with <see cref="Score"/>, <see cref="Recommend"/>
    /// and <see cref="CreateScorer"/>; never alongside <see cref="Fit"/>, <see cref="Update"/> or <see cref="Load"/>,
    /// which are exclusive. Each call works in pooled scratch of its own.
    /// </remarks>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        (_liveScorer ??= NewScorer(ParameterValues.Live(_parameters), () => ItemCount)).Score(user, history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        Recommendations.Recommend(this, user, history, items, excludedSorted);

    /// <inheritdoc/>
    public IScorer CreateScorer()
    {
        int items = ItemCount;
        return NewScorer(ParameterValues.Freeze(_parameters), () => items);
    }

    private Gru4RecScorer NewScorer(ParameterValues parameters, Func<int> itemCount) =>
        new(parameters, itemCount, _options.Dimensions, _options.HiddenSize, _options.MaxLength, _options.TieOutput);

    /// <inheritdoc/>
    public void Save(Stream stream) => ModelStateIo.Save(stream, StateHeader, WriteState);

    /// <inheritdoc/>
    public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.SaveAsync(stream, StateHeader, WriteState, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// The state must come from a model with the same options; this model's user and item counts must not exceed the
    /// saved ones (tables only grow). Adam's moments and step count and the random generators' states are restored.
    /// </remarks>
    public void Load(Stream stream) => ModelStateIo.Load(stream, StateHeader, Name, ReadState);

    /// <inheritdoc/>
    /// <remarks>As <see cref="Load"/>.</remarks>
    public Task LoadAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ModelStateIo.LoadAsync(stream, StateHeader, Name, ReadState, cancellationToken);

    private ModelStateHeader StateHeader => new(ModelTypeId.Gru4Rec, 1, OptionsFingerprint.Canonical(_options));

    /// <summary>The parameters under their dotted paths (<c>embedding.weight</c>, <c>gru.…</c>, <c>output.weight</c>, <c>output.bias</c>).</summary>
    private List<KeyValuePair<string, Parameter>> NamedParameters()
    {
        var named = new List<KeyValuePair<string, Parameter>> { new("embedding.weight", _embedding.Weight) };
        named.AddRange(_gru.NamedParameters().Select(p => KeyValuePair.Create("gru." + p.Key, p.Value)));
        if (_outputWeight is not null)
        {
            named.Add(new("output.weight", _outputWeight));
        }

        named.Add(new("output.bias", _outputBias));
        return named;
    }

    private void WriteState(ModelStateWriter writer)
    {
        List<KeyValuePair<string, Parameter>> named = NamedParameters();
        writer.AddInt("itemCount", ItemCount);
        writer.AddInt("fitted", _fitted ? 1 : 0);
        writer.AddParameters(named);
        writer.AddOptimizer(_optimizer, named);
        writer.AddRandom("random", _random);
        writer.AddRandom("samplerRandom", _samplerRandom);
        writer.AddLists("sequences", _sequences);
        writer.AddFloats("itemCounts", [.. _itemCounts]);
        if (_sampler is not null)
        {
            writer.AddFloats("samplerWeights", _sampler.Weights.ToArray());
        }
    }

    /// <summary>Validates the saved sections and returns the action that swaps them in (the model is not touched before).</summary>
    private Action ReadState(ModelStateReader reader)
    {
        int items = reader.Int("itemCount");
        bool fitted = reader.Flag("fitted");
        reader.Require(items >= 0 && (items + 1L) * Math.Max(_options.Dimensions, _options.HiddenSize) <= int.MaxValue, $"{items} items");
        List<List<int>> sequences = reader.Lists("sequences", items);
        int users = sequences.Count;
        if (items < ItemCount || users < _sequences.Count)
        {
            throw new ModelStateException(
                $"The saved {Name} state has {users} users and {items} items, fewer than this model's {_sequences.Count} and {ItemCount}; load into a fresh instance.");
        }

        // Parameters and optimizer moments: lengths consistent with the saved catalog.
        List<KeyValuePair<string, Parameter>> named = NamedParameters();
        float[][] values = reader.Parameters(named, p => ExpectedLength(p, items));
        SavedOptimizer moments = reader.Optimizer(_optimizer, named, p => ExpectedLength(p, items));
        int[] randomState = reader.Random("random");
        int[] samplerRandomState = reader.Random("samplerRandom");
        float[] itemCounts = reader.Floats("itemCounts", items);
        reader.Require(Array.TrueForAll(itemCounts, c => c >= 0f), "negative item counts");
        PopularitySampler? sampler = null;
        if (reader.Has("samplerWeights"))
        {
            float[] samplerWeights = reader.Floats("samplerWeights", items);
            reader.Require(items > 0, "sampler weights over an empty catalog");
            try
            {
                sampler = new PopularitySampler(samplerWeights, _samplerRandom);
            }
            catch (ArgumentException error)
            {
                throw new ModelStateException($"The saved {Name} state has invalid sampler weights.", error);
            }
        }

        return () =>
        {
            // Everything validated: grow the tables to the saved shape (no random draws) and swap the state in.
            _embedding.Weight.GrowRows(items + 1);
            _outputWeight?.GrowRows(items);
            _outputBias.GrowRows(items);
            for (int i = 0; i < named.Count; i++)
            {
                Parameter parameter = named[i].Value;
                parameter.ZeroGradient();
                parameter.Gradient.Span.Clear();
                values[i].CopyTo(parameter.Value.Span);
            }

            moments.ApplyTo(_optimizer, named);
            _random.SetState(randomState);
            _samplerRandom.SetState(samplerRandomState);
            _sequences.Clear();
            _sequences.AddRange(sequences);
            _itemCounts.Clear();
            _itemCounts.AddRange(itemCounts);
            _sampler = sampler;
            _fitted = fitted;
        };
    }

    /// <summary>The saved length of <paramref name="parameter"/> for a catalog of <paramref name="items"/> items.</summary>
    private long ExpectedLength(Parameter parameter, int items) =>
        ReferenceEquals(parameter, _embedding.Weight) ? (items + 1L) * _options.Dimensions
        : ReferenceEquals(parameter, _outputWeight) ? (long)items * _options.HiddenSize
        : ReferenceEquals(parameter, _outputBias) ? items
        : parameter.Length;

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
        RecommenderGuard.Grown(userCount, itemCount, _sequences.Count, ItemCount);
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
        while (_sequences.Count < userCount)
        {
            _sequences.Add([]);
        }

        while (_itemCounts.Count < itemCount)
        {
            _itemCounts.Add(0f);
        }
    }

    /// <summary>Appends the positive events to their users' sequences; records each touched user's previous length.</summary>
    private void Append(IReadOnlyList<Interaction> events, Dictionary<int, int>? oldLengths)
    {
        foreach (Interaction e in events)
        {
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            List<int> sequence = _sequences[e.User];
            if (sequence.Count > 0 && sequence[^1] == e.Item)
            {
                continue;
            }

            oldLengths?.TryAdd(e.User, sequence.Count);
            sequence.Add(e.Item);
            _itemCounts[e.Item]++;
        }
    }

    /// <summary>
    /// Cuts sequences into windows from their ends: inputs s[Start..End−1), targets s[Start+1..End). With
    /// <paramref name="oldLengths"/>, only the named users' windows whose targets include a new item.
    /// </summary>
    private List<Window> CollectWindows(Dictionary<int, int>? oldLengths)
    {
        var windows = new List<Window>();
        int t = _options.MaxLength;
        for (int u = 0; u < _sequences.Count; u++)
        {
            int oldLength = 0;
            if (oldLengths is not null && !oldLengths.TryGetValue(u, out oldLength))
            {
                continue;
            }

            // Stop once a window's targets would all be old items (End − 1 < oldLength).
            for (int end = _sequences[u].Count; end >= 2 && end > oldLength; )
            {
                int start = Math.Max(0, end - 1 - t);
                windows.Add(new Window(u, start, end));
                end = start + 1;
            }
        }

        return windows;
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
    void IEpochModel.EndRun() => _windows = [];

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _random;

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters
    {
        get
        {
            var named = new List<KeyValuePair<string, Parameter>> { new("embedding.weight", _embedding.Weight) };
            named.AddRange(_gru.NamedParameters().Select(p => KeyValuePair.Create("gru." + p.Key, p.Value)));
            if (_outputWeight is not null)
            {
                named.Add(new("outputWeight", _outputWeight));
            }

            named.Add(new("outputBias", _outputBias));
            return named;
        }
    }

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;

    /// <summary>Forward and backward on a batch of windows (indices into the current training windows); no step.</summary>
    float IEpochModel.Backward(ReadOnlySpan<int> examples)
    {
        int b = examples.Length, t = _options.MaxLength, h = _options.HiddenSize, items = ItemCount;
        int cells = b * t;
        Span<int> ids = _ids.AsSpan(0, cells);
        Span<float> mask = _mask.AsSpan(0, cells);
        ids.Clear();
        mask.Clear();

        // Right-align each window; record the flat position and target of every real input.
        int real = 0;
        for (int r = 0; r < b; r++)
        {
            Window w = _windows[examples[r]];
            List<int> s = _sequences[w.User];
            int used = w.End - 1 - w.Start;
            for (int j = 0; j < used; j++)
            {
                int p = (r * t) + t - used + j;
                ids[p] = s[w.Start + j] + 1;
                mask[p] = 1f;
                _positions[real] = p;
                _targets[real] = s[w.Start + j + 1];
                real++;
            }
        }

        // x: (B,T,D) → states: (B,T,H) → hidden: (N,H), the states at real positions.
        Tensor x = _embedding.Forward(ids, b, t);
        Tensor states = _gru.Forward(x, mask);
        ReadOnlySpan<int> positions = _positions.AsSpan(0, real);
        ReadOnlySpan<int> targets = _targets.AsSpan(0, real);
        Span<float> hidden = _hidden.AsSpan(0, real * h);
        Span<float> gradHidden = _gradHidden.AsSpan(0, real * h);
        Kernels.GatherRows(states.Span, h, positions, hidden);

        float loss = _options.Loss == Gru4RecLoss.FullSoftmax
            ? FullSoftmaxStep(hidden, targets, gradHidden, real, items)
            : SampledSoftmaxStep(hidden, targets, gradHidden, real, items);

        // dStates: (B,T,H), zero at padding, dHidden scattered to the real positions.
        Tensor gradStates = _gradStates.Get(b, t, h);
        gradStates.Span.Clear();
        Kernels.ScatterAddRows(gradHidden, h, positions, gradStates.Span);
        Tensor gradX = _gru.Backward(gradStates);
        _embedding.Backward(gradX);
        return loss;
    }

    /// <summary>Full softmax CE: logits (N,I) = hidden·Wᵀ + b; accumulates dW, db and writes dHidden.</summary>
    private float FullSoftmaxStep(ReadOnlySpan<float> hidden, ReadOnlySpan<int> targets, Span<float> gradHidden, int n, int items)
    {
        int h = _options.HiddenSize;
        if (_logits.Length < n * items)
        {
            _logits = new float[_options.BatchSize * _options.MaxLength * items];
        }

        if (_biasGrad.Length < items)
        {
            _biasGrad = new float[items];
        }

        ReadOnlySpan<float> w = OutputTable();
        Span<float> logits = _logits.AsSpan(0, n * items);
        // logits (N,I) = hidden (N,H) · Wᵀ (H,I) + b
        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, items, h, 1f, hidden, h, w, h, 0f, logits, items);
        Kernels.AddRowBias(_outputBias.Value.Span, logits, n, items);
        // In place: the logits become dLoss/dlogits = (softmax − onehot)/N.
        float loss = SoftmaxCrossEntropyLoss.Compute(logits, n, items, targets, [], [], logits);
        // dHidden (N,H) = dlogits (N,I) · W (I,H)
        Kernels.Gemm(Transpose.None, Transpose.None, n, h, items, 1f, logits, items, w, h, 0f, gradHidden, h);
        // dW (I,H) += dlogitsᵀ (I,N) · hidden (N,H)
        Kernels.Gemm(Transpose.Transpose, Transpose.None, items, h, n, 1f, logits, items, hidden, h, 1f, OutputGradient(), h);
        Span<float> biasGrad = _biasGrad.AsSpan(0, items);
        Kernels.SumColumns(logits, n, items, biasGrad);
        Kernels.Add(_outputBias.Gradient.Span, biasGrad, _outputBias.Gradient.Span);
        MarkOutputRowsTouched(items);
        return loss;
    }

    /// <summary>Sampled softmax with logQ over shared negatives; accumulates the output gradients and writes dHidden.</summary>
    private float SampledSoftmaxStep(ReadOnlySpan<float> hidden, ReadOnlySpan<int> targets, Span<float> gradHidden, int n, int items)
    {
        PopularitySampler sampler = _sampler ??= new PopularitySampler(UniformWeights(items), _samplerRandom);
        int h = _options.HiddenSize, s = _options.Negatives;
        ReadOnlySpan<float> w = OutputTable(), bias = _outputBias.Value.Span;
        Span<float> wGrad = OutputGradient(), biasGrad = _outputBias.Gradient.Span;
        sampler.Sample(_negatives);
        sampler.LogProbabilities(_negatives, _negativeLogQ);
        sampler.LogProbabilities(targets, _positiveLogQ.AsSpan(0, n));
        Kernels.GatherRows(w, h, _negatives, _negativeVectors);

        // Positive logits: hidden_n · W[t_n] + b[t_n]; negative logits (N,S) = hidden (N,H) · W[neg]ᵀ (H,S) + b[neg].
        Span<float> positive = _positiveLogits.AsSpan(0, n), negative = _negativeGrad.AsSpan(0, n * s);
        for (int k = 0; k < n; k++)
        {
            positive[k] = TensorPrimitives.Dot(hidden.Slice(k * h, h), w.Slice(targets[k] * h, h)) + bias[targets[k]];
        }

        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, s, h, 1f, hidden, h, _negativeVectors, h, 0f, negative, s);
        for (int j = 0; j < s; j++)
        {
            _negativeBiasGrad[j] = bias[_negatives[j]];
        }

        Kernels.AddRowBias(_negativeBiasGrad, negative, n, s);
        Span<float> gradPositive = _positiveGrad.AsSpan(0, n);
        float loss = SampledSoftmaxLoss.Compute(positive, negative, s, _positiveLogQ.AsSpan(0, n), _negativeLogQ,
            targets, _negatives, [], [], gradPositive, negative);

        // dHidden = g⁺_n · W[t_n] + g⁻ (N,S) · W[neg] (S,H); dW[t_n] += g⁺_n · hidden_n; db[t_n] += g⁺_n.
        Kernels.Gemm(Transpose.None, Transpose.None, n, h, s, 1f, negative, s, _negativeVectors, h, 0f, gradHidden, h);
        for (int k = 0; k < n; k++)
        {
            int item = targets[k];
            Kernels.Axpy(gradPositive[k], w.Slice(item * h, h), gradHidden.Slice(k * h, h));
            Kernels.Axpy(gradPositive[k], hidden.Slice(k * h, h), wGrad.Slice(item * h, h));
            biasGrad[item] += gradPositive[k];
        }

        // dW[neg] (S,H) += g⁻ᵀ (S,N) · hidden (N,H), scattered (repeated negatives accumulate); db[neg] += column sums.
        Kernels.Gemm(Transpose.Transpose, Transpose.None, s, h, n, 1f, negative, s, hidden, h, 0f, _negativeVectors, h);
        Kernels.ScatterAddRows(_negativeVectors, h, _negatives, wGrad);
        Kernels.SumColumns(negative, n, s, _negativeBiasGrad);
        for (int j = 0; j < s; j++)
        {
            biasGrad[_negatives[j]] += _negativeBiasGrad[j];
        }

        MarkOutputRowsTouched(items);
        return loss;
    }

    /// <summary>With a tied output, the embedding rows got dense gradients: mark them for the lazy optimizer.</summary>
    private void MarkOutputRowsTouched(int items)
    {
        if (_outputWeight is null)
        {
            for (int i = 1; i <= items; i++)
            {
                _embedding.Weight.MarkRowTouched(i);
            }
        }
    }

    private static float[] UniformWeights(int items)
    {
        var weights = new float[items];
        Array.Fill(weights, 1f);
        return weights;
    }

    /// <summary>A training window of one user's sequence: inputs s[Start..End−1), targets s[Start+1..End).</summary>
    private readonly record struct Window(int User, int Start, int End);
}

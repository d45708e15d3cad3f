using LifelongPrefs.Data;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Models;

/// <summary>Hyper-parameters of <see cref="RepeatAware"/>.</summary>
/// <param name="Hidden">Width of the scoring MLP's two hidden layers.</param>
/// <param name="MaxEpochs">The cap on passes over the training rows in <see cref="RepeatAware.Fit"/>; early stopping normally ends sooner (without validation users every pass runs).</param>
/// <param name="Patience">Epochs without a better validation NDCG@20 before training stops (the best epoch is kept); at least 1.</param>
/// <param name="UpdateEpochs">Passes over the affected users' rows in <see cref="RepeatAware.Update"/> (no validation).</param>
/// <param name="BatchSize">(user, item) rows per optimizer step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="ExploreCandidates">Never-bought items per training example taken from the top of the co-occurrence scores.</param>
/// <param name="RandomNegatives">Uniformly drawn items per training example (the rest of the catalogue).</param>
/// <param name="Decay">Per-basket decay of the time-decayed purchase frequency, in (0, 1).</param>
/// <param name="ValidationUsers">Users whose last training basket is held out for early stopping (0 disables it).</param>
/// <param name="Seed">Seed for initialisation, sampling, shuffling and the validation split.</param>
/// <param name="MaxUsers">The most users the model may grow to (checked before anything is allocated).</param>
/// <param name="MaxItems">
/// The most items the model may grow to (checked before anything is allocated). The default, 46,340, is the largest
/// catalog whose dense items × items co-occurrence table fits one array.
/// </param>
public sealed record RepeatAwareOptions(int Hidden = 32, int MaxEpochs = 200, int Patience = 5, int UpdateEpochs = 2,
    int BatchSize = 512, float LearningRate = 3e-3f, int ExploreCandidates = 50, int RandomNegatives = 20,
    float Decay = 0.8f, int ValidationUsers = 500, int Seed = 42, int MaxUsers = 10_000_000, int MaxItems = 46_340)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Hidden, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEpochs, nameof(MaxEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(ExploreCandidates, nameof(ExploreCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(RandomNegatives, nameof(RandomNegatives));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidationUsers, nameof(ValidationUsers));
        GrowthGuard.Limit(MaxUsers, nameof(MaxUsers));
        GrowthGuard.Limit(MaxItems, nameof(MaxItems));
        RecommenderGuard.PositiveFinite(LearningRate, nameof(LearningRate));

        if (!(Decay > 0 && Decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Decay), Decay, $"'{nameof(Decay)}' must lie strictly between 0 and 1.");
        }
    }
}

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
/// for new users and items, and trains <see cref="RepeatAwareOptions.UpdateEpochs"/> passes on the affected users'
/// latest baskets. Memory is dominated by the dense co-occurrence table (items² floats).
/// </para>
/// <para>
/// <see cref="Save"/> writes the options, the MLP and gate weights, Adam's moments and step count, the random
/// generator's state, the co-occurrence model, the popularity counts and the stored per-user histories, so a fresh
/// instance created with the same options scores bit-identically after <see cref="Load"/>, and <see cref="Update"/>
/// after a load continues exactly as the saved model would have (checkpoint-then-continue equals an uninterrupted
/// run).
/// </para>
/// </remarks>
public sealed class RepeatAware : ISavableRecommender, ITrainableRecommender
{
    private const int F = RepeatAwareFeatures.Count;

    private readonly RepeatAwareOptions _options;
    private readonly SeededRandom _random;
    private readonly Sequential _mlp;
    private readonly Linear _gate;
    private readonly Adam _optimizer;
    private readonly RepeatAwareFeatures _features;
    private readonly List<List<Interaction>> _histories = [];
    private ItemKnn _knn = new();
    private float[] _popularity = [];
    private float _maxPopularity;
    private int _users;
    private int _items;
    private bool _fitted;

    // Scoring scratch (items × F) and batch scratch (BatchSize × F), reused between calls.
    private Tensor _scoreInput = new(0, F);
    private readonly Tensor _userRow = new(1, RepeatAwareFeatures.UserColumns);
    private Tensor _batch = new(0, F);
    private Tensor _batchUser = new(0, RepeatAwareFeatures.UserColumns);
    private Tensor _gradLogits = new(0, 1);
    private Tensor _gradGate = new(0, 1);
    private float[] _logits = [];
    private float[] _labels = [];
    private float[] _weights = [];

    // The shared loop, the initial values a second Fit returns to, and the current training rows.
    private readonly EpochTrainer _trainer = new();
    private readonly TrainingSnapshot _initial;
    private readonly int[] _initialRandom;
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
        _initial = new TrainingSnapshot(_optimizer.Parameters, []);
        _initial.Capture();
        _initialRandom = _random.GetState();
    }

    /// <inheritdoc/>
    public string Name => "RepeatAware";

    /// <inheritdoc/>
    public int ItemCount => _items;

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
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RecommenderGuard.Counts(userCount, itemCount);
        RecommenderGuard.Events(events, userCount, itemCount, nameof(events));
        GrowthGuard.Check(userCount, itemCount, _options.MaxUsers, _options.MaxItems, F);
        if (_fitted || _optimizer.StepCount > 0)
        {
            _initial.Restore();
            _optimizer.ResetState();
            _random.SetState(_initialRandom);
            _histories.Clear();
            (_knn, _popularity, _maxPopularity, _users, _items) = (new ItemKnn(), [], 0f, 0, 0);
        }

        _fitted = true;
        HoldoutValidation? validation = _options.ValidationUsers > 0
            ? HoldoutValidation.Create(events, userCount, _options.ValidationUsers, _options.Seed)
            : null;
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
            if (!targetKeys.Contains((e.User, Key(e))))
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
            _histories.Clear();
            Array.Clear(_popularity);
            _maxPopularity = 0f;
            AddEvents(events);
            _knn = new ItemKnn();
            _knn.Fit(events, userCount, itemCount, null, cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">A count exceeds <see cref="RepeatAwareOptions.MaxUsers"/> or <see cref="RepeatAwareOptions.MaxItems"/> (nothing changes).</exception>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        RecommenderGuard.Grown(userCount, itemCount, _users, _items);
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
        RecommenderGuard.Grown(userCount, itemCount, _users, _items);
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
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.ScoreLength(scores, _items);
        if (_items == 0)
        {
            return;
        }

        if (_scoreInput.Rows != _items)
        {
            _scoreInput = new Tensor(_items, F);
        }

        _features.Compute(history, _knn, _popularity, _maxPopularity, _items, _scoreInput.Span);
        _mlp.Training = false;
        ReadOnlySpan<float> logits = _mlp.Forward(_scoreInput).Span;
        _scoreInput.Span.Slice(RepeatAwareFeatures.UserColumn, RepeatAwareFeatures.UserColumns).CopyTo(_userRow.Span);
        float gate = _gate.Forward(_userRow).Span[0];
        ReadOnlySpan<float> x = _scoreInput.Span;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = logits[i] + x[i * F + RepeatAwareFeatures.BoughtColumn] * gate;
        }
    }

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var sections = new List<(string, Array)>
        {
            ("options", OptionValues(_options)),
            ("header", new[] { _items, _users, _fitted ? 1 : 0 }),
            ("popularity", (float[])_popularity.Clone()),
            ("maxPopularity", new[] { _maxPopularity }),
        };

        // Histories as CSR over users; one column per Interaction field (the user is the row, ticks are two ints).
        int total = 0;
        foreach (List<Interaction> h in _histories)
        {
            total += h.Count;
        }

        var offsets = new int[_histories.Count + 1];
        var item = new int[total];
        var ticks = new int[2 * total];
        var kind = new int[total];
        var quantity = new float[total];
        var value = new float[total];
        var basket = new int[total];
        int n = 0;
        for (int u = 0; u < _histories.Count; u++)
        {
            foreach (Interaction e in _histories[u])
            {
                item[n] = e.Item;
                ticks[2 * n] = (int)(e.Ticks >> 32);
                ticks[2 * n + 1] = (int)(e.Ticks & 0xFFFFFFFF);
                kind[n] = (int)e.Kind;
                quantity[n] = e.Quantity;
                value[n] = e.Value;
                basket[n] = e.Basket;
                n++;
            }

            offsets[u + 1] = n;
        }

        sections.Add(("historyOffsets", offsets));
        sections.Add(("historyItem", item));
        sections.Add(("historyTicks", ticks));
        sections.Add(("historyKind", kind));
        sections.Add(("historyQuantity", quantity));
        sections.Add(("historyValue", value));
        sections.Add(("historyBasket", basket));

        for (int p = 0; p < Parameters.Count; p++)
        {
            sections.Add(($"parameter{p}", Parameters[p].Value.Span.ToArray()));
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                sections.Add(($"adam{p}.{slot}", _optimizer.GetState(p, slot).ToArray()));
            }
        }

        ModelState.AddStepCount(sections, _optimizer.StepCount);
        ModelState.AddRandom(sections, "random", _random);

        // The co-occurrence model in its own container, packed into ints: [byte count, bytes (little-endian)...].
        using (var knn = new MemoryStream())
        {
            _knn.Save(knn);
            byte[] bytes = knn.ToArray();
            var packed = new int[1 + (bytes.Length + 3) / 4];
            packed[0] = bytes.Length;
            Buffer.BlockCopy(bytes, 0, packed, 4, bytes.Length);
            sections.Add(("knn", packed));
        }

        ModelState.Write(stream, Name, sections);
    }

    /// <inheritdoc/>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Dictionary<string, Array> sections = ModelState.Read(stream, Name);
        double[] options = ModelState.Section<double>(sections, "options", Name);
        if (!options.AsSpan().SequenceEqual(OptionValues(_options)))
        {
            throw new ModelStateException($"The state was saved with different options than this {Name} was created with.");
        }

        int[] header = ModelState.Section<int>(sections, "header", Name);
        float[] popularity = ModelState.Section<float>(sections, "popularity", Name);
        float[] maxPopularitySection = ModelState.Section<float>(sections, "maxPopularity", Name);
        int[] offsets = ModelState.Section<int>(sections, "historyOffsets", Name);
        int[] item = ModelState.Section<int>(sections, "historyItem", Name);
        int[] ticks = ModelState.Section<int>(sections, "historyTicks", Name);
        int[] kind = ModelState.Section<int>(sections, "historyKind", Name);
        float[] quantity = ModelState.Section<float>(sections, "historyQuantity", Name);
        float[] value = ModelState.Section<float>(sections, "historyValue", Name);
        int[] basket = ModelState.Section<int>(sections, "historyBasket", Name);
        int[] packed = ModelState.Section<int>(sections, "knn", Name);
        if (header.Length != 3 || header[0] < 0 || header[1] < 0 || (uint)header[2] > 1)
        {
            throw new ModelStateException($"The saved {Name} state has an invalid header.");
        }

        int items = header[0], users = header[1];
        bool fitted = header[2] == 1;
        float max = 0f;
        bool consistent = popularity.Length == items && maxPopularitySection.Length == 1;
        for (int i = 0; consistent && i < popularity.Length; i++)
        {
            consistent = float.IsFinite(popularity[i]) && popularity[i] >= 0f;
            max = Math.Max(max, popularity[i]);
        }

        consistent = consistent && maxPopularitySection[0].Equals(max);
        int n = item.Length;
        consistent = consistent && offsets.Length == users + 1 && offsets[0] == 0 && offsets[^1] == n
            && ticks.Length == 2 * n && kind.Length == n && quantity.Length == n && value.Length == n && basket.Length == n
            && Array.TrueForAll(item, i => (uint)i < (uint)items);
        for (int u = 1; consistent && u < offsets.Length; u++)
        {
            consistent = offsets[u] >= offsets[u - 1];
        }

        if (!consistent)
        {
            throw new ModelStateException($"The saved {Name} state has inconsistent popularity or history sections.");
        }

        var parameters = new float[Parameters.Count][];
        var moments = new float[Parameters.Count][][];
        for (int p = 0; p < Parameters.Count; p++)
        {
            int length = Parameters[p].Length;
            parameters[p] = ModelState.Section<float>(sections, $"parameter{p}", Name);
            if (parameters[p].Length != length || !Array.TrueForAll(parameters[p], float.IsFinite))
            {
                throw new ModelStateException($"The saved {Name} state's parameter {p} has the wrong length or non-finite values.");
            }

            moments[p] = new float[_optimizer.StateCount][];
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                moments[p][slot] = ModelState.Section<float>(sections, $"adam{p}.{slot}", Name);
                if (moments[p][slot].Length != length || !Array.TrueForAll(moments[p][slot], float.IsFinite))
                {
                    throw new ModelStateException($"The saved {Name} state's optimizer state {p}.{slot} has the wrong length or non-finite values.");
                }
            }
        }

        if (packed.Length < 1 || packed[0] < 0 || (packed[0] + 3L) / 4 != packed.Length - 1)
        {
            throw new ModelStateException($"The saved {Name} state has an invalid co-occurrence section.");
        }

        var bytes = new byte[packed[0]];
        Buffer.BlockCopy(packed, 4, bytes, 0, bytes.Length);
        var knn = new ItemKnn();
        try
        {
            using var knnStream = new MemoryStream(bytes, writable: false);
            knn.Load(knnStream);
        }
        catch (ModelStateException error)
        {
            throw new ModelStateException($"The saved {Name} state's co-occurrence model is invalid: {error.Message}", error);
        }

        if (knn.ItemCount != items)
        {
            throw new ModelStateException($"The saved {Name} state's co-occurrence model covers {knn.ItemCount} items, not {items}.");
        }

        var histories = new List<List<Interaction>>(users);
        for (int u = 0; u < users; u++)
        {
            var history = new List<Interaction>(offsets[u + 1] - offsets[u]);
            for (int k = offsets[u]; k < offsets[u + 1]; k++)
            {
                long t = ((long)ticks[2 * k] << 32) | (uint)ticks[2 * k + 1];
                history.Add(new Interaction(u, item[k], t, (EventKind)kind[k], quantity[k], value[k], basket[k]));
            }

            histories.Add(history);
        }

        long steps = ModelState.ReadStepCount(sections, Name);
        int[] randomState = ModelState.ReadRandom(sections, "random", Name);

        // Everything validated: swap the state in.
        for (int p = 0; p < Parameters.Count; p++)
        {
            parameters[p].CopyTo(Parameters[p].Value.Span);
            Parameters[p].ZeroGradient();
            for (int slot = 0; slot < _optimizer.StateCount; slot++)
            {
                moments[p][slot].CopyTo(_optimizer.GetState(p, slot));
            }
        }

        _optimizer.RestoreStepCount(steps);
        _random.SetState(randomState);

        _histories.Clear();
        _histories.AddRange(histories);
        (_items, _users, _fitted, _popularity, _maxPopularity, _knn) = (items, users, fitted, popularity, max, knn);
    }

    private static double[] OptionValues(RepeatAwareOptions o) =>
    [
        o.Hidden, o.MaxEpochs, o.Patience, o.UpdateEpochs, o.BatchSize, o.LearningRate, o.ExploreCandidates,
        o.RandomNegatives, o.Decay, o.ValidationUsers, o.Seed,
    ];

    /// <summary>Records positive events in the per-user histories and the popularity counts.</summary>
    private void AddEvents(IReadOnlyList<Interaction> events)
    {
        while (_histories.Count < _users)
        {
            _histories.Add([]);
        }

        foreach (Interaction e in events)
        {
            _histories[e.User].Add(e);
            if (RecommenderGuard.IsPositive(e))
            {
                _popularity[e.Item] += 1f;
                _maxPopularity = Math.Max(_maxPopularity, _popularity[e.Item]);
            }
        }
    }

    private IEnumerable<int> AllUsers()
    {
        for (int u = 0; u < _histories.Count; u++)
        {
            yield return u;
        }
    }

    /// <summary>Each given user's last positive basket (key) when they have at least two.</summary>
    private List<(int User, long Key)> LastBaskets(IEnumerable<int> users, out HashSet<(int, long)> keys)
    {
        var result = new List<(int, long)>();
        keys = [];
        foreach (int u in users)
        {
            long last = long.MinValue;
            int distinct = 0;
            foreach (Interaction e in _histories[u])
            {
                if (RecommenderGuard.IsPositive(e) && Key(e) != last)
                {
                    last = Key(e);
                    distinct++;
                }
            }

            if (distinct >= 2)
            {
                result.Add((u, last));
                keys.Add((u, last));
            }
        }

        return result;
    }

    /// <summary>Feature rows and 0/1 labels of every training example's candidates.</summary>
    private (float[] X, float[] Y, float[] W) BuildRows(List<(int User, long Key)> targets, CancellationToken cancellationToken)
    {
        var x = new List<float>();
        var y = new List<float>();
        var w = new List<float>();
        var drawn = new HashSet<int>();
        var all = new float[_items * F];
        var candidates = new HashSet<int>();
        var positives = new HashSet<int>();
        var history = new List<Interaction>();
        var masked = new float[_items];
        int k = Math.Min(_options.ExploreCandidates, _items);
        var topItems = new int[k];
        var topScores = new float[k];
        foreach (var (user, key) in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            history.Clear();
            positives.Clear();
            foreach (Interaction e in _histories[user])
            {
                if (Key(e) != key)
                {
                    history.Add(e);
                }
                else if (RecommenderGuard.IsPositive(e))
                {
                    positives.Add(e.Item);
                }
            }

            _features.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history), _knn, _popularity,
                _maxPopularity, _items, all);
            candidates.Clear();
            candidates.UnionWith(_features.Bought);

            // The strongest never-bought co-occurrence items: the explore candidates the model must learn to order.
            _features.KnnScores[.._items].CopyTo(masked);
            foreach (int item in _features.Bought)
            {
                masked[item] = float.NegativeInfinity;
            }

            int found = Kernels.TopK(masked, topItems, topScores);
            for (int j = 0; j < found; j++)
            {
                if (topScores[j] > 0f)
                {
                    candidates.Add(topItems[j]);
                }
            }

            // Uniform draws stand for the rest of the catalogue. Target items are NOT forced in: that would make
            // never-bought rows look far likelier to be bought than they are among thousands of items. Each draw is
            // weighted by rest / draws so the weighted loss estimates the BCE over the whole catalogue.
            drawn.Clear();
            for (int j = 0; j < _options.RandomNegatives; j++)
            {
                int item = _random.Next(_items);
                if (!candidates.Contains(item))
                {
                    drawn.Add(item);
                }
            }

            float restWeight = drawn.Count == 0 ? 0f : (float)(_items - candidates.Count) / drawn.Count;
            foreach (int item in candidates.Order())
            {
                AddRow(item, 1f);
            }

            foreach (int item in drawn.Order())
            {
                AddRow(item, restWeight);
            }
        }

        void AddRow(int item, float weight)
        {
            for (int c = 0; c < F; c++)
            {
                x.Add(all[item * F + c]);
            }

            y.Add(positives.Contains(item) ? 1f : 0f);
            w.Add(weight);
        }

        return ([.. x], [.. y], [.. w]);
    }

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
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters =>
        [.. _mlp.NamedParameters().Select(p => KeyValuePair.Create("mlp." + p.Key, p.Value)),
            .. _gate.NamedParameters().Select(p => KeyValuePair.Create("gate." + p.Key, p.Value))];

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _trainer;

    /// <summary>Forward and backward of the weighted BCE on one full batch of rows (no step).</summary>
    float IEpochModel.Backward(ReadOnlySpan<int> order)
    {
        int b = order.Length;
        float[] x = _rowsX, y = _rowsY, w = _rowsW;
        Span<float> batch = _batch.Span, user = _batchUser.Span;
        for (int r = 0; r < b; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(order[r] * F, F);
            row.CopyTo(batch.Slice(r * F, F));
            row.Slice(RepeatAwareFeatures.UserColumn, RepeatAwareFeatures.UserColumns)
                .CopyTo(user.Slice(r * RepeatAwareFeatures.UserColumns, RepeatAwareFeatures.UserColumns));
            _labels[r] = y[order[r]];
            _weights[r] = w[order[r]];
        }

        // logit = mlp(f) + bought · gate(c): forward both, then combine.
        ReadOnlySpan<float> s = _mlp.Forward(_batch).Span;
        ReadOnlySpan<float> g = _gate.Forward(_batchUser).Span;
        for (int r = 0; r < b; r++)
        {
            _logits[r] = s[r] + batch[r * F + RepeatAwareFeatures.BoughtColumn] * g[r];
        }

        Span<float> dLogit = _gradLogits.Span;
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(_logits, _labels, _weights, [], dLogit);

        // d logit / d gate = bought, d logit / d mlp = 1.
        Span<float> dGate = _gradGate.Span;
        for (int r = 0; r < b; r++)
        {
            dGate[r] = dLogit[r] * batch[r * F + RepeatAwareFeatures.BoughtColumn];
        }

        _mlp.Backward(_gradLogits);
        _gate.Backward(_gradGate);
        return loss;
    }

    private static long Key(in Interaction e) => e.Basket >= 0 ? e.Basket : e.Ticks;
}

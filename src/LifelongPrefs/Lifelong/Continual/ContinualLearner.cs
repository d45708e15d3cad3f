namespace LifelongPrefs.Lifelong;

/// <summary>
/// A learned model that keeps learning from new events without forgetting: it wraps a library model and applies the
/// strategies of <see cref="ContinualOptions"/> (replay, online EWC, distillation, recency weighting) to every
/// <see cref="Update"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>An update.</b> The wrapped model takes the new events (growing its tables, exactly as its own update would);
/// then <see cref="ContinualOptions.ReplayRatio"/> × as many past events as there are new pairs are drawn from the
/// replay buffer (a weighted reservoir over the whole stream plus each user's recent window, filled with everything
/// <see cref="Fit"/> and earlier updates saw) and trained with the new pairs, even though the model has seen them.
/// Every example may be weighted by its age (<see cref="ContinualOptions.RecencyHalfLife"/>, age measured from the
/// update's newest event). The model's update epochs run with two extra terms in its training-step hook: online EWC
/// (<see cref="ContinualOptions.EwcStrength"/>, on the rows a batch touches) and distillation from the version
/// published at the end of the previous update on the candidate items of the update's users (new and replayed) it knew
/// (<see cref="ContinualOptions.DistillationWeight"/>). Finally the new events join the replay buffer.
/// </para>
/// <para>
/// With <see cref="ContinualOptions.Naive"/> an update is bit for bit the wrapped model's own <see cref="IRecommender.Update"/>.
/// Every random choice flows from the model's seed and <see cref="ContinualOptions.Seed"/>; a <see cref="Fit"/> starts
/// the learner afresh, and a learner that is only ever updated (as the tracker's is) starts with an empty buffer and
/// its first update's version as the first teacher. The learner owns the model: nothing else may train it. Reads (<see cref="Score"/>,
/// <see cref="Recommend"/>, <see cref="CreateScorer"/>) are as thread-safe as the model's; writes are exclusive.
/// </para>
/// </remarks>
public sealed partial class ContinualLearner : IRecommender, ITrainableRecommender
{
    private readonly IContinualModel _model;
    private readonly ContinualOptions _options;
    private readonly SeededRandom _random;
    private readonly OnlineEwc? _ewc;
    private readonly Distillation? _distillation;
    private ReplayBuffer? _replay;
    private IScorer? _teacher;
    private int _teacherUsers;   // the teacher's user rows
    private bool[] _teacherTrained = [];   // which of them the teacher learned (the others it folds in)
    private readonly List<ContinualPair> _fresh = [];
    private readonly List<Interaction> _replayed = [];

    /// <summary>Wraps <paramref name="model"/>, which the learner then owns.</summary>
    /// <param name="model">A library model with a continual-training seam (today <see cref="BprMf"/>).</param>
    /// <param name="options">The strategies; null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="model"/> does not support continual strategies.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public ContinualLearner(IRecommender model, ContinualOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is not IContinualModel continual)
        {
            throw new ArgumentException($"The model '{model.Name}' does not support continual strategies; use a BprMf.", nameof(model));
        }

        _options = options?.Copy() ?? new ContinualOptions();
        _options.Validate();
        _model = continual;
        _random = new SeededRandom(_options.Seed);
        _replay = NewReplay();
        _dp = PreparePrivacy(continual);
        if (_options.DistillationWeight > 0)
        {
            _distillation = new Distillation(continual, _options.DistillationWeight, _options.DistillationTemperature, _options.DistillationCandidates);
            continual.Trainer.Hooks.Add(_distillation);
        }

        if (_options.EwcStrength > 0)
        {
            _ewc = new OnlineEwc(continual, _options.EwcStrength, _options.FisherDecay);
            continual.Trainer.Hooks.Add(_ewc);
        }
    }

    /// <summary>Gets the strategies in use.</summary>
    public ContinualOptions Options => _options;

    /// <inheritdoc/>
    public string Name => ((IRecommender)_model).Name;

    /// <inheritdoc/>
    public int ItemCount => _model.ItemCount;

    /// <summary>Gets the replay buffer (null without replay).</summary>
    internal ReplayBuffer? Replay => _replay;

    /// <summary>Gets the EWC hook (null without EWC).</summary>
    internal OnlineEwc? Ewc => _ewc;

    /// <summary>Gets the distillation hook (null without distillation).</summary>
    internal Distillation? DistillationTerm => _distillation;

    /// <summary>Gets the wrapped model's seam.</summary>
    internal IContinualModel Model => _model;

    /// <inheritdoc/>
    /// <remarks>
    /// Fits the wrapped model (from scratch) and starts the learner afresh: the replay buffer holds a sample of
    /// <paramref name="events"/>, the EWC Fisher is gathered during the fit (without a penalty) and the fitted version
    /// becomes the distillation teacher. Exclusive.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event or count is out of range, as the wrapped model's <see cref="IRecommender.Fit"/> says.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void Fit(IReadOnlyList<Interaction> events, int userCount, int itemCount, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (_ewc is not null)
        {
            _ewc.Penalise = false;   // a refit gives the model new tables, on which the hook starts afresh
        }

        _model.Fit(events, userCount, itemCount, progress, cancellationToken);
        _random.SetState(new SeededRandom(_options.Seed).GetState());
        _ewc?.EndUpdate(_model.LearnedPairCount);
        _replay = NewReplay();
        if (_replay is not null)
        {
            foreach (Interaction e in events)
            {
                _replay.Offer(e);
            }
        }

        PublishTeacher();
    }

    /// <inheritdoc/>
    /// <remarks>Applies the strategies as the class remarks say. Exclusive; a rejected call changes nothing.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="newEvents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event is out of range (nothing changes).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count shrinks or exceeds the model's maximum (nothing changes).</exception>
    public void Update(IReadOnlyList<Interaction> newEvents, int userCount, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(newEvents);
        _fresh.Clear();
        _model.BeginUpdate(newEvents, userCount, itemCount, _fresh);   // throws before anything changes

        _replayed.Clear();
        if (_replay is not null && _options.ReplayRatio > 0)
        {
            _replay.Sample((int)Math.Min(Math.Round(_options.ReplayRatio * _fresh.Count), int.MaxValue / 2), _random, _replayed);
        }

        var pairs = new List<(int User, int Item)>(_fresh.Count + _replayed.Count);
        foreach (ContinualPair p in _fresh)
        {
            pairs.Add((p.User, p.Item));
        }

        foreach (Interaction e in _replayed)
        {
            pairs.Add((e.User, e.Item));
        }

        float[] weights = RecencyWeights(newEvents);
        if (_distillation is not null && _teacher is not null)
        {
            _distillation.Prepare(_teacher, DistilledUsers(), _random);
        }

        if (_ewc is not null)
        {
            _ewc.Penalise = true;
        }

        try
        {
            if (_dp is not null)
            {
                TrainPrivately(pairs, weights);
            }
            else
            {
                _model.TrainPairs(pairs, weights);
            }
        }
        finally
        {
            _distillation?.Clear();
            _ewc?.EndUpdate(pairs.Count);
        }

        if (_replay is not null)
        {
            foreach (Interaction e in newEvents)
            {
                _replay.Offer(e);
            }
        }

        PublishTeacher();
    }

    /// <inheritdoc/>
    public void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) => _model.Score(user, history, scores);

    /// <inheritdoc/>
    public int Recommend(int user, ReadOnlySpan<Interaction> history, Span<int> items, ReadOnlySpan<int> excludedSorted) =>
        _model.Recommend(user, history, items, excludedSorted);

    /// <inheritdoc/>
    /// <remarks>With distillation the snapshot taken at the end of the last fit or update (the next teacher) is returned again.</remarks>
    public IScorer CreateScorer() => _teacher ?? _model.CreateScorer();

    /// <summary>exp(−ln 2 · age / half-life) per training pair (new ones, then replayed), age from the newest new event; empty when recency is off.</summary>
    private float[] RecencyWeights(IReadOnlyList<Interaction> newEvents)
    {
        if (_options.RecencyHalfLife == Timeout.InfiniteTimeSpan || newEvents.Count == 0)
        {
            return [];
        }

        long newest = long.MinValue;
        foreach (Interaction e in newEvents)
        {
            newest = Math.Max(newest, e.Ticks);
        }

        double rate = Math.Log(2) / _options.RecencyHalfLife.Ticks;
        var weights = new float[_fresh.Count + _replayed.Count];
        for (int k = 0; k < weights.Length; k++)
        {
            long ticks = k < _fresh.Count ? _fresh[k].Ticks : _replayed[k - _fresh.Count].Ticks;
            weights[k] = (float)Math.Exp(-rate * Math.Max(0, (double)newest - ticks));
        }

        return weights;
    }

    /// <summary>The distinct users of the update's pairs (new, then replayed) the teacher has a learned row for, in order of first appearance.</summary>
    private List<int> DistilledUsers()
    {
        var seen = new HashSet<int>();
        var users = new List<int>();
        void Add(int user)
        {
            if (seen.Add(user) && user < _teacherUsers && _teacherTrained[user])
            {
                users.Add(user);
            }
        }

        foreach (ContinualPair p in _fresh)
        {
            Add(p.User);
        }

        foreach (Interaction e in _replayed)
        {
            Add(e.User);
        }

        return users;
    }

    /// <summary>An empty replay buffer, or null without replay.</summary>
    private ReplayBuffer? NewReplay() => _options.ReplayCapacity > 0
        ? new ReplayBuffer(_options.ReplayCapacity, _options.ReplayStratification, _options.ReplayRecentPerUser, _options.Seed)
        : null;

    private void PublishTeacher()
    {
        if (_distillation is not null)
        {
            _teacher = _model.CreateScorer();
            _teacherUsers = _model.UserFactors.Rows;
            _teacherTrained = new bool[_teacherUsers];
            for (int u = 0; u < _teacherUsers; u++)
            {
                _teacherTrained[u] = _model.IsTrainedUser(u);
            }
        }
    }

    /// <inheritdoc/>
    IReadOnlyList<KeyValuePair<string, Parameter>> ITrainableRecommender.NamedParameters => _model.NamedParameters;

    /// <inheritdoc/>
    EpochTrainer ITrainableRecommender.Trainer => _model.Trainer;

    /// <inheritdoc/>
    void ITrainableRecommender.Grow(int userCount, int itemCount) => _model.Grow(userCount, itemCount);

    /// <inheritdoc/>
    Optimizer IEpochModel.Optimizer => _model.Optimizer;

    /// <inheritdoc/>
    Random IEpochModel.Random => _model.Random;

    /// <inheritdoc/>
    float IEpochModel.Backward(ReadOnlySpan<int> examples) => _model.Backward(examples);
}

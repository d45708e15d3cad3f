namespace LifelongPrefs.Lifelong;

/// <summary>
/// Learning without forgetting (Li and Hoiem, ECCV 2016) for a factor model, as a gradient hook: for every distilled
/// user a batch touches, the term <c>w·T²·KL(p ‖ q)</c> between the teacher's softmax p and the student's softmax q at
/// temperature T over the user's candidate items, averaged over those users.
/// </summary>
/// <remarks>
/// <para>
/// <b>Candidates.</b> Before an update, <see cref="Prepare"/> scores each of the update's users the teacher learned
/// (those of the new pairs, as in LwF, and the replayed ones) with the teacher (the version
/// published at the end of the previous update) and keeps its top <see cref="ContinualOptions.DistillationCandidates"/>
/// items plus a quarter as many other items drawn uniformly, with the teacher's log-softmax over them.
/// </para>
/// <para>
/// <b>Gradient.</b> With s_c = p_u·q_c + b_c, <c>∂(T²·KL)/∂s_c = T·(q_c − p_c)</c>; it reaches p_u through q_c, q_c
/// through p_u, and b_c, and the hook marks the candidate rows touched so the lazy optimizer steps them. Softmaxes
/// subtract their maximum and the KL is taken from log-softmaxes, so everything stays finite. Allocates nothing per
/// step.
/// </para>
/// </remarks>
internal sealed class Distillation : IGradientHook
{
    private readonly IContinualModel _model;
    private readonly float _weight, _temperature;
    private readonly int _top, _sampled;
    private int[] _slotOf = [];
    private int[] _candidates = [];
    private float[] _teacherLog = [];   // log p over each slot's candidates
    private readonly List<int> _users = [];
    private readonly float[] _scores, _studentLog, _gradient;

    /// <summary>Creates the term.</summary>
    /// <param name="model">The student.</param>
    /// <param name="weight">w, finite and non-negative.</param>
    /// <param name="temperature">T, positive and finite.</param>
    /// <param name="candidates">The teacher's top items per user.</param>
    internal Distillation(IContinualModel model, float weight, float temperature, int candidates)
    {
        (_model, _weight, _temperature, _top) = (model, weight, temperature, candidates);
        _sampled = Math.Max(1, candidates / 4);
        int c = _top + _sampled;
        (_scores, _studentLog, _gradient) = (new float[c], new float[c], new float[c]);
    }

    /// <summary>Gets the number of candidates per user (top plus sampled).</summary>
    internal int CandidatesPerUser => _top + _sampled;

    /// <summary>The candidate items of a distilled user (empty for another), for tests.</summary>
    internal ReadOnlySpan<int> CandidatesOf(int user) =>
        user < _slotOf.Length && _slotOf[user] >= 0 ? _candidates.AsSpan(_slotOf[user] * CandidatesPerUser, CandidatesPerUser) : [];

    /// <summary>Gets the users distilled in the current update.</summary>
    internal IReadOnlyList<int> Users => _users;

    /// <summary>Chooses the candidates of <paramref name="users"/> (distinct users with a teacher row) and the teacher's distribution over them.</summary>
    /// <param name="teacher">The previous version.</param>
    /// <param name="users">The users to distil.</param>
    /// <param name="random">The generator of the sampled candidates.</param>
    internal void Prepare(IScorer teacher, IReadOnlyList<int> users, Random random)
    {
        Clear();
        int items = teacher.ItemCount, c = CandidatesPerUser;
        if (items < c || users.Count == 0)
        {
            return;
        }

        if (_slotOf.Length < _model.UserFactors.Rows)
        {
            int old = _slotOf.Length;
            Array.Resize(ref _slotOf, _model.UserFactors.Rows);
            _slotOf.AsSpan(old).Fill(-1);
        }

        if (_candidates.Length < users.Count * c)
        {
            _candidates = new int[users.Count * c];
            _teacherLog = new float[users.Count * c];
        }

        var scores = new float[items];
        var topValues = new float[_top];
        foreach (int user in users)
        {
            int slot = _users.Count;
            _users.Add(user);
            _slotOf[user] = slot;
            teacher.Score(user, [], scores);
            Span<int> chosen = _candidates.AsSpan(slot * c, c);
            Kernels.TopK(scores, chosen[.._top], topValues);
            for (int k = _top; k < c; k++)
            {
                int item;
                do
                {
                    item = random.Next(items);
                }
                while (chosen[..k].Contains(item));
                chosen[k] = item;
            }

            Span<float> log = _teacherLog.AsSpan(slot * c, c);
            for (int k = 0; k < c; k++)
            {
                log[k] = scores[chosen[k]];
            }

            LogSoftmax(log, _temperature);
        }
    }

    /// <summary>Forgets the current update's users.</summary>
    internal void Clear()
    {
        foreach (int user in _users)
        {
            _slotOf[user] = -1;
        }

        _users.Clear();
    }

    /// <inheritdoc/>
    public float Apply(IReadOnlyList<Parameter> parameters)
    {
        if (_users.Count == 0 || _weight == 0f)
        {
            return 0f;
        }

        Parameter users = _model.UserFactors, items = _model.ItemFactors, bias = _model.ItemBias;
        ReadOnlySpan<int> touched = users.TouchedRows;
        int distilled = 0;
        foreach (int user in touched)
        {
            distilled += user < _slotOf.Length && _slotOf[user] >= 0 ? 1 : 0;
        }

        if (distilled == 0)
        {
            return 0f;
        }

        int d = _model.Dimensions, c = CandidatesPerUser;
        float scale = _weight * _temperature / distilled;
        ReadOnlySpan<float> userValue = users.Value.Span, itemValue = items.Value.Span, biasValue = bias.Value.Span;
        Span<float> userGrad = users.Gradient.Span, itemGrad = items.Gradient.Span, biasGrad = bias.Gradient.Span;
        double loss = 0;
        foreach (int user in touched)
        {
            int slot = user < _slotOf.Length ? _slotOf[user] : -1;
            if (slot < 0)
            {
                continue;
            }

            ReadOnlySpan<int> chosen = _candidates.AsSpan(slot * c, c);
            ReadOnlySpan<float> teacherLog = _teacherLog.AsSpan(slot * c, c);
            ReadOnlySpan<float> p = userValue.Slice(user * d, d);
            for (int k = 0; k < c; k++)
            {
                _studentLog[k] = System.Numerics.Tensors.TensorPrimitives.Dot(p, itemValue.Slice(chosen[k] * d, d)) + biasValue[chosen[k]];
            }

            LogSoftmax(_studentLog, _temperature);
            double kl = 0;
            for (int k = 0; k < c; k++)
            {
                float pk = MathF.Exp(teacherLog[k]), qk = MathF.Exp(_studentLog[k]);
                kl += pk * (teacherLog[k] - _studentLog[k]);
                _gradient[k] = scale * (qk - pk);
            }

            loss += kl;
            Span<float> du = userGrad.Slice(user * d, d);
            for (int k = 0; k < c; k++)
            {
                int item = chosen[k];
                Kernels.Axpy(_gradient[k], itemValue.Slice(item * d, d), du);
                Kernels.Axpy(_gradient[k], p, itemGrad.Slice(item * d, d));
                biasGrad[item] += _gradient[k];
                items.MarkRowTouched(item);
                bias.MarkRowTouched(item);
            }
        }

        return (float)Math.Min(_weight * _temperature * _temperature * loss / distilled, float.MaxValue);
    }

    /// <summary>In place: <c>x ← log softmax(x / T)</c>, stably (the maximum subtracted first).</summary>
    internal static void LogSoftmax(Span<float> x, float temperature)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        for (int k = 0; k < x.Length; k++)
        {
            x[k] = (x[k] - max) / temperature;
            sum += Math.Exp(x[k]);
        }

        float log = (float)Math.Log(sum);
        for (int k = 0; k < x.Length; k++)
        {
            x[k] -= log;
        }
    }
}

using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Saving and loading the whole learner: the wrapped model's own state, then the strategies' state (replay memory,
/// online EWC, the teacher, the generators and the private-step count) as a second container.
/// </summary>
/// <remarks>
/// <para>
/// <b>Layout.</b> Two state containers back to back (<c>src/LifelongPrefs/Persistence/README.md</c>): the wrapped
/// model's, exactly as its own <see cref="ISavableRecommender.Save"/> writes it, then the learner's (model type
/// <c>ContinualLearner</c>, fingerprint of <see cref="ContinualOptions"/> and of its <see cref="ContinualOptions.DifferentialPrivacy"/>
/// options). Loading reads and checks both — every length against the model's saved table sizes — before either is
/// applied, so a failed load changes nothing.
/// </para>
/// <para>
/// <b>The teacher</b> is not written: it is always the snapshot of the model taken at the end of the last fit, update
/// or erasure, and nothing changes the model in between, so loading takes it again from the loaded model and gets the
/// same scores bit for bit. Distillation's candidate lists and the recency weights are rebuilt by every update, so
/// they are not state. Save and load between updates (the tracker's learner is parked then); exclusive.
/// </para>
/// </remarks>
public sealed partial class ContinualLearner : ISavableRecommender
{
    private ModelStateHeader StateHeader
    {
        get
        {
            string options = OptionsFingerprint.Canonical(_options);
            if (_options.DifferentialPrivacy is { } dp)
            {
                options += "DifferentialPrivacy:\n" + OptionsFingerprint.Canonical(dp);
            }

            return new ModelStateHeader(ModelTypeId.ContinualLearner, 1, options);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Writes the wrapped model's state, then the learner's. Exclusive with <see cref="Update"/> and <see cref="Fit"/>.</remarks>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ((ISavableRecommender)_model).Save(stream);
        ModelStateIo.Save(stream, StateHeader, WriteState);
    }

    /// <inheritdoc/>
    public async Task SaveAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await ((ISavableRecommender)_model).SaveAsync(stream, cancellationToken).ConfigureAwait(false);
        await ModelStateIo.SaveAsync(stream, StateHeader, WriteState, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>Exclusive: never alongside any other call on the learner or its model.</remarks>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Action model = _model.PrepareLoad(stream, out int users, out int items);
        Apply(ModelStateReader.Read(stream, StateHeader, Name), model, users, items);
    }

    /// <inheritdoc/>
    public async Task LoadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        (Action model, int users, int items) = await _model.PrepareLoadAsync(stream, cancellationToken).ConfigureAwait(false);
        Apply(await ModelStateReader.ReadAsync(stream, StateHeader, Name, cancellationToken).ConfigureAwait(false), model, users, items);
    }

    private void WriteState(ModelStateWriter writer)
    {
        writer.AddInts("model.rows", [_model.UserFactors.Rows, _model.ItemFactors.Rows]);
        writer.AddRandom("continual", _random);
        writer.AddInt("teacher", _teacher is null ? 0 : 1);
        _replay?.WriteState(writer);
        _ewc?.WriteState(writer);
        if (_dp is not null)
        {
            writer.AddRandom("dp", _dp.Generator);
            writer.AddLong("dp.steps", PrivateSteps);
        }
    }

    /// <summary>Checks the learner's sections against the model's saved sizes, then applies the model and the learner.</summary>
    private void Apply(ModelStateReader reader, Action model, int users, int items)
    {
        int[] rows = reader.Ints("model.rows", 2);
        reader.Require(rows[0] == users && rows[1] == items, $"the learner was saved with {rows[0]} users and {rows[1]} items, its model with {users} and {items}");
        int[] random = reader.Random("continual");
        int teacher = reader.Int("teacher");
        reader.Require(teacher == 0 || (teacher == 1 && _distillation is not null), $"teacher flag {teacher}");

        // A refit replaces the buffer; loading does the same, so the live one is untouched until the state is applied.
        ReplayBuffer? replay = NewReplay();
        Action? replayed = replay?.ReadState(reader, users, items);
        Action? ewc = _ewc?.ReadState(reader, users, items, _model.Dimensions);
        int[]? dpRandom = null;
        long dpSteps = 0;
        if (_dp is not null)
        {
            dpRandom = reader.Random("dp");
            dpSteps = reader.Long("dp.steps");
            reader.Require(dpSteps >= 0 && dpSteps % _dp.StepsPerUpdate == 0, $"{dpSteps} private steps are not a whole number of updates of {_dp.StepsPerUpdate}");
        }

        reader.EnsureAllConsumed();

        // Everything is checked: apply the model first (the EWC tables bind to its new parameters), then the rest.
        model();
        replayed?.Invoke();
        _replay = replay;
        ewc?.Invoke();
        _random.SetState(random);
        if (_dp is not null)
        {
            _dp.Generator.SetState(dpRandom);
            Interlocked.Exchange(ref _privateSteps, dpSteps);
        }

        _teacher = null;
        (_teacherUsers, _teacherTrained) = (0, []);
        if (teacher == 1)
        {
            PublishTeacher();
        }
    }
}

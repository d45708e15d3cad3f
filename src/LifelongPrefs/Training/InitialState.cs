namespace LifelongPrefs.Training;

/// <summary>
/// What a fixed-shape network returns to when it retrains from scratch (PropensityMLP, RepeatAware): the initial values
/// of its parameters and buffers (batch-norm running statistics), its optimizer's freshly constructed state and its
/// random generators' states, all taken at construction. <see cref="Restore"/> makes a second <c>Fit</c> start exactly
/// where a new instance with the same options would.
/// </summary>
/// <remarks>Not thread-safe: used only inside a model's exclusive <c>Fit</c>.</remarks>
internal sealed class InitialState
{
    private readonly TrainingSnapshot _values;
    private readonly Optimizer _optimizer;
    private readonly SeededRandom[] _randoms;
    private readonly int[][] _randomStates;

    /// <summary>Captures <paramref name="parameters"/>, <paramref name="buffers"/> and the states of <paramref name="randoms"/> as they are now.</summary>
    internal InitialState(IReadOnlyList<Parameter> parameters, IReadOnlyList<Tensor> buffers, Optimizer optimizer, params SeededRandom[] randoms)
    {
        _values = new TrainingSnapshot(parameters, buffers);
        _values.Capture();
        _optimizer = optimizer;
        _randoms = randoms;
        _randomStates = [.. randoms.Select(r => r.GetState())];
    }

    /// <summary>Writes the captured values back bit for bit, resets the optimizer and rewinds the generators.</summary>
    internal void Restore()
    {
        _values.Restore();
        _optimizer.ResetState();
        for (int i = 0; i < _randoms.Length; i++)
        {
            _randoms[i].SetState(_randomStates[i]);
        }
    }
}

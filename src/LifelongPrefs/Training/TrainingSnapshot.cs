namespace LifelongPrefs.Training;

/// <summary>
/// A copy of a model's learned values: every parameter and every buffer that training changes without a gradient
/// (batch-norm running statistics). Restoring writes the copy back bit for bit.
/// </summary>
/// <remarks>
/// Optimizer moments, the step count and random generators are deliberately not part of it (see
/// <see cref="EpochTrainer"/>). The copy is allocated once and overwritten by later <see cref="Capture"/> calls, so
/// keeping the best epoch costs one parameter-sized buffer however many epochs improve.
/// </remarks>
internal sealed class TrainingSnapshot
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly IReadOnlyList<Tensor> _buffers;
    private readonly float[][] _values;

    /// <summary>Allocates a snapshot for the given tensors (their current sizes) without copying yet.</summary>
    /// <param name="parameters">The parameters to copy.</param>
    /// <param name="buffers">Extra tensors to copy (e.g. batch-norm running statistics).</param>
    internal TrainingSnapshot(IReadOnlyList<Parameter> parameters, IReadOnlyList<Tensor> buffers)
    {
        _parameters = parameters;
        _buffers = buffers;
        _values = new float[parameters.Count + buffers.Count][];
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = new float[Span(i).Length];
        }
    }

    /// <summary>Gets a value indicating whether <see cref="Capture"/> has run.</summary>
    internal bool Captured { get; private set; }

    /// <summary>Copies the current values into the snapshot.</summary>
    /// <exception cref="InvalidOperationException">A tensor changed size since the snapshot was created.</exception>
    internal void Capture()
    {
        for (int i = 0; i < _values.Length; i++)
        {
            Span<float> live = Span(i);
            RequireSameLength(live.Length, i);
            live.CopyTo(_values[i]);
        }

        Captured = true;
    }

    /// <summary>Writes the captured values back into the live tensors.</summary>
    /// <exception cref="InvalidOperationException">Nothing was captured, or a tensor changed size.</exception>
    internal void Restore()
    {
        if (!Captured)
        {
            throw new InvalidOperationException("No values were captured, so there is nothing to restore.");
        }

        for (int i = 0; i < _values.Length; i++)
        {
            Span<float> live = Span(i);
            RequireSameLength(live.Length, i);
            _values[i].CopyTo(live);
        }
    }

    private Span<float> Span(int index) =>
        index < _parameters.Count ? _parameters[index].Value.Span : _buffers[index - _parameters.Count].Span;

    private void RequireSameLength(int length, int index)
    {
        if (length != _values[index].Length)
        {
            throw new InvalidOperationException(
                $"Snapshot tensor {index} has {length} elements now but {_values[index].Length} when the snapshot was made; tensors must not grow during a training run.");
        }
    }
}

using System.Numerics.Tensors;

namespace LifelongPrefs.Training;

/// <summary>
/// Updates a fixed list of <see cref="Parameter"/>s from their accumulated gradients, with a NaN/Inf guard,
/// an optional learning-rate schedule, per-parameter state that grows with the parameters, and an optional
/// lazy (sparse-row) mode.
/// </summary>
/// <remarks>
/// <para>
/// <b>One step.</b> <see cref="Step"/> first scans every gradient (for a parameter with
/// <see cref="Parameter.HasSparseRows"/>, only its <see cref="Parameter.TouchedRows"/>: by the parameter's
/// contract the other rows' gradients are zero). If any element is NaN or infinite, nothing is applied:
/// parameter values, optimizer state and <see cref="StepCount"/> stay bit-identical and the returned
/// <see cref="StepResult"/> names the first offending parameter. Otherwise every parameter is updated and
/// <see cref="StepCount"/> advances by one. Gradients are never cleared by <see cref="Step"/>; call
/// <see cref="ZeroGrad"/> (or <see cref="Module.ZeroGrad"/>) before the next backward pass.
/// </para>
/// <para>
/// <b>Lazy mode.</b> With <c>lazy: true</c>, a sparse-row parameter (an embedding table) is updated only on
/// the rows its last backward passes touched; the state (momenta, second moments, accumulators) of the other
/// rows is not decayed and their values stay bit-identical. A step then costs O(rows touched) instead of
/// O(table), which is what makes online updates over a large item catalog cheap. Dense parameters are updated
/// in full in both modes. Without lazy mode a sparse parameter is updated like a dense one (PyTorch
/// semantics: momentum keeps moving rows whose gradient is zero, weight decay shrinks every row).
/// </para>
/// <para>
/// <b>State.</b> Each parameter gets its state buffers (one per moment) at construction, shaped like the
/// parameter. When a parameter has grown (<see cref="Parameter.GrowRows"/>) the next <see cref="Step"/> (or
/// <see cref="GetState"/>) appends state rows with the optimizer's initial state value (zero except for
/// <see cref="Adagrad"/>'s initial accumulator), so the updates of the old rows are unaffected. Apart from
/// such growth, a step allocates nothing.
/// </para>
/// <para>
/// The update of one element depends only on that element's value, gradient and state, and the arithmetic is
/// the same in the vectorised loop and in its scalar tail (no fused multiply-add), so a row updates to the
/// same bits whether it is updated alone (lazy) or as part of the whole table.
/// </para>
/// </remarks>
public abstract partial class Optimizer
{
    private readonly Parameter[] _parameters;
    private readonly float[][][] _state;
    private readonly int _stateSlots;
    private readonly float _initialState;
    private float _learningRate;

    // Scratch for visiting touched rows in ascending order (see OrderedTouchedRows): a bitmap over rows and
    // the sorted row list, sized to the largest sparse parameter and grown with it.
    private ulong[] _rowBits = [];
    private int[] _orderedRows = [];

    /// <summary>Creates the optimizer and allocates its state.</summary>
    /// <param name="parameters">The parameters to update; non-empty entries, no duplicates.</param>
    /// <param name="learningRate">The base learning rate; finite and non-negative.</param>
    /// <param name="stateSlots">State buffers per parameter (0, 1 or 2).</param>
    /// <param name="initialState">The initial value of every state element.</param>
    /// <param name="lazy">Whether sparse-row parameters are updated only on their touched rows.</param>
    private protected Optimizer(IReadOnlyList<Parameter> parameters, float learningRate, int stateSlots, float initialState, bool lazy)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ValidateLearningRate(learningRate, nameof(learningRate));
        var copy = new Parameter[parameters.Count];
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < copy.Length; i++)
        {
            Parameter? parameter = parameters[i];
            if (parameter is null)
            {
                throw new ArgumentException($"Parameter {i} of the list is null.", nameof(parameters));
            }

            if (!seen.Add(parameter))
            {
                throw new ArgumentException(
                    $"Parameter {i} ('{parameter.Name}') appears more than once in the list; it would be updated twice per step.",
                    nameof(parameters));
            }

            copy[i] = parameter;
        }

        _parameters = copy;
        _learningRate = learningRate;
        _stateSlots = stateSlots;
        _initialState = initialState;
        Lazy = lazy;
        _state = new float[copy.Length][][];
        for (int i = 0; i < copy.Length; i++)
        {
            _state[i] = new float[stateSlots][];
            for (int s = 0; s < stateSlots; s++)
            {
                _state[i][s] = NewState(copy[i].Length, 0);
            }
        }
    }

    /// <summary>Gets the parameters this optimizer updates, in the order given at construction.</summary>
    /// <value>A read-only view; the indices are those reported by <see cref="StepResult.NonFiniteParameterIndex"/>.</value>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Gets or sets the base learning rate, used when no <see cref="Schedule"/> is set.</summary>
    /// <value>Finite and non-negative; the default depends on the optimizer.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            ValidateLearningRate(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>
    /// Gets or sets the learning-rate schedule. When set, step number <see cref="StepCount"/> (counted from 0)
    /// uses <c>Schedule.GetLearningRate(StepCount)</c> and <see cref="LearningRate"/> is ignored.
    /// </summary>
    /// <value>Null (the default) for the constant <see cref="LearningRate"/>.</value>
    public ILearningRateSchedule? Schedule { get; set; }

    /// <summary>Gets the number of steps applied so far (skipped steps do not count).</summary>
    /// <value>Starts at 0. Bias corrections use <c>t = StepCount + 1</c> for the step being applied.</value>
    public long StepCount { get; private set; }

    /// <summary>
    /// Sets <see cref="StepCount"/> when restoring a checkpoint, together with the moments written back through
    /// <see cref="GetState"/>, so that bias corrections continue where the saved run stopped.
    /// </summary>
    /// <param name="stepCount">The saved step count; non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepCount"/> is negative.</exception>
    public void RestoreStepCount(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        StepCount = stepCount;
    }

    /// <summary>
    /// Returns the optimizer to its freshly constructed state: every state element to its initial value and
    /// <see cref="StepCount"/> to 0 (for a model that retrains from scratch over the same parameters).
    /// </summary>
    internal void ResetState()
    {
        for (int i = 0; i < _state.Length; i++)
        {
            for (int s = 0; s < _state[i].Length; s++)
            {
                _state[i][s] = NewState(_parameters[i].Length, 0);
            }
        }

        StepCount = 0;
    }

    /// <summary>Gets a value indicating whether sparse-row parameters are updated only on their touched rows.</summary>
    public bool Lazy { get; }

    /// <summary>Gets the number of state buffers kept per parameter (e.g. 2 for Adam's moments).</summary>
    public int StateCount => _stateSlots;

    /// <summary>
    /// Returns state buffer <paramref name="slot"/> of parameter <paramref name="parameterIndex"/>, shaped like
    /// the parameter (row-major), growing it first if the parameter has grown. For checkpoints and inspection;
    /// writing into it changes the optimizer's state.
    /// </summary>
    /// <param name="parameterIndex">The index of the parameter in <see cref="Parameters"/>.</param>
    /// <param name="slot">The state buffer, in [0, <see cref="StateCount"/>); the order is documented by each optimizer.</param>
    /// <returns>The live state buffer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public Span<float> GetState(int parameterIndex, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(parameterIndex, _parameters.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _stateSlots);
        EnsureState(parameterIndex);
        return _state[parameterIndex][slot];
    }

    /// <summary>Clears the gradient of every parameter (only the touched rows of sparse ones).</summary>
    public void ZeroGrad()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].ZeroGradient();
        }
    }

    /// <summary>
    /// Applies one update from the accumulated gradients, unless a gradient is NaN or infinite, in which case
    /// nothing changes and the result says which parameter was at fault.
    /// </summary>
    /// <returns>Whether the step was applied, the learning rate used, or the first non-finite parameter.</returns>
    /// <exception cref="InvalidOperationException">
    /// The <see cref="Schedule"/> returned a negative, NaN or infinite learning rate (nothing is changed).
    /// </exception>
    public StepResult Step() => StepCore(zeroGradients: false);

    /// <summary>
    /// <see cref="Step"/> followed by <see cref="ZeroGrad"/>, fused: each gradient row is cleared right after it
    /// was used, while it is still in cache, which saves a second sweep over large embedding tables. If the step
    /// is skipped because a gradient is NaN or infinite, the gradients are still cleared (the bad batch is
    /// discarded) and parameters and state are unchanged.
    /// </summary>
    /// <returns>As for <see cref="Step"/>.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="Step"/> (gradients are then left as they were).</exception>
    public StepResult StepAndZeroGrad() => StepCore(zeroGradients: true);

    private StepResult StepCore(bool zeroGradients)
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (!GradientIsFinite(_parameters[i], OrderedTouchedRows(_parameters[i])))
            {
                if (zeroGradients)
                {
                    ZeroGrad();
                }

                return StepResult.SkippedAt(_parameters[i], i, StepCount);
            }
        }

        float learningRate = _learningRate;
        if (Schedule is { } schedule)
        {
            learningRate = schedule.GetLearningRate(StepCount);
            if (!float.IsFinite(learningRate) || learningRate < 0f)
            {
                throw new InvalidOperationException(
                    $"The learning-rate schedule returned {learningRate} for step {StepCount}; a rate must be finite and non-negative.");
            }
        }

        // t counts the applied steps including this one (Adam's bias corrections use it).
        long t = StepCount + 1;
        BeginStep(learningRate, t);
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter parameter = _parameters[i];
            EnsureState(i);
            float[][] state = _state[i];
            Span<float> value = parameter.Value.Span;
            Span<float> gradient = parameter.Gradient.Span;
            Span<float> first = _stateSlots > 0 ? state[0] : default;
            Span<float> second = _stateSlots > 1 ? state[1] : default;
            if (Lazy && parameter.HasSparseRows)
            {
                int width = parameter.Value.RowLength;
                ReadOnlySpan<int> rows = OrderedTouchedRows(parameter);
                for (int k = 0; k < rows.Length; k++)
                {
                    if (k + PrefetchDistance < rows.Length)
                    {
                        // Rows of a large table miss the caches; request a row a few updates ahead so the
                        // memory round trips overlap instead of queueing behind each other.
                        int ahead = rows[k + PrefetchDistance] * width;
                        Prefetch(value, ahead, width);
                        Prefetch(gradient, ahead, width);
                        Prefetch(first, ahead, width);
                        Prefetch(second, ahead, width);
                    }

                    int start = rows[k] * width;
                    Update(
                        value.Slice(start, width),
                        gradient.Slice(start, width),
                        first.IsEmpty ? default : first.Slice(start, width),
                        second.IsEmpty ? default : second.Slice(start, width));
                    if (zeroGradients)
                    {
                        gradient.Slice(start, width).Clear();
                    }
                }

                if (zeroGradients)
                {
                    parameter.ForgetTouchedRows();
                }
            }
            else
            {
                Update(value, gradient, first, second);
                if (zeroGradients)
                {
                    parameter.ZeroGradient();
                }
            }
        }

        StepCount = t;
        return StepResult.AppliedAt(learningRate, t);
    }

    private const int PrefetchDistance = 4;

    /// <summary>Hints the CPU to fetch <c>buffer[start .. start + width)</c> (a no-op without SSE or for an empty buffer).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ReadOnlySpan<float> buffer, int start, int width)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || buffer.IsEmpty)
        {
            return;
        }

        // A prefetch never faults; if the GC moved the array in between, the hint would merely be wasted.
        byte* row = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(
            ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer), start));
        for (int offset = 0; offset < width * sizeof(float); offset += 64)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + offset);
        }
    }

    /// <summary>Prepares the per-step constants (bias corrections, scaled rates) before the updates of step <paramref name="t"/>.</summary>
    /// <param name="learningRate">The rate of this step (from the schedule or <see cref="LearningRate"/>).</param>
    /// <param name="t">The 1-based number of this step.</param>
    private protected abstract void BeginStep(float learningRate, long t);

    /// <summary>
    /// Updates a contiguous run of elements (a whole parameter, or one touched row in lazy mode) in place.
    /// </summary>
    /// <param name="value">The parameter values to update.</param>
    /// <param name="gradient">Their gradients.</param>
    /// <param name="first">State buffer 0 for the same elements (empty if the optimizer keeps none).</param>
    /// <param name="second">State buffer 1 for the same elements (empty if the optimizer keeps fewer than two).</param>
    private protected abstract void Update(Span<float> value, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is finite and non-negative.</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="name">The argument's name, for the message.</param>
    internal static void ValidateLearningRate(float value, string name) => RequireFiniteNonNegative(value, name);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is finite and non-negative.</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="name">The argument's name, for the message.</param>
    internal static void RequireFiniteNonNegative(float value, string name)
    {
        if (!float.IsFinite(value) || value < 0f)
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be finite and non-negative, but was {value}.");
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is finite and positive.</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="name">The argument's name, for the message.</param>
    internal static void RequireFinitePositive(float value, string name)
    {
        if (!float.IsFinite(value) || value <= 0f)
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be finite and positive, but was {value}.");
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 ≤ <paramref name="value"/> &lt; 1.</summary>
    /// <param name="value">The value to check (a decay rate such as a beta or a momentum).</param>
    /// <param name="name">The argument's name, for the message.</param>
    internal static void RequireUnitInterval(float value, string name)
    {
        // The negated comparison also rejects NaN.
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must lie in [0, 1), but was {value}.");
        }
    }

    private static bool GradientIsFinite(Parameter parameter, ReadOnlySpan<int> rows)
    {
        ReadOnlySpan<float> gradient = parameter.Gradient.Span;
        if (!parameter.HasSparseRows)
        {
            return TensorPrimitives.IsFiniteAll(gradient);
        }

        int width = parameter.Value.RowLength;
        for (int k = 0; k < rows.Length; k++)
        {
            if (k + PrefetchDistance < rows.Length)
            {
                Prefetch(gradient, rows[k + PrefetchDistance] * width, width);
            }

            if (!TensorPrimitives.IsFiniteAll(gradient.Slice(rows[k] * width, width)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Returns the touched rows of a sparse parameter, in ascending order when they are dense enough for the
    /// order to matter (empty for a dense parameter).
    /// </summary>
    /// <remarks>
    /// <see cref="Parameter.TouchedRows"/> lists rows in first-touch order, which for an embedding table is
    /// random: visiting value, gradient and state rows in that order defeats the hardware prefetcher and the
    /// update becomes latency-bound. When at least 1/16 of the rows are touched, a bitmap over the rows turns
    /// the list into ascending order in O(touched + rows/64) without sorting, so the sweep streams through
    /// memory. Rows are updated independently, so the order does not change any result. For fewer rows the
    /// accesses are sparse anyway and the list is used as is.
    /// </remarks>
    private ReadOnlySpan<int> OrderedTouchedRows(Parameter parameter)
    {
        ReadOnlySpan<int> rows = parameter.TouchedRows;
        if (rows.Length * 16 < parameter.Rows)
        {
            return rows;
        }

        int words = (parameter.Rows + 63) >> 6;
        if (_rowBits.Length < words)
        {
            _rowBits = new ulong[words];
        }

        if (_orderedRows.Length < rows.Length)
        {
            _orderedRows = new int[Math.Max(rows.Length, parameter.Rows)];
        }

        Span<ulong> bits = _rowBits.AsSpan(0, words);
        for (int k = 0; k < rows.Length; k++)
        {
            int row = rows[k];
            bits[row >> 6] |= 1UL << (row & 63);
        }

        int count = 0;
        for (int w = 0; w < bits.Length; w++)
        {
            ulong word = bits[w];
            bits[w] = 0;
            while (word != 0)
            {
                _orderedRows[count++] = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }

        return _orderedRows.AsSpan(0, count);
    }

    /// <summary>Grows the state of parameter <paramref name="index"/> to the parameter's current size (after <see cref="Parameter.GrowRows"/>).</summary>
    private void EnsureState(int index)
    {
        int length = _parameters[index].Length;
        float[][] state = _state[index];
        for (int s = 0; s < state.Length; s++)
        {
            float[] old = state[s];
            if (old.Length == length)
            {
                continue;
            }

            // Parameters only grow; new rows start from the initial state, old rows keep theirs.
            float[] grown = NewState(length, old.Length);
            old.CopyTo(grown, 0);
            state[s] = grown;
        }
    }

    private float[] NewState(int length, int keep)
    {
        var buffer = new float[length];
        if (_initialState != 0f)
        {
            buffer.AsSpan(keep).Fill(_initialState);
        }

        return buffer;
    }
}

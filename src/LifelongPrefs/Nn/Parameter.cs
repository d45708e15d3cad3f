namespace LifelongPrefs.Nn;

/// <summary>
/// A learnable tensor with its gradient, registered under a stable name (for optimizers, checkpoints and
/// regularisers such as EWC).
/// </summary>
/// <remarks>
/// <para>
/// Gradients <b>accumulate</b>: every backward pass adds into <see cref="Gradient"/>, and
/// <see cref="ZeroGradient"/> clears it. A parameter created with <c>sparseRows: true</c> (an embedding
/// table) also records which rows a backward pass touched, so that zeroing and lazy optimizers cost
/// O(rows touched) rather than O(table).
/// </para>
/// <para>
/// Row-major parameters can grow (<see cref="GrowRows"/>): new rows are appended for new users or items and
/// existing rows stay bit-identical. Optimizers notice the new row count and grow their state to match.
/// </para>
/// </remarks>
public sealed class Parameter
{
    private bool[] _touched;
    private int[] _touchedRows;
    private int _touchedCount;

    /// <summary>Creates a parameter over <paramref name="value"/> with a zero gradient of the same shape.</summary>
    /// <param name="name">The local name (e.g. <c>weight</c>); modules prefix it with their path.</param>
    /// <param name="value">The initial value; the parameter takes ownership.</param>
    /// <param name="sparseRows">Whether backward passes touch only a few rows and record which.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or contains a '.'.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public Parameter(string name, Tensor value, bool sparseRows = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Parameter name '{name}' must not contain '.', which separates module paths.", nameof(name));
        }

        Name = name;
        Value = value;
        Gradient = new Tensor(ShapeOf(value));
        HasSparseRows = sparseRows;
        _touched = sparseRows ? new bool[value.Rows] : [];
        _touchedRows = sparseRows ? new int[Math.Min(value.Rows, 1024)] : [];
    }

    /// <summary>Gets the local name of the parameter.</summary>
    public string Name { get; }

    /// <summary>Gets the current value. Replaced by a larger tensor when the parameter grows.</summary>
    public Tensor Value { get; private set; }

    /// <summary>Gets the accumulated gradient, with the same shape as <see cref="Value"/>.</summary>
    public Tensor Gradient { get; private set; }

    /// <summary>Gets a value indicating whether gradients touch few rows and the touched rows are recorded.</summary>
    public bool HasSparseRows { get; }

    /// <summary>Gets the number of rows (the first dimension of <see cref="Value"/>).</summary>
    public int Rows => Value.Rows;

    /// <summary>Gets the number of elements.</summary>
    public int Length => Value.Length;

    /// <summary>
    /// Gets the rows whose gradient may be non-zero since the last <see cref="ZeroGradient"/>, in the order
    /// they were first touched (sparse parameters only; empty for dense ones).
    /// </summary>
    public ReadOnlySpan<int> TouchedRows => _touchedRows.AsSpan(0, _touchedCount);

    /// <summary>Records that a backward pass wrote gradient into <paramref name="row"/> (sparse parameters only).</summary>
    /// <param name="row">The row, in [0, <see cref="Rows"/>).</param>
    /// <exception cref="InvalidOperationException">The parameter is dense.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is out of range.</exception>
    public void MarkRowTouched(int row)
    {
        if (!HasSparseRows)
        {
            throw new InvalidOperationException($"Parameter '{Name}' is dense; only sparse-row parameters record touched rows.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        if (_touched[row])
        {
            return;
        }

        _touched[row] = true;
        if (_touchedCount == _touchedRows.Length)
        {
            Array.Resize(ref _touchedRows, Math.Min(Math.Max(_touchedRows.Length * 2, 16), Math.Max(Rows, 16)));
        }

        _touchedRows[_touchedCount++] = row;
    }

    /// <summary>
    /// Clears the gradient: only the touched rows for a sparse parameter, everything for a dense one.
    /// </summary>
    public void ZeroGradient()
    {
        if (!HasSparseRows)
        {
            Gradient.Span.Clear();
            return;
        }

        Span<float> gradient = Gradient.Span;
        int rowLength = Gradient.RowLength;
        if (_touchedCount > Rows / 16)
        {
            // Many rows: sweep the marks in ascending order, so the clears stream through memory instead of
            // jumping between random rows of a table larger than the caches.
            for (int row = 0; row < _touched.Length; row++)
            {
                if (_touched[row])
                {
                    gradient.Slice(row * rowLength, rowLength).Clear();
                    _touched[row] = false;
                }
            }
        }
        else
        {
            for (int i = 0; i < _touchedCount; i++)
            {
                int row = _touchedRows[i];
                gradient.Slice(row * rowLength, rowLength).Clear();
                _touched[row] = false;
            }
        }

        _touchedCount = 0;
    }

    /// <summary>
    /// Forgets the touched-row record without clearing any gradient: for an optimizer that has already cleared
    /// each touched row itself (see <c>Optimizer.StepAndZeroGrad</c>).
    /// </summary>
    internal void ForgetTouchedRows()
    {
        for (int i = 0; i < _touchedCount; i++)
        {
            _touched[_touchedRows[i]] = false;
        }

        _touchedCount = 0;
    }

    /// <summary>
    /// Appends rows so that the parameter has <paramref name="newRowCount"/> rows; existing rows (and their
    /// gradients) are kept bit-identical and the new rows are initialised by <paramref name="initializeRows"/>.
    /// </summary>
    /// <param name="newRowCount">The new number of rows; not less than <see cref="Rows"/>.</param>
    /// <param name="initializeRows">Fills the new rows' values (row-major, <c>(newRowCount - Rows) × RowLength</c>); null leaves them zero.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newRowCount"/> is smaller than <see cref="Rows"/>.</exception>
    public void GrowRows(int newRowCount, SpanAction? initializeRows = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(newRowCount, Rows);
        if (newRowCount == Rows)
        {
            return;
        }

        int[] shape = ShapeOf(Value);
        shape[0] = newRowCount;
        var value = new Tensor(shape);
        var gradient = new Tensor(shape);
        Value.Span.CopyTo(value.Span);
        Gradient.Span.CopyTo(gradient.Span);
        initializeRows?.Invoke(value.Span[Value.Length..]);
        Value = value;
        Gradient = gradient;
        if (HasSparseRows)
        {
            Array.Resize(ref _touched, newRowCount);
        }
    }

    /// <summary>Returns <c>Name</c> and shape.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => $"{Name} {Value}";

    private static int[] ShapeOf(Tensor tensor) => tensor.Shape.ToArray();
}

/// <summary>Fills a span (used to initialise new rows of a growing parameter).</summary>
/// <param name="destination">The elements to fill.</param>
public delegate void SpanAction(Span<float> destination);

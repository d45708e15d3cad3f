using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Nn;

/// <summary>
/// A lookup table of learnable vectors, one row per id (users, items, tokens, positions), with sparse row
/// gradients and the ability to grow.
/// </summary>
/// <remarks>
/// <para>
/// Not a <see cref="Layer"/>: its input is a span of ids, not a tensor. <see cref="Forward(ReadOnlySpan{int})"/>
/// gathers the rows (and keeps a copy of the ids); <see cref="Backward"/> scatter-adds the output gradient
/// into the rows of <see cref="Weight"/>'s gradient that the ids touched and records them with
/// <see cref="Parameter.MarkRowTouched"/>, so zeroing and lazy optimizers cost O(rows touched), not O(table).
/// Repeated ids accumulate.
/// </para>
/// <para>
/// <b>Initialisation</b>: truncated normal, σ = 1/√dimensions, cut at 2σ, so a row has expected squared norm
/// of about 0.77 whatever the dimension and dot products between rows start near 0 with unit-order spread.
/// New rows added by <see cref="Grow"/> are drawn the same way from the same <see cref="Random"/>.
/// </para>
/// <para>
/// <b>Padding</b>: when a padding index is given, its row is zero, looking it up yields a zero vector,
/// and its gradient is never written (it stays exactly 0, and the row is not marked touched), so padded
/// positions of a batch neither learn nor leak into other rows.
/// </para>
/// </remarks>
public sealed class Embedding : Module
{
    private readonly Random _random;
    private readonly SpanAction _initializeRows;
    private readonly Workspace _output = new();
    private readonly Workspace _output3 = new();
    private int[] _ids = [];
    private int _idCount = -1;
    private bool _lastHadPadding;
    private Tensor? _lastOutput;

    /// <summary>Creates an embedding table.</summary>
    /// <param name="count">Number of rows (ids); positive.</param>
    /// <param name="dimensions">Length of each vector; positive.</param>
    /// <param name="random">The seeded source of randomness for the initial rows and for rows added by <see cref="Grow"/>; kept by the table.</param>
    /// <param name="paddingIndex">An id whose vector is always zero and never learns; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="count"/> or <paramref name="dimensions"/> is not positive, or <paramref name="paddingIndex"/>
    /// is outside [0, <paramref name="count"/>).
    /// </exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public Embedding(int count, int dimensions, Random random, int? paddingIndex = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentNullException.ThrowIfNull(random);
        if (paddingIndex is int pad && (pad < 0 || pad >= count))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), pad,
                $"'{nameof(paddingIndex)}' must be in [0, {count}) but was {pad}.");
        }

        Dimensions = dimensions;
        PaddingIndex = paddingIndex;
        _random = random;
        _initializeRows = InitializeRows;

        var weight = new Tensor(count, dimensions);
        InitializeRows(weight.Span);
        if (paddingIndex is int p)
        {
            weight.Row(p).Clear();
        }

        Weight = AddParameter(new Parameter("weight", weight, sparseRows: true));
    }

    /// <summary>Gets the table, shape <c>(Count, Dimensions)</c>, registered as <c>weight</c> with sparse row gradients.</summary>
    /// <remarks>Its <see cref="Parameter.Value"/> is replaced by a larger tensor when the table grows.</remarks>
    public Parameter Weight { get; }

    /// <summary>Gets the number of rows (valid ids are 0 … Count − 1).</summary>
    public int Count => Weight.Rows;

    /// <summary>Gets the length of each vector.</summary>
    public int Dimensions { get; }

    /// <summary>Gets the padding id, or null if the table has none.</summary>
    public int? PaddingIndex { get; }

    /// <summary>Looks up the vectors of <paramref name="ids"/>: row <c>i</c> of the result is the row of <c>ids[i]</c>.</summary>
    /// <param name="ids">Ids in [0, <see cref="Count"/>); repeats allowed. A copy is kept for <see cref="Backward"/>.</param>
    /// <returns>Shape <c>(ids.Length, Dimensions)</c> (owned by the table; valid until the next forward).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="Count"/>) (the message names its position and value); nothing is changed.</exception>
    public Tensor Forward(ReadOnlySpan<int> ids)
    {
        ValidateIds(ids);
        return Lookup(ids, _output.Get(ids.Length, Dimensions));
    }

    /// <summary>
    /// Looks up a batch of id sequences stored row-major: <c>ids[b·length + t]</c> is position t of sequence b.
    /// </summary>
    /// <param name="ids">Exactly <c>batch · length</c> ids in [0, <see cref="Count"/>). A copy is kept for <see cref="Backward"/>.</param>
    /// <param name="batch">Number of sequences; non-negative.</param>
    /// <param name="length">Positions per sequence; non-negative.</param>
    /// <returns>Shape <c>(batch, length, Dimensions)</c> (owned by the table; valid until the next forward).</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="batch"/> or <paramref name="length"/> is negative, or an id is outside [0, <see cref="Count"/>).
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="ids"/> does not have <c>batch · length</c> elements.</exception>
    public Tensor Forward(ReadOnlySpan<int> ids, int batch, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if ((long)batch * length != ids.Length)
        {
            CoreLayerChecks.ThrowArgument(nameof(ids),
                $"'{nameof(ids)}' has {ids.Length} elements but batch {batch} × length {length} needs {(long)batch * length}.");
        }

        ValidateIds(ids);
        return Lookup(ids, _output3.Get(batch, length, Dimensions));
    }

    /// <summary>
    /// Adds row <c>i</c> of <paramref name="gradOutput"/> into the gradient row of the <c>i</c>-th id of the last
    /// forward pass (repeats accumulate) and marks those rows touched; the padding id is skipped.
    /// </summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output; nothing is changed.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public void Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (_idCount < 0)
        {
            throw CoreLayerChecks.NoForward(nameof(Embedding));
        }

        CoreLayerChecks.RequireSameShape(gradOutput, _lastOutput!, nameof(Embedding));

        ReadOnlySpan<int> ids = _ids.AsSpan(0, _idCount);
        ReadOnlySpan<float> source = gradOutput.Span;
        Span<float> gradient = Weight.Gradient.Span;
        int d = Dimensions;
        if (!_lastHadPadding)
        {
            Kernels.ScatterAddRows(source, d, ids, gradient);
            for (int i = 0; i < ids.Length; i++)
            {
                Weight.MarkRowTouched(ids[i]);
            }

            return;
        }

        // Padding present: the same scatter-add, row by row, skipping the padding id so its gradient stays 0.
        int pad = PaddingIndex.GetValueOrDefault();
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == pad)
            {
                continue;
            }

            Span<float> row = gradient.Slice(id * d, d);
            Kernels.Add(row, source.Slice(i * d, d), row);
            Weight.MarkRowTouched(id);
        }
    }

    /// <summary>
    /// Appends rows so the table has <paramref name="newCount"/> ids. Existing rows (values and gradients) stay
    /// bit-identical; new rows are drawn like the initial ones from the table's <see cref="Random"/>.
    /// </summary>
    /// <param name="newCount">The new number of rows; not less than <see cref="Count"/> (equal is a no-op).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newCount"/> is less than <see cref="Count"/>.</exception>
    public void Grow(int newCount)
    {
        if (newCount < Count)
        {
            throw new ArgumentOutOfRangeException(nameof(newCount), newCount,
                $"'{nameof(newCount)}' must be at least the current count {Count} (tables only grow) but was {newCount}.");
        }

        Weight.GrowRows(newCount, _initializeRows);
    }

    private void InitializeRows(Span<float> destination) =>
        Init.TruncatedNormal(destination, 1f / MathF.Sqrt(Dimensions), _random);

    private void ValidateIds(ReadOnlySpan<int> ids)
    {
        int count = Count;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)count)
            {
                ThrowIdOutOfRange(nameof(ids), i, ids[i], count);
            }
        }
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIdOutOfRange(string paramName, int position, int id, int count) =>
        throw new ArgumentOutOfRangeException(paramName, id, $"{paramName}[{position}] = {id} is outside the table's range [0, {count}).");

    private Tensor Lookup(ReadOnlySpan<int> ids, Tensor output)
    {
        Kernels.GatherRows(Weight.Value.Span, Dimensions, ids, output.Span);
        bool hadPadding = false;
        if (PaddingIndex is int pad)
        {
            // The padding row is zero by construction, but an optimizer's weight decay or a checkpoint could have
            // written it; the contract is a zero vector, so clear those output rows explicitly.
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] == pad)
                {
                    // Slice by id position, not Row(i): a (batch, length, d) output's Row is a whole sequence.
                    output.Span.Slice(i * Dimensions, Dimensions).Clear();
                    hadPadding = true;
                }
            }
        }

        if (_ids.Length < ids.Length)
        {
            _ids = new int[ids.Length];
        }

        ids.CopyTo(_ids);
        _idCount = ids.Length;
        _lastHadPadding = hadPadding;
        _lastOutput = output;
        return output;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward(ReadOnlySpan{int})"/>: gathers the rows of
    /// <paramref name="ids"/> from <paramref name="table"/> into the caller's <paramref name="destination"/> and zeroes
    /// the rows of the padding id, keeping no copy of anything. Bit-identical to the forward lookup.
    /// </summary>
    /// <param name="table">The weights: (rows, dimensions).</param>
    /// <param name="dimensions">The row width.</param>
    /// <param name="ids">Ids in [0, rows).</param>
    /// <param name="paddingIndex">The padding id, or -1 for none.</param>
    /// <param name="destination">Receives (ids.Length, dimensions).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the table.</exception>
    internal static void Infer(ReadOnlySpan<float> table, int dimensions, ReadOnlySpan<int> ids, int paddingIndex, Span<float> destination)
    {
        Kernels.GatherRows(table, dimensions, ids, destination);
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] == paddingIndex)
            {
                destination.Slice(i * dimensions, dimensions).Clear();
            }
        }
    }
}

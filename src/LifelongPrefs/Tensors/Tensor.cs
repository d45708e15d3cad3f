using System.Text;

namespace LifelongPrefs.Tensors;

/// <summary>
/// A dense <see cref="float"/> tensor: a shape over contiguous row-major storage. Views made by
/// <see cref="Reshape(int[])"/>, <see cref="Slice(int, int)"/> and <see cref="Row(int)"/> share the storage
/// instead of copying it, so writing through a view writes the original.
/// </summary>
/// <remarks>
/// A tensor is a plain buffer: it does no synchronisation, so concurrent writers (or a writer and readers)
/// must be coordinated by the caller. The kernels in <see cref="Kernels"/> work on its <see cref="Span"/>.
/// </remarks>
public sealed class Tensor
{
    private readonly float[] _storage;
    private readonly int _offset;
    private readonly int[] _shape;
    private readonly int _length;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    /// <param name="shape">The extent of each dimension; at least one dimension, none negative.</param>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or the element count overflows <see cref="int"/>.</exception>
    public Tensor(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = ValidatedShape(shape);
        _length = ElementCount(_shape);
        _storage = new float[_length];
        _offset = 0;
    }

    private Tensor(float[] storage, int offset, int[] shape)
    {
        _storage = storage;
        _offset = offset;
        _shape = shape;
        _length = ElementCount(shape);
    }

    /// <summary>
    /// Wraps an existing array (without copying) as a tensor of the given shape; later writes to either are
    /// visible through the other.
    /// </summary>
    /// <param name="data">The storage; its length must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The extent of each dimension.</param>
    /// <returns>A tensor over <paramref name="data"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">The shape is empty or does not match the data's length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        int[] validated = ValidatedShape(shape);
        int count = ElementCount(validated);
        if (count != data.Length)
        {
            ThrowHelper.ThrowArgument(nameof(shape),
                $"Shape {FormatShape(validated)} holds {count} elements but '{nameof(data)}' has {data.Length}.");
        }

        return new Tensor(data, 0, validated);
    }

    /// <summary>Gets the extent of each dimension (row-major: the last dimension is contiguous).</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Gets the number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Gets the total number of elements.</summary>
    public int Length => _length;

    /// <summary>Gets the extent of the first dimension (the number of rows when read as a matrix).</summary>
    public int Rows => _shape[0];

    /// <summary>Gets the number of elements in one row: the product of every dimension after the first.</summary>
    public int RowLength => _shape.Length == 1 ? 1 : ElementCount(_shape.AsSpan(1));

    /// <summary>Gets the elements in row-major order.</summary>
    public Span<float> Span => _storage.AsSpan(_offset, _length);

    /// <summary>Gets or sets the element at a row and column of a rank-2 tensor.</summary>
    /// <param name="row">Row index.</param>
    /// <param name="column">Column index.</param>
    /// <exception cref="InvalidOperationException">The tensor is not rank 2.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside its dimension.</exception>
    public float this[int row, int column]
    {
        get => _storage[FlatIndex(row, column)];
        set => _storage[FlatIndex(row, column)] = value;
    }

    /// <summary>Gets the elements of row <paramref name="index"/> (all trailing dimensions, flattened).</summary>
    /// <param name="index">The row, in [0, <see cref="Rows"/>).</param>
    /// <returns>A span over the row's storage.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Rows"/>).</exception>
    public Span<float> Row(int index)
    {
        CheckIndex(index, _shape[0], nameof(index));
        int rowLength = RowLength;
        return _storage.AsSpan(_offset + index * rowLength, rowLength);
    }

    /// <summary>Returns a view with a different shape over the same elements (no copy).</summary>
    /// <param name="shape">The new shape; its element count must equal <see cref="Length"/>.</param>
    /// <returns>A tensor sharing this tensor's storage.</returns>
    /// <exception cref="ArgumentException">The new shape is empty or holds a different number of elements.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int[] validated = ValidatedShape(shape);
        if (ElementCount(validated) != Length)
        {
            ThrowHelper.ThrowArgument(nameof(shape),
                $"Cannot reshape {FormatShape(_shape)} ({Length} elements) to {FormatShape(validated)} ({ElementCount(validated)} elements).");
        }

        return new Tensor(_storage, _offset, validated);
    }

    /// <summary>Returns a view of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) along the first dimension (no copy).</summary>
    /// <param name="start">First row of the view.</param>
    /// <param name="count">Number of rows in the view.</param>
    /// <returns>A tensor sharing this tensor's storage.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside [0, <see cref="Rows"/>].</exception>
    public Tensor Slice(int start, int count)
    {
        if ((uint)start > (uint)_shape[0])
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(start), start, $"'{nameof(start)}' must be in [0, {_shape[0]}] but was {start}.");
        }

        if ((uint)count > (uint)(_shape[0] - start))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count,
                $"'{nameof(count)}' must be in [0, {_shape[0] - start}] for start {start} but was {count}.");
        }

        int[] shape = (int[])_shape.Clone();
        shape[0] = count;
        return new Tensor(_storage, _offset + start * RowLength, shape);
    }

    /// <summary>Returns a new tensor with the same shape and a copy of the elements.</summary>
    /// <returns>An independent copy.</returns>
    public Tensor Clone()
    {
        var copy = new Tensor(_shape);
        Span.CopyTo(copy.Span);
        return copy;
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    /// <param name="value">The value to store.</param>
    public void Fill(float value) => Span.Fill(value);

    /// <summary>Returns the shape, e.g. <c>Tensor[256, 64]</c>.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => "Tensor" + FormatShape(_shape);

    private int FlatIndex(int row, int column)
    {
        if (_shape.Length != 2)
        {
            throw new InvalidOperationException($"The two-index indexer needs a rank-2 tensor, but this one has shape {FormatShape(_shape)}.");
        }

        CheckIndex(row, _shape[0], nameof(row));
        CheckIndex(column, _shape[1], nameof(column));
        return _offset + row * _shape[1] + column;
    }

    private static void CheckIndex(int index, int extent, string name)
    {
        if ((uint)index >= (uint)extent)
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, index, $"'{name}' must be in [0, {extent}) but was {index}.");
        }
    }

    private static int[] ValidatedShape(int[] shape)
    {
        if (shape.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(shape), "A tensor needs at least one dimension.");
        }

        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(shape), shape[i], $"Dimension {i} of the shape is {shape[i]}; dimensions must be non-negative.");
            }
        }

        long count = 1;
        foreach (int dimension in shape)
        {
            count *= dimension;
            if (count > Array.MaxLength)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(shape), FormatShape(shape), $"Shape {FormatShape(shape)} has more elements than an array can hold.");
            }
        }

        return (int[])shape.Clone();
    }

    private static int ElementCount(ReadOnlySpan<int> shape)
    {
        int count = 1;
        foreach (int dimension in shape)
        {
            count *= dimension;
        }

        return count;
    }

    private static string FormatShape(int[] shape)
    {
        var builder = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            builder.Append(i == 0 ? "" : ", ").Append(shape[i]);
        }

        return builder.Append(']').ToString();
    }
}

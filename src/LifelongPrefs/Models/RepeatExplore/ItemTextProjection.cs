using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>
/// <see cref="RepeatExplore"/>'s text embeddings: each described item's hashed text features x (<see cref="TextHasher"/>)
/// and a learned projection W (<see cref="Buckets"/> × width) with <c>Wᵀx</c> ≈ the item's learned rows — its output
/// row and bias, then its input row — so that an item nobody has bought yet gets rows from its description.
/// </summary>
/// <remarks>
/// <para>
/// <b>Learning.</b> One step regresses one item's rows on its features with the normalised least-mean-squares rule
/// (NLMS): <c>e = y − Wᵀx</c>, then <c>W[j] += μ·x_j·e</c> for the item's buckets j. Since ‖x‖ = 1 and an item's buckets
/// are distinct, the step moves the item's own prediction exactly the fraction μ of the way to y, and it is stable
/// for any 0 &lt; μ &lt; 2 whatever the targets' scale; it touches only the item's rows of W (lazy and sparse), so a
/// step costs (buckets of the item) × width multiply-adds. Targets with a non-finite value are skipped, so W stays
/// finite.
/// </para>
/// <para>
/// <b>Memory.</b> W is allocated with the first description: 2¹⁴ × (2d + 1) floats (8.5 MB at d = 64). Per
/// described item: its features (8 bytes per bucket, at most <see cref="TextHasher.MaxFeatures"/>; a typical product
/// title has 20–40). Everything is a function of the texts, the targets and the order of the steps: deterministic.
/// </para>
/// </remarks>
internal sealed class ItemTextProjection
{
    /// <summary>Hashed feature buckets (rows of W).</summary>
    internal const int Buckets = 1 << 14;

    /// <summary>NLMS step size μ.</summary>
    internal const float StepSize = 0.25f;

    private readonly int _width;
    private readonly uint _seed;
    private readonly List<int> _described = [];
    private readonly List<int> _fresh = [];
    private readonly float[] _error;
    private int[]?[] _indices = [];
    private float[]?[] _values = [];
    private float[] _weights = [];
    private readonly List<(int Item, float Lift)> _lifts = [];

    /// <summary>Creates an empty projection.</summary>
    /// <param name="width">The width of the rows it predicts.</param>
    /// <param name="seed">The hash seed of the features.</param>
    internal ItemTextProjection(int width, int seed)
    {
        (_width, _seed) = (width, unchecked((uint)seed));
        _error = new float[width];
    }

    /// <summary>Gets the width of a predicted row.</summary>
    internal int Width => _width;

    /// <summary>Gets the items with a description, in the order their first description arrived.</summary>
    internal IReadOnlyList<int> Described => _described;

    /// <summary>Gets the items described since <see cref="ClearFresh"/>.</summary>
    internal IReadOnlyList<int> Fresh => _fresh;

    /// <summary>Gets the number of learning steps since the last <see cref="Reset"/>.</summary>
    internal long Steps { get; private set; }

    /// <summary>Gets or sets the position in <see cref="Described"/> where the next round of learning steps starts.</summary>
    internal int TrainCursor { get; set; }

    /// <summary>Gets or sets the position in <see cref="Described"/> where the next round of row refreshes starts.</summary>
    internal int RefreshCursor { get; set; }

    /// <summary>Whether <paramref name="item"/> has a description with at least one feature.</summary>
    internal bool Has(int item) => item < _indices.Length && _indices[item] is { Length: > 0 };

    /// <summary>Hashes and keeps <paramref name="text"/> as the item's description (replacing an earlier one).</summary>
    internal void Set(int item, string text)
    {
        Span<int> indices = stackalloc int[TextHasher.MaxFeatures];
        Span<float> values = stackalloc float[TextHasher.MaxFeatures];
        int n = TextHasher.Hash(text, Buckets, _seed, indices, values);
        if (item >= _indices.Length)
        {
            int size = (int)Math.Min(Math.Max(item + 1L, 2L * _indices.Length), Array.MaxLength);
            Array.Resize(ref _indices, size);
            Array.Resize(ref _values, size);
        }

        if (_indices[item] is null)
        {
            _described.Add(item);
        }

        (_indices[item], _values[item]) = (indices[..n].ToArray(), values[..n].ToArray());
        _fresh.Add(item);
        if (_weights.Length == 0)
        {
            _weights = new float[Buckets * _width];
        }
    }

    /// <summary>Gets the bias lifts the published rows carry (see <c>RepeatExplore.Shift</c>).</summary>
    internal IReadOnlyList<(int Item, float Lift)> Lifts => _lifts;

    /// <summary>Records that <paramref name="item"/>'s bias carries <paramref name="lift"/>.</summary>
    internal void Lifted(int item, float lift) => _lifts.Add((item, lift));

    /// <summary>Forgets the lifts (after they were taken off).</summary>
    internal void ClearLifts() => _lifts.Clear();

    /// <summary>Forgets which items were described recently (after their rows were written).</summary>
    internal void ClearFresh() => _fresh.Clear();

    /// <summary>Writes <c>Wᵀx</c> of a described item into <paramref name="destination"/> (<see cref="Width"/> values).</summary>
    internal void Predict(int item, Span<float> destination)
    {
        destination[.._width].Clear();
        int[] indices = _indices[item]!;
        float[] values = _values[item]!;
        for (int k = 0; k < indices.Length; k++)
        {
            ReadOnlySpan<float> row = _weights.AsSpan(indices[k] * _width, _width);
            TensorPrimitives.MultiplyAdd(row, values[k], destination[.._width], destination[.._width]);
        }
    }

    /// <summary>One NLMS step towards <paramref name="target"/> (<see cref="Width"/> values); skipped if a target is not finite.</summary>
    internal void Step(int item, ReadOnlySpan<float> target)
    {
        Predict(item, _error);
        for (int c = 0; c < _width; c++)
        {
            if (!float.IsFinite(target[c]))
            {
                return;
            }

            _error[c] = StepSize * (target[c] - _error[c]);
        }

        int[] indices = _indices[item]!;
        float[] values = _values[item]!;
        for (int k = 0; k < indices.Length; k++)
        {
            Span<float> row = _weights.AsSpan(indices[k] * _width, _width);
            TensorPrimitives.MultiplyAdd(_error, values[k], row, row);
        }

        Steps++;
    }

    /// <summary>Returns the projection to zero (a new model's), keeping the descriptions; all of them count as fresh.</summary>
    internal void Reset()
    {
        Array.Clear(_weights);
        (Steps, TrainCursor, RefreshCursor) = (0, 0, 0);
        _lifts.Clear();
        _fresh.Clear();
        _fresh.AddRange(_described);
    }

    /// <summary>Forgets everything, descriptions included.</summary>
    internal void Clear()
    {
        (_indices, _values, _weights) = ([], [], []);
        _described.Clear();
        Reset();
    }

    /// <summary>The state to save: the described items in order, their features as CSR rows, W, the counters.</summary>
    internal (int[] Items, int[] Offsets, int[] Columns, float[] Values, float[] Weights, long Steps, int TrainCursor, int RefreshCursor) Export()
    {
        var offsets = new int[_described.Count + 1];
        var columns = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < _described.Count; r++)
        {
            columns.AddRange(_indices[_described[r]]!);
            values.AddRange(_values[_described[r]]!);
            offsets[r + 1] = columns.Count;
        }

        return ([.. _described], offsets, [.. columns], [.. values], (float[])_weights.Clone(), Steps, TrainCursor, RefreshCursor);
    }

    /// <summary>Replaces the whole state by a validated saved one (see <see cref="Export"/>).</summary>
    internal void Import(int[] items, int[] offsets, int[] columns, float[] values, float[] weights, long steps, int trainCursor, int refreshCursor)
    {
        Clear();
        int size = items.Length == 0 ? 0 : items.Max() + 1;
        (_indices, _values) = (new int[]?[size], new float[]?[size]);
        for (int r = 0; r < items.Length; r++)
        {
            _indices[items[r]] = columns[offsets[r]..offsets[r + 1]];
            _values[items[r]] = values[offsets[r]..offsets[r + 1]];
            _described.Add(items[r]);
        }

        _weights = weights;
        (Steps, TrainCursor, RefreshCursor) = (steps, trainCursor, refreshCursor);
        _fresh.Clear();
    }
}

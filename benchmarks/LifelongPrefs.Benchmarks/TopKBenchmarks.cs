using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Top-10 of 100 000 scores, the final step of recommending from a full catalogue.
/// </summary>
/// <remarks>
/// Baseline: <see cref="FullSort"/>, sort everything and take the head. Sorting works in place and would
/// destroy the scores (and leave the next invocation an already sorted input), so the baseline first
/// copies them into preallocated buffers; that copy is part of the baseline's measured cost, as it
/// would be in real use. Keys are negated while copying so an ascending sort yields descending scores.
/// </remarks>
[MemoryDiagnoser]
public class TopKBenchmarks
{
    private const int Count = 100_000;
    private const int K = 10;
    private const int Seed = 314159;

    private float[] _scores = [];
    private int[] _indices = [];
    private float[] _values = [];

    private float[] _sortKeys = [];
    private int[] _sortItems = [];
    private int[] _identity = [];

    [GlobalSetup(Target = nameof(FullSort))]
    public void SetupFullSort() => Setup();

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs()
    {
        Setup();

        // Check against the sort once before timing. Random.NextSingle has only 2^24 values, so 100 000
        // draws contain ties; the comparison is by value, plus by index where the value is unique, because
        // Array.Sort is unstable while our kernel breaks ties by lower index.
        FullSort();
        int[] expectedIndices = (int[])_indices.Clone();
        float[] expectedValues = (float[])_values.Clone();
        _indices.AsSpan().Fill(-1);
        _values.AsSpan().Fill(float.NaN);

        int found = Ours();
        if (found != K)
        {
            throw new InvalidOperationException($"TopK returned {found} instead of {K}.");
        }

        for (int j = 0; j < K; j++)
        {
            bool tied = _scores.AsSpan().Count(expectedValues[j]) > 1;
            if (_values[j] != expectedValues[j] || (!tied && _indices[j] != expectedIndices[j]))
            {
                throw new InvalidOperationException(
                    $"TopK[{j}] = ({_indices[j]}, {_values[j]}) but sorting gives ({expectedIndices[j]}, {expectedValues[j]}).");
            }
        }
    }

    /// <summary>LifelongPrefs' selection kernel.</summary>
    [Benchmark]
    public int Ours() => Kernels.TopK(_scores, _indices, _values);

    /// <summary>Copy, sort all 100 000 (key, index) pairs, keep the first ten.</summary>
    [Benchmark(Baseline = true)]
    public int FullSort()
    {
        TensorPrimitives.Negate(_scores, _sortKeys);
        _identity.CopyTo(_sortItems, 0);
        Array.Sort(_sortKeys, _sortItems);

        for (int j = 0; j < K; j++)
        {
            _indices[j] = _sortItems[j];
            _values[j] = -_sortKeys[j];
        }

        return K;
    }

    private void Setup()
    {
        var random = new Random(Seed);
        _scores = new float[Count];
        for (int i = 0; i < _scores.Length; i++)
        {
            _scores[i] = (random.NextSingle() * 2f) - 1f;
        }

        _indices = new int[K];
        _values = new float[K];
        _sortKeys = new float[Count];
        _sortItems = new int[Count];
        _identity = new int[Count];
        for (int i = 0; i < _identity.Length; i++)
        {
            _identity[i] = i;
        }
    }
}

using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// "Score all items": a (50 000, 64) item-embedding table times one 64-dimensional user vector, the
/// step before top-K when recommending from the whole catalogue.
/// </summary>
/// <remarks>
/// <para>
/// The shape is written as a GEMM with N = 1 (MxKxN = 50000x64x1) so the GFLOP/s column applies. The
/// product is bound by memory bandwidth, not arithmetic: it streams 12.8 MB of items (more than the
/// L2 cache) per call, so read GFLOP/s × 2 as the GB/s of item data streamed (4 bytes per multiply-add).
/// </para>
/// <para>
/// Baseline: <see cref="Ours"/>, as in <see cref="GemmBenchmarks"/>: always present, so the Ratio of
/// the other rows reads "their time / ours".
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class GemvBenchmarks
{
    private const int Seed = 2718;

    /// <summary>50 000 items of dimension 64.</summary>
    public static IEnumerable<GemmShape> Shapes { get; } = [new GemmShape(M: 50_000, K: 64, N: 1)];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(50_000, 64, 1);

    private float[] _items = [];
    private float[] _query = [];
    private float[] _scores = [];

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs() => SetupAndVerify(Ours);

    [GlobalSetup(Target = nameof(OpenBlas))]
    public void SetupOpenBlas()
    {
        if (!Benchmarks.OpenBlas.IsAvailable)
        {
            throw new InvalidOperationException("OpenBLAS not found (apt-get install libopenblas0): " + Benchmarks.OpenBlas.Description);
        }

        Benchmarks.OpenBlas.SetNumThreads(1);
        SetupAndVerify(OpenBlas);
    }

    [GlobalSetup(Target = nameof(DotPerRow))]
    public void SetupDotPerRow() => SetupAndVerify(DotPerRow);

    [GlobalSetup(Target = nameof(Naive))]
    public void SetupNaive() => SetupAndVerify(Naive);

    /// <summary>LifelongPrefs' <see cref="Kernels.ScoreAll"/>.</summary>
    [Benchmark(Baseline = true)]
    public void Ours() => Kernels.ScoreAll(_items, _query, _scores);

    /// <summary>OpenBLAS <c>cblas_sgemv</c>, row-major, no transpose, one thread.</summary>
    [Benchmark]
    public void OpenBlas() => Benchmarks.OpenBlas.Sgemv(Shape.M, Shape.K, 1f, _items, Shape.K, _query, 0f, _scores);

    /// <summary>The obvious vectorised version: one <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per item.</summary>
    [Benchmark]
    public void DotPerRow()
    {
        ReadOnlySpan<float> items = _items, query = _query;
        Span<float> scores = _scores;
        int dimension = query.Length;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = TensorPrimitives.Dot(items.Slice(i * dimension, dimension), query);
        }
    }

    /// <summary>Scalar double loop.</summary>
    [Benchmark]
    public void Naive()
    {
        float[] items = _items, query = _query, scores = _scores;
        int dimension = query.Length;
        for (int i = 0; i < scores.Length; i++)
        {
            float sum = 0f;
            for (int p = 0; p < dimension; p++)
            {
                sum += items[(i * dimension) + p] * query[p];
            }

            scores[i] = sum;
        }
    }

    private void SetupAndVerify(Action run)
    {
        var random = new Random(Seed);
        _items = new float[Shape.M * Shape.K];
        _query = new float[Shape.K];
        for (int i = 0; i < _items.Length; i++)
        {
            _items[i] = (random.NextSingle() * 2f) - 1f;
        }

        for (int p = 0; p < _query.Length; p++)
        {
            _query[p] = (random.NextSingle() * 2f) - 1f;
        }

        _scores = new float[Shape.M];
        _scores.AsSpan().Fill(float.NaN);
        run();

        // Reference in double; a float dot of length K is within K·u·Σ|a·x| of it, u = 2^-24.
        const double unitRoundoff = 1.0 / (1 << 24);
        for (int i = 0; i < Shape.M; i++)
        {
            double exact = 0, magnitude = 0;
            for (int p = 0; p < Shape.K; p++)
            {
                double product = (double)_items[(i * Shape.K) + p] * _query[p];
                exact += product;
                magnitude += Math.Abs(product);
            }

            double bound = Shape.K * unitRoundoff * magnitude;
            if (!(Math.Abs(_scores[i] - exact) <= bound))
            {
                throw new InvalidOperationException($"score[{i}] = {_scores[i]} but the reference is {exact} (allowed error {bound:G3}).");
            }
        }
    }
}

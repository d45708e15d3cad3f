using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using LifelongPrefs.Tensors;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// C = A·B for row-major float matrices, A (M,K) and B (K,N), every implementation single-threaded.
/// </summary>
/// <remarks>
/// <para>
/// Baseline: <see cref="Ours"/>. It is the one row that always runs (OpenBLAS may be absent and is then
/// filtered out, and the naive loop is skipped at 1024³), so the Ratio column is always defined and
/// reads "time of this implementation / time of ours": OpenBLAS at 0.5 is twice as fast as us, MathNet
/// at 3.0 is three times slower. The GFLOP/s column compares implementations in absolute terms.
/// </para>
/// <para>
/// Each (method, shape) pair runs in its own process, and each method has its own
/// <c>[GlobalSetup]</c>, which builds the inputs from a fixed seed, runs the method once and checks
/// the product against a reference before any timing. A wrong or unfinished kernel therefore fails
/// its row instead of producing a fast but meaningless number.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private const int Seed = 4242;

    /// <summary>
    /// Squares, then the products one training step of the recommender performs:
    /// (256x64)·(64x256), (256x256)·(256x64) and (1024x128)·(128x128). Written MxKxN.
    /// </summary>
    public static IEnumerable<GemmShape> Shapes { get; } =
    [
        .. ((string[])["64x64x64", "128x128x128", "256x256x256", "512x512x512", BenchmarkConfig.LargestSquare,
            "256x64x256", "256x256x64", "1024x128x128"]).Select(GemmShape.Parse),
    ];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(64, 64, 64);

    private int _m;
    private int _k;
    private int _n;
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    // MathNet stores dense matrices column-major. Read column-major, the row-major A, B and C buffers are
    // Aᵀ (K,M), Bᵀ (N,K) and Cᵀ (N,M), and Cᵀ = Bᵀ·Aᵀ; wrapping the same arrays therefore computes the
    // same product with no copy and no transposition inside the timed region.
    private Matrix<float>? _mathNetAt;
    private Matrix<float>? _mathNetBt;
    private Matrix<float>? _mathNetCt;

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

    [GlobalSetup(Target = nameof(MathNet))]
    public void SetupMathNet()
    {
        // Pure managed provider, one thread: the same rules our kernel plays by.
        Control.UseManaged();
        Control.UseSingleThread();
        SetupAndVerify(MathNet);
    }

    [GlobalSetup(Target = nameof(IkjTensorPrimitives))]
    public void SetupIkj() => SetupAndVerify(IkjTensorPrimitives);

    [GlobalSetup(Target = nameof(Naive))]
    public void SetupNaive() => SetupAndVerify(Naive);

    /// <summary>LifelongPrefs' blocked SIMD GEMM on one thread.</summary>
    [Benchmark(Baseline = true)]
    public void Ours()
    {
        Kernels.Gemm(Transpose.None, Transpose.None, _m, _n, _k, 1f, _a, _k, _b, _n, 0f, _c, _n, maxDegreeOfParallelism: 1);
    }

    /// <summary>OpenBLAS <c>cblas_sgemm</c>, row-major, no transposes, one thread.</summary>
    [Benchmark]
    public void OpenBlas()
    {
        Benchmarks.OpenBlas.Sgemm(_m, _n, _k, 1f, _a, _k, _b, _n, 0f, _c, _n);
    }

    /// <summary>MathNet.Numerics 5 managed provider, single-threaded, into a preallocated result.</summary>
    [Benchmark]
    public void MathNet()
    {
        _mathNetBt!.Multiply(_mathNetAt!, _mathNetCt!);
    }

    /// <summary>
    /// The best one can do in a few lines with <see cref="TensorPrimitives"/>: i-k-j order, so every
    /// inner step is a contiguous axpy of a row of B into a row of C.
    /// </summary>
    [Benchmark]
    public void IkjTensorPrimitives() => MultiplyIkj(_a, _b, _c, _m, _k, _n);

    /// <summary>The textbook i-j-k triple loop: one dot product per element of C, walking B by column.</summary>
    [Benchmark]
    public void Naive()
    {
        int m = _m, k = _k, n = _n;
        float[] a = _a, b = _b, c = _c;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    sum += a[(i * k) + p] * b[(p * n) + j];
                }

                c[(i * n) + j] = sum;
            }
        }
    }

    private static void MultiplyIkj(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> cRow = c.Slice(i * n, n);
            cRow.Clear();
            for (int p = 0; p < k; p++)
            {
                // cRow = B[p,:]·A[i,p] + cRow; destination and addend are the same span, which
                // TensorPrimitives allows.
                TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), a[(i * k) + p], cRow, cRow);
            }
        }
    }

    private void SetupAndVerify(Action run)
    {
        (_m, _k, _n) = (Shape.M, Shape.K, Shape.N);

        var random = new Random(Seed);
        _a = RandomMatrix(random, _m * _k);
        _b = RandomMatrix(random, _k * _n);
        _c = new float[_m * _n];

        _mathNetAt = Matrix<float>.Build.Dense(_k, _m, _a);
        _mathNetBt = Matrix<float>.Build.Dense(_n, _k, _b);
        _mathNetCt = Matrix<float>.Build.Dense(_n, _m, _c);

        // Poison C so an implementation that silently does nothing cannot pass.
        _c.AsSpan().Fill(float.NaN);
        run();
        Verify();
    }

    private void Verify()
    {
        // Reference in float (i-k-j), with the standard forward-error bound for a length-K dot product:
        // |computed - exact| <= K·u·(|A|·|B|), u = 2^-24. Twice that covers the reference's own error.
        var expected = new float[_m * _n];
        var magnitude = new float[_m * _n];
        MultiplyIkj(_a, _b, expected, _m, _k, _n);
        float[] absA = Array.ConvertAll(_a, MathF.Abs);
        float[] absB = Array.ConvertAll(_b, MathF.Abs);
        MultiplyIkj(absA, absB, magnitude, _m, _k, _n);

        const double unitRoundoff = 1.0 / (1 << 24);
        for (int index = 0; index < expected.Length; index++)
        {
            double error = Math.Abs((double)_c[index] - expected[index]);
            double bound = 2.0 * _k * unitRoundoff * magnitude[index];
            if (!(error <= bound))
            {
                throw new InvalidOperationException(
                    $"{Shape}: C[{index / _n},{index % _n}] = {_c[index]} but the reference is {expected[index]} (allowed error {bound:G3}).");
            }
        }
    }

    private static float[] RandomMatrix(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2f) - 1f;
        }

        return values;
    }
}

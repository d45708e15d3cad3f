using FsCheck;
using FsCheck.Fluent;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Tensors;

public class GemmTests
{
    /// <summary>
    /// Plain triple loop in double precision on the stored (possibly transposed) operands: the oracle.
    /// It also returns, per element, alpha·Σ|a||b| + |beta·c|, the scale the rounding error is relative to.
    /// </summary>
    private static (double[] Value, double[] Scale) Reference(bool aT, bool bT, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var value = new double[c.Length];
        var scale = new double[c.Length];
        for (int i = 0; i < c.Length; i++)
        {
            value[i] = c[i];
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = aT ? a[p * lda + i] : a[i * lda + p];
                    double bv = bT ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                    abs += Math.Abs(av * bv);
                }

                double previous = beta == 0f ? 0 : beta * (double)c[i * ldc + j];
                value[i * ldc + j] = alpha * sum + previous;
                scale[i * ldc + j] = Math.Abs(alpha) * abs + Math.Abs(previous);
            }
        }

        return (value, scale);
    }

    /// <summary>
    /// Float accumulation of k products has a worst-case error of about k·ε·Σ|a·b| and a typical one of
    /// √k·ε·Σ|a·b| (ε = 6e-8). We allow 1e-5·√k relative to Σ|a·b| (plus 1e-6 absolute): loose enough
    /// for every summation order, yet dropping or doubling even one of k ≤ 600 products of similar size
    /// (a change of about Σ|a·b|/k) exceeds it.
    /// </summary>
    private static void AssertMatches(bool aT, bool bT, int m, int n, int k, float alpha, float[] a, int lda,
        float[] b, int ldb, float beta, float[] c0, int ldc, float[] actual)
    {
        var (expected, scale) = Reference(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc);
        double rel = 1e-5 * Math.Sqrt(Math.Max(k, 1));
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double bound = 1e-6 + rel * scale[i];
            if (!(error <= bound))
            {
                Assert.Fail($"m={m} n={n} k={k} aT={aT} bT={bT} alpha={alpha} beta={beta}: element {i} (row {i / ldc}, col {i % ldc}) " +
                    $"expected {expected[i]:R}, got {actual[i]:R}, |error| {error:G3} > {bound:G3}");
            }
        }
    }

    private static void RunCase(bool aT, bool bT, int m, int n, int k, float alpha, float beta, int seed, int padA = 0, int padB = 0, int padC = 0)
    {
        int lda = (aT ? m : k) + padA, ldb = (bT ? k : n) + padB, ldc = n + padC;
        lda = Math.Max(lda, 1);
        ldb = Math.Max(ldb, 1);
        ldc = Math.Max(ldc, 1);
        float[] a = TestData.Uniform((aT ? k : m) * lda, seed);
        float[] b = TestData.Uniform((bT ? n : k) * ldb, seed + 1);
        float[] c0 = TestData.Uniform(m * ldc, seed + 2);
        float[] c = (float[])c0.Clone();
        Kernels.Gemm(aT ? Transpose.Transpose : Transpose.None, bT ? Transpose.Transpose : Transpose.None,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        AssertMatches(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, c);

        // Padding columns between rows of C are outside the matrix and must be untouched.
        for (int i = 0; i < m; i++)
        {
            for (int j = n; j < ldc; j++)
            {
                Assert.Equal(c0[i * ldc + j], c[i * ldc + j]);
            }
        }
    }

    public static TheoryData<int, bool, bool> WidthsAndTransposes()
    {
        var data = new TheoryData<int, bool, bool>();
        foreach (int width in new[] { 0, 256, 512 })
        {
            foreach (bool aT in new[] { false, true })
            {
                foreach (bool bT in new[] { false, true })
                {
                    data.Add(width, aT, bT);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndTransposes))]
    public void Matches_reference_on_awkward_shapes(int width, bool aT, bool bT)
    {
        SimdPaths.Run(width, () =>
        {
            int seed = 100;
            foreach (int m in TestData.AwkwardSizes)
            {
                foreach (int n in TestData.AwkwardSizes)
                {
                    foreach (int k in new[] { 1, 17, 65 })
                    {
                        RunCase(aT, bT, m, n, k, 1f, 0f, seed++);
                    }
                }
            }
        });
    }

    [Theory]
    [MemberData(nameof(WidthsAndTransposes))]
    public void Crosses_every_block_boundary(int width, bool aT, bool bT)
    {
        // MC + 1 rows, KC·2 + 3 inner (three k-blocks: beta must apply only on the first), and NR-unaligned columns.
        SimdPaths.Run(width, () =>
        {
            RunCase(aT, bT, GemmDriver.MC + 1, 37, 2 * GemmDriver.KC + 3, 0.5f, -0.75f, 7);
            RunCase(aT, bT, 13, GemmDriver.NC + 5, 3, 1f, 1f, 8);
        });
    }

    [Theory]
    [InlineData(0, 1f, 0f)]
    [InlineData(0, -0.5f, 1f)]
    [InlineData(0, 2f, 0.25f)]
    [InlineData(0, 0f, 0.5f)]
    [InlineData(256, 1f, 0f)]
    [InlineData(256, -0.5f, 1f)]
    [InlineData(256, 2f, 0.25f)]
    [InlineData(256, 0f, 0.5f)]
    [InlineData(512, -0.5f, 1f)]
    [InlineData(512, 2f, 0.25f)]
    public void Applies_alpha_and_beta_with_strided_operands(int width, float alpha, float beta)
    {
        SimdPaths.Run(width, () =>
        {
            foreach (bool aT in new[] { false, true })
            {
                foreach (bool bT in new[] { false, true })
                {
                    RunCase(aT, bT, 23, 41, 19, alpha, beta, 3, padA: 5, padB: 3, padC: 7);
                    RunCase(aT, bT, 64, 64, 64, alpha, beta, 4, padA: 1, padB: 0, padC: 2);
                }
            }
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(512)]
    public void Zero_beta_overwrites_NaN_in_C(int width)
    {
        SimdPaths.Run(width, () =>
        {
            const int m = 9, n = 35, k = 12;
            float[] a = TestData.Uniform(m * k, 1), b = TestData.Uniform(k * n, 2);
            float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            Kernels.Gemm(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, c, n);
            Assert.DoesNotContain(c, float.IsNaN);
            AssertMatches(false, false, m, n, k, 1f, a, k, b, n, 0f, new float[m * n], n, c);
        });
    }

    [Fact]
    public void Zero_inner_dimension_scales_C_by_beta()
    {
        float[] c = [1, 2, 3, 4, 5, 6];
        Kernels.Gemm(Transpose.None, Transpose.None, 2, 3, 0, 1f, [], 1, [], 3, 0.5f, c, 3);
        Assert.Equal([0.5f, 1, 1.5f, 2, 2.5f, 3], c);

        float[] d = [float.NaN, 2];
        Kernels.Gemm(Transpose.None, Transpose.None, 1, 2, 0, 1f, [], 1, [], 2, 0f, d, 2);
        Assert.Equal([0f, 0f], d);
    }

    [Fact]
    public void Empty_output_is_a_no_op()
    {
        Kernels.Gemm(Transpose.None, Transpose.None, 0, 5, 3, 1f, [], 3, new float[15], 5, 0f, [], 5);
        Kernels.Gemm(Transpose.None, Transpose.None, 4, 0, 3, 1f, new float[12], 3, [], 1, 0f, [], 1);
    }

    [Fact]
    public void Hand_computed_2x2()
    {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
        float[] c = new float[4];
        Kernels.MatMul([1, 2, 3, 4], [5, 6, 7, 8], c, 2, 2, 2);
        Assert.Equal([19f, 22f, 43f, 50f], c);
    }

    [Fact]
    public void Tensor_overload_infers_dimensions()
    {
        var a = Tensor.FromArray(TestData.Uniform(5 * 3, 1), 5, 3); // stored 5x3, used as Aᵀ: 3x5
        var b = Tensor.FromArray(TestData.Uniform(5 * 4, 2), 5, 4);
        var c = new Tensor(3, 4);
        Kernels.Gemm(a, Transpose.Transpose, b, Transpose.None, c);
        AssertMatches(true, false, 3, 4, 5, 1f, a.Span.ToArray(), 3, b.Span.ToArray(), 4, 0f, new float[12], 4, c.Span.ToArray());

        var wrong = new Tensor(4, 4);
        var error = Assert.Throws<ArgumentException>(() => Kernels.Gemm(a, Transpose.Transpose, b, Transpose.None, wrong));
        Assert.Equal("c", error.ParamName);
    }

    [Fact]
    public void Parallel_result_is_bit_identical_to_serial()
    {
        const int m = 600, n = 130, k = 300;
        float[] a = TestData.Uniform(m * k, 1), b = TestData.Uniform(k * n, 2);
        float[] serial = new float[m * n], parallel = new float[m * n];
        Kernels.Gemm(Transpose.None, Transpose.Transpose, m, n, k, 1f, a, k, b, k, 0f, serial, n);
        Kernels.Gemm(Transpose.None, Transpose.Transpose, m, n, k, 1f, a, k, b, k, 0f, parallel, n, maxDegreeOfParallelism: 2);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void Repeated_call_is_bit_identical()
    {
        const int m = 70, n = 90, k = 300;
        float[] a = TestData.Uniform(m * k, 5), b = TestData.Uniform(k * n, 6);
        float[] first = new float[m * n], second = new float[m * n];
        Kernels.Gemm(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, first, n);
        Kernels.Gemm(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, second, n);
        Assert.Equal(first, second);
    }

    /// <summary>
    /// (A·B)ᵀ = Bᵀ·Aᵀ, computed from the same storage through the transpose flags. With alpha = 1 each output
    /// element is the same products accumulated in the same order, so the results must be bit-identical.
    /// </summary>
    [FsCheck.Xunit.Property(MaxTest = 60)]
    public Property Transpose_identity_holds(PositiveInt mRaw, PositiveInt nRaw, PositiveInt kRaw, int seed, bool useVector)
    {
        int m = 1 + mRaw.Get % 40, n = 1 + nRaw.Get % 40, k = 1 + kRaw.Get % 70;
        float[] a = TestData.Uniform(m * k, seed), b = TestData.Uniform(k * n, seed ^ 0x5bd1e995);
        float[] c = new float[m * n], d = new float[n * m];
        SimdPaths.Run(useVector ? (int)Simd.Hardware : 0, () =>
        {
            Kernels.Gemm(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, c, n);
            // D (n×m) = op(B)·op(A) with op = transpose: the stored B (k×n) read as Bᵀ, the stored A (m×k) as Aᵀ.
            Kernels.Gemm(Transpose.Transpose, Transpose.Transpose, n, m, k, 1f, b, n, a, k, 0f, d, m);
        });

        bool same = true;
        for (int i = 0; i < m && same; i++)
        {
            for (int j = 0; j < n; j++)
            {
                same &= BitConverter.SingleToInt32Bits(c[i * n + j]) == BitConverter.SingleToInt32Bits(d[j * m + i]);
            }
        }

        return same.Label($"m={m} n={n} k={k} seed={seed}");
    }

    [Fact]
    public void Rejects_bad_arguments_naming_them()
    {
        float[] a = new float[12], b = new float[12], c = new float[9];
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, -1, 3, 4, 1f, a, 4, b, 3, 0f, c, 3)).ParamName);
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, a, 3, b, 3, 0f, c, 3)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, a, 4, b, 3, 0f, c, 2)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, a, 4, b.AsSpan(0, 11), 3, 0f, c, 3)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, a, 4, b, 3, 0f, c.AsSpan(0, 8), 3)).ParamName);
        Assert.Equal("transA", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Gemm((Transpose)7, Transpose.None, 3, 3, 4, 1f, a, 4, b, 3, 0f, c, 3)).ParamName);
        Assert.Equal("maxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, a, 4, b, 3, 0f, c, 3, 0)).ParamName);

        // C aliasing an input would read partially written results.
        float[] shared = new float[30];
        Assert.Equal("c", Assert.Throws<ArgumentException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, shared.AsSpan(0, 12), 4, b, 3, 0f, shared.AsSpan(10, 9), 3)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() =>
            Kernels.MatMul(a.AsSpan(0, 11), b, c, 3, 4, 3)).ParamName);
    }

    [Fact]
    public void Rejected_call_leaves_C_unchanged()
    {
        float[] c = TestData.Uniform(9, 3);
        float[] before = (float[])c.Clone();
        Assert.Throws<ArgumentException>(() =>
            Kernels.Gemm(Transpose.None, Transpose.None, 3, 3, 4, 1f, new float[12], 4, new float[11], 3, 0f, c, 3));
        Assert.Equal(before, c);
    }
}

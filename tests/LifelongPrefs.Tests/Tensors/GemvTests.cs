using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Tensors;

public class GemvTests
{
    /// <summary>Double-precision oracle for y = alpha·op(A)·x + beta·y, with the Σ|a·x| scale of each element.</summary>
    private static (double[] Value, double[] Scale) Reference(bool transposed, int m, int n, float alpha, float[] a, int lda, float[] x, float beta, float[] y)
    {
        int outLength = transposed ? n : m, inLength = transposed ? m : n;
        var value = new double[outLength];
        var scale = new double[outLength];
        for (int i = 0; i < outLength; i++)
        {
            double sum = 0, abs = 0;
            for (int p = 0; p < inLength; p++)
            {
                double av = transposed ? a[p * lda + i] : a[i * lda + p];
                sum += av * x[p];
                abs += Math.Abs(av * x[p]);
            }

            double previous = beta == 0f ? 0 : beta * (double)y[i];
            value[i] = alpha * sum + previous;
            scale[i] = Math.Abs(alpha) * abs + Math.Abs(previous);
        }

        return (value, scale);
    }

    // Same rule as GEMM: 1e-5·√(length) relative to Σ|a·x|, plus 1e-6 absolute.
    private static void AssertClose(double[] expected, double[] scale, float[] actual, int length, string context)
    {
        double rel = 1e-5 * Math.Sqrt(Math.Max(length, 1));
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = 1e-6 + rel * scale[i];
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"{context} [{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Matches_reference_for_both_orientations(int width)
    {
        SimdPaths.Run(width, () =>
        {
            int seed = 1;
            foreach (int m in TestData.AwkwardSizes)
            {
                foreach (int n in TestData.AwkwardSizes)
                {
                    foreach (bool transposed in new[] { false, true })
                    {
                        int lda = n + (m % 3);
                        float[] a = TestData.Uniform(m * lda, seed++);
                        float[] x = TestData.Uniform(transposed ? m : n, seed++);
                        float[] y0 = TestData.Uniform(transposed ? n : m, seed++);
                        float alpha = transposed ? -0.5f : 1.5f, beta = transposed ? 0.25f : 0f;
                        float[] y = (float[])y0.Clone();
                        Kernels.Gemv(transposed ? Transpose.Transpose : Transpose.None, m, n, alpha, a, lda, x, beta, y);
                        var (expected, scale) = Reference(transposed, m, n, alpha, a, lda, x, beta, y0);
                        AssertClose(expected, scale, y, transposed ? m : n, $"m={m} n={n} T={transposed}");
                    }
                }
            }
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void ScoreAll_equals_row_dot_products(int width)
    {
        SimdPaths.Run(width, () =>
        {
            foreach (int dim in new[] { 1, 7, 8, 9, 31, 64, 100 })
            {
                foreach (int items in new[] { 0, 1, 3, 4, 5, 1001 })
                {
                    float[] table = TestData.Uniform(items * dim, dim * 31 + items);
                    float[] query = TestData.Uniform(dim, dim);
                    float[] scores = new float[items];
                    Kernels.ScoreAll(table, query, scores);
                    var (expected, scale) = Reference(false, items, dim, 1f, table, dim, query, 0f, new float[items]);
                    AssertClose(expected, scale, scores, dim, $"dim={dim} items={items}");
                }
            }
        });
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Infinite_element_gives_infinite_score_not_NaN(int width)
    {
        // dim 12 exercises the overlapping tail of the 8-wide loop: an infinity counted in the main loop
        // must not meet a zero mask in the tail (inf·0 = NaN).
        SimdPaths.Run(width, () =>
        {
            const int dim = 12;
            float[] table = TestData.Uniform(4 * dim, 3);
            float[] query = TestData.Uniform(dim, 4);
            query[5] = 1f;
            table[5] = float.PositiveInfinity;
            float[] scores = new float[4];
            Kernels.ScoreAll(table, query, scores);
            Assert.Equal(float.PositiveInfinity, scores[0]);
            Assert.All(scores.AsSpan(1).ToArray(), s => Assert.True(float.IsFinite(s)));
        });
    }

    [Fact]
    public void Rejects_bad_arguments_naming_them()
    {
        float[] a = new float[12];
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Kernels.Gemv(Transpose.None, 3, 4, 1f, a, 4, new float[3], 0f, new float[3])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Kernels.Gemv(Transpose.Transpose, 3, 4, 1f, a, 4, new float[3], 0f, new float[3])).ParamName);
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.Gemv(Transpose.None, 3, 4, 1f, a, 2, new float[4], 0f, new float[3])).ParamName);
        Assert.Equal("itemEmbeddings", Assert.Throws<ArgumentException>(() => Kernels.ScoreAll(new float[10], new float[4], new float[3])).ParamName);
        float[] shared = new float[20];
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Kernels.ScoreAll(shared.AsSpan(0, 12), new float[4], shared.AsSpan(10, 3))).ParamName);
    }
}

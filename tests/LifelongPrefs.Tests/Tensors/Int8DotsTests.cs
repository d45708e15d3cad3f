using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>
/// The int8 block kernel against a plain row-major integer dot product (exact, so every path must give the same
/// integers), and the check-free row dots against Gemv bit for bit.
/// </summary>
public class Int8DotsTests
{
    /// <summary>Packs a row-major (rows × 4·groups) byte matrix into the kernel's interleaved 8-row blocks.</summary>
    private static byte[] Pack(byte[,] matrix, int groups)
    {
        int rows = matrix.GetLength(0);
        var packed = new byte[rows * groups * 4];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < groups * 4; j++)
            {
                packed[(((r / 8 * groups) + (j / 4)) * 32) + (r % 8 * 4) + (j % 4)] = matrix[r, j];
            }
        }

        return packed;
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Block_dots_equal_the_row_major_integer_dots(int width) =>
        AgainstRowMajorDots((packed, x, groups, actual) => SimdPaths.Run(width, () => Kernels.Int8BlockDots(packed, x, groups, actual)));

    /// <summary>The AVX2 path, which a machine with AVX-VNNI never dispatches to, called directly.</summary>
    [Fact]
    public void The_avx2_block_dots_equal_the_row_major_integer_dots()
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // nothing to run: the dispatcher takes the scalar loop, covered above
        }

        AgainstRowMajorDots((packed, x, groups, actual) => Kernels.Int8BlockDotsAvx2(packed, x, groups, actual));
    }

    private static void AgainstRowMajorDots(Action<byte[], sbyte[], int, int[]> dots)
    {
        var random = new Random(11);
        foreach (int groups in new[] { 0, 1, 2, 3, 16, 17, 64 })
        {
            foreach (int blocks in new[] { 0, 1, 3, 4, 5, 9 })
            {
                int rows = blocks * 8, n = groups * 4;
                var matrix = new byte[rows, n];
                var x = new sbyte[n];
                for (int j = 0; j < n; j++)
                {
                    // The extremes too: 255 · −128 is the largest product VNNI must not saturate.
                    x[j] = j % 7 == 0 ? sbyte.MinValue : (sbyte)random.Next(-128, 128);
                    for (int r = 0; r < rows; r++)
                    {
                        matrix[r, j] = (r + j) % 5 == 0 ? byte.MaxValue : (byte)random.Next(256);
                    }
                }

                var expected = new int[rows];
                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        expected[r] += matrix[r, j] * x[j];
                    }
                }

                var actual = new int[rows];
                actual.AsSpan().Fill(-1); // the kernel overwrites
                dots(Pack(matrix, groups), x, groups, actual);
                Assert.Equal(expected, actual);
            }
        }
    }

    [Fact]
    public void Block_dots_reject_lengths_that_do_not_fit()
    {
        var ok = new byte[2 * 32];
        Assert.Throws<ArgumentException>(() => Kernels.Int8BlockDots(ok, new sbyte[8], 2, new int[7]));
        Assert.Throws<ArgumentException>(() => Kernels.Int8BlockDots(ok, new sbyte[7], 2, new int[8]));
        Assert.Throws<ArgumentException>(() => Kernels.Int8BlockDots(ok.AsSpan(1), new sbyte[8], 2, new int[8]));
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void Row_dots_equal_Gemv_bit_for_bit(int width)
    {
        foreach (int n in new[] { 1, 7, 8, 9, 64, 65 })
        {
            int lda = n + 1;
            for (int m = 0; m <= 9; m++)
            {
                float[] a = TestData.Uniform(Math.Max(m * lda, 1), seed: (m * 100) + n);
                float[] x = TestData.Uniform(n, seed: n);
                var expected = new float[m];
                var actual = new float[m];
                SimdPaths.Run(width, () =>
                {
                    Kernels.Gemv(Transpose.None, m, n, 1f, a.AsSpan(0, m == 0 ? 0 : ((m - 1) * lda) + n), lda, x, 0f, expected);
                    Kernels.RowDots(a.AsSpan(0, m == 0 ? 0 : ((m - 1) * lda) + n), lda, m, n, x, actual);
                });
                Assert.Equal(expected, actual);
            }
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void A_grouped_row_dot_equals_its_row_of_the_four_row_kernel_bit_for_bit(int width) => SimdPaths.Run(width, () =>
    {
        // Every length from one vector up (whole vectors and the overlapped masked tail), every row of a group of four;
        // on the scalar path (forced here, or without intrinsics) both take the plain loop.
        for (int n = 8; n <= 70; n++)
        {
            int lda = n + 3;
            float[] a = TestData.Uniform(4 * lda, seed: 500 + n);
            float[] x = TestData.Uniform(n, seed: 900 + n);
            var expected = new float[4];
            Kernels.RowDots(a.AsSpan(0, (3 * lda) + n), lda, 4, n, x, expected);
            for (int r = 0; r < 4; r++)
            {
                float actual = Kernels.GroupedRowDot(a.AsSpan(r * lda, n), x);
                Assert.True(BitConverter.SingleToInt32Bits(expected[r]) == BitConverter.SingleToInt32Bits(actual), $"n {n} row {r}: {actual} vs {expected[r]}");
            }
        }

        Assert.Throws<ArgumentException>(() => Kernels.GroupedRowDot(new float[7], new float[7]));
        Assert.Throws<ArgumentException>(() => Kernels.GroupedRowDot(new float[8], new float[9]));
    });
}

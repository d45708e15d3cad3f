using FsCheck.Xunit;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

public class ArithmeticTests
{
    // One rounding of float32: half an ulp relative.
    private const double U = 1.0 / (1 << 24);

    // Sum, difference and product of two floats are exact in double, so rounding the double
    // reference to float gives the correctly rounded IEEE result: the kernels must match it exactly.
    private static float RefAdd(float x, float y) => (float)((double)x + y);

    private static float RefSubtract(float x, float y) => (float)((double)x - y);

    private static float RefMultiply(float x, float y) => (float)((double)x * y);

    public static TheoryData<int> Widths => SimdPaths.All;

    [Theory]
    [MemberData(nameof(Widths))]
    public void Add_Subtract_Multiply_MatchCorrectlyRoundedReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 100f);
            float[] y = TestData.Uniform(n, seed: n + 7919, scale: 3f);
            var actual = new float[n];

            Kernels.Add(x, y, actual);
            AssertExact(x, y, actual, RefAdd, "Add", n);

            Kernels.Subtract(x, y, actual);
            AssertExact(x, y, actual, RefSubtract, "Subtract", n);

            Kernels.Multiply(x, y, actual);
            AssertExact(x, y, actual, RefMultiply, "Multiply", n);
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Scale_MatchesCorrectlyRoundedReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 50f);
            const float alpha = -1.7f;
            var actual = new float[n];
            Kernels.Scale(x, alpha, actual);
            AssertExact(x, Enumerable.Repeat(alpha, n).ToArray(), actual, RefMultiply, "Scale", n);
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Axpy_MatchesDoubleReference(int width) => SimdPaths.Run(width, () =>
    {
        const float alpha = 0.37f;
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 10f);
            float[] y = TestData.Uniform(n, seed: n + 31, scale: 10f);
            float[] original = (float[])y.Clone();

            Kernels.Axpy(alpha, x, y);

            for (int i = 0; i < n; i++)
            {
                double expected = original[i] + (double)alpha * x[i];
                // Fused or not, at most two roundings, each bounded by the operands' magnitude:
                // |error| <= 2u(|alpha*x| + |y|) (cancellation makes a purely relative bound unsound).
                double bound = 2 * U * (Math.Abs((double)alpha * x[i]) + Math.Abs(original[i]));
                if (!(Math.Abs(expected - y[i]) <= bound))
                {
                    Assert.Fail($"Axpy n={n} [{i}]: expected {expected}, got {y[i]}");
                }
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void AddRowBias_MatchesReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int rows in new[] { 0, 1, 3, 17 })
        {
            foreach (int columns in TestData.AwkwardSizes.Prepend(0))
            {
                float[] matrix = TestData.Uniform(rows * columns, seed: rows * 1000 + columns, scale: 5f);
                float[] bias = TestData.Uniform(columns, seed: columns, scale: 2f);
                float[] original = (float[])matrix.Clone();

                Kernels.AddRowBias(bias, matrix, rows, columns);

                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < columns; c++)
                    {
                        // A single IEEE addition: exact match to the correctly rounded sum.
                        Assert.Equal(RefAdd(original[r * columns + c], bias[c]), matrix[r * columns + c]);
                    }
                }
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Binary_InPlace_WithSameStart_Works(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000 })
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 4f);
            float[] y = TestData.Uniform(n, seed: n + 1, scale: 4f);

            float[] intoX = (float[])x.Clone();
            Kernels.Add(intoX, y, intoX);
            AssertExact(x, y, intoX, RefAdd, "Add into x", n);

            float[] intoY = (float[])y.Clone();
            Kernels.Subtract(x, intoY, intoY);
            AssertExact(x, y, intoY, RefSubtract, "Subtract into y", n);

            float[] both = (float[])x.Clone();
            Kernels.Multiply(both, both, both);
            AssertExact(x, x, both, RefMultiply, "Multiply both", n);

            float[] scaled = (float[])x.Clone();
            Kernels.Scale(scaled, 3f, scaled);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(RefMultiply(x[i], 3f), scaled[i]);
            }

            float[] self = (float[])x.Clone();
            Kernels.Axpy(1f, self, self);
            for (int i = 0; i < n; i++)
            {
                // x + 1·x = 2x exactly, fused or not.
                Assert.Equal(2 * x[i], self[i]);
            }
        }
    });

    [Fact]
    public void PartialOverlap_Throws()
    {
        var buffer = new float[64];
        var y = new float[32];

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Add(buffer.AsSpan(0, 32), y, buffer.AsSpan(1, 32))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Subtract(y, buffer.AsSpan(4, 32), buffer.AsSpan(0, 32))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Multiply(buffer.AsSpan(0, 32), y, buffer.AsSpan(31, 32))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Scale(buffer.AsSpan(0, 32), 2f, buffer.AsSpan(8, 32))).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Kernels.Axpy(2f, buffer.AsSpan(0, 32), buffer.AsSpan(16, 32))).ParamName);
        Assert.Equal("matrix", Assert.Throws<ArgumentException>(() => Kernels.AddRowBias(buffer.AsSpan(0, 4), buffer.AsSpan(0, 8), 2, 4)).ParamName);
        Assert.Equal("matrix", Assert.Throws<ArgumentException>(() => Kernels.AddRowBias(buffer.AsSpan(6, 4), buffer.AsSpan(0, 8), 2, 4)).ParamName);
    }

    [Fact]
    public void LengthMismatch_Throws_NamingTheArgument()
    {
        var x = new float[10];
        var shortY = new float[9];
        var shortDestination = new float[9];

        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Kernels.Add(x, shortY, new float[10])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Kernels.Subtract(x, new float[11], new float[10])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Multiply(x, x, shortDestination)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Scale(x, 1f, shortDestination)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Kernels.Axpy(1f, x, shortY)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Kernels.AddRowBias(new float[3], new float[8], 2, 4)).ParamName);
        Assert.Equal("matrix", Assert.Throws<ArgumentException>(() => Kernels.AddRowBias(new float[4], new float[9], 2, 4)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AddRowBias(new float[4], new float[8], -2, 4)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AddRowBias(new float[4], new float[8], 2, -4)).ParamName);
    }

    [Fact]
    public void LongerDestination_OnlyFirstElementsWritten()
    {
        float[] x = [1f, 2f, 3f];
        float[] destination = [9f, 9f, 9f, 9f, 9f];
        Kernels.Add(x, x, destination);
        Assert.Equal([2f, 4f, 6f, 9f, 9f], destination);
    }

    [Fact]
    public void NaN_And_Infinity_Propagate_AsInIeee()
    {
        float[] x = [float.NaN, float.PositiveInfinity, 1f, float.PositiveInfinity];
        float[] y = [1f, float.NegativeInfinity, float.NaN, 0f];
        var destination = new float[4];

        Kernels.Add(x, y, destination);
        Assert.True(float.IsNaN(destination[0]) && float.IsNaN(destination[1]) && float.IsNaN(destination[2]));

        Kernels.Multiply(x, y, destination);
        Assert.True(float.IsNaN(destination[3]), "inf * 0 is NaN");
    }

    [Property(MaxTest = 200)]
    public bool Subtract_UndoesAdd_WhenExact(short[] a, short[] b)
    {
        // Small integers add exactly in float, so (x + y) - y must give back x on every path.
        int n = Math.Min(a.Length, b.Length);
        float[] x = a.Take(n).Select(v => (float)v).ToArray();
        float[] y = b.Take(n).Select(v => (float)v).ToArray();
        foreach (int width in new[] { 0, 256, 512 })
        {
            var sum = new float[n];
            SimdPaths.Run(width, () =>
            {
                Kernels.Add(x, y, sum);
                Kernels.Subtract(sum, y, sum);
            });
            if (!sum.SequenceEqual(x))
            {
                return false;
            }
        }

        return true;
    }

    private static void AssertExact(float[] x, float[] y, float[] actual, Func<float, float, float> reference, string kernel, int n)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float expected = reference(x[i], y[i]);
            if (!expected.Equals(actual[i]))
            {
                Assert.Fail($"{kernel} n={n} [{i}]: expected {expected:R}, got {actual[i]:R}");
            }
        }
    }
}

using FsCheck.Xunit;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

public class ActivationTests
{
    private const double C = 0.7978845608028654; // sqrt(2/pi)
    private const double A = 0.044715;

    public static TheoryData<int> Widths => SimdPaths.All;

    // ---- double-precision references -------------------------------------------------------

    private static double RefGelu(double x)
    {
        // 0.5x(1 + tanh(u)) == x / (1 + exp(-2u)); the second form has no cancellation for x << 0, which
        // keeps the reference itself accurate in the tail (checked against the tanh form below).
        double t = 2 * C * (x + A * x * x * x);
        return x / (1 + Math.Exp(-t));
    }

    private static double RefGeluTanhForm(double x) => 0.5 * x * (1 + Math.Tanh(C * (x + A * x * x * x)));

    private static double RefGeluDerivative(double x)
    {
        double u = C * (x + A * x * x * x);
        double th = Math.Tanh(u);
        double du = C * (1 + 3 * A * x * x);
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du;
    }

    private static double RefSigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // ---- forward kernels against references, every length and width ---------------------------

    [Theory]
    [MemberData(nameof(Widths))]
    public void Relu_And_Backward_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 3f);
            float[] g = TestData.Uniform(n, seed: n + 1, scale: 2f);
            var y = new float[n];
            var gx = new float[n];

            Kernels.Relu(x, y);
            Kernels.ReluBackward(x, g, gx);

            // Selections only: exact.
            AssertExact(x.Select(v => v > 0 ? v : 0f), y, "Relu");
            AssertExact(x.Zip(g, (v, d) => v > 0 ? d : 0f), gx, "ReluBackward");
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void LeakyRelu_And_Backward_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        const float slope = 0.01f;
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 3f);
            float[] g = TestData.Uniform(n, seed: n + 1, scale: 2f);
            var y = new float[n];
            var gx = new float[n];

            Kernels.LeakyRelu(x, slope, y);
            Kernels.LeakyReluBackward(x, g, slope, gx);

            // A selection and at most one IEEE multiply: exactly the correctly rounded double result.
            AssertExact(x.Select(v => v > 0 ? v : (float)((double)v * slope)), y, "LeakyRelu");
            AssertExact(x.Zip(g, (v, d) => v > 0 ? d : (float)((double)d * slope)), gx, "LeakyReluBackward");
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Gelu_MatchesReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            // Scale 8 reaches deep into the negative tail (gelu(-8) ~ 1e-33) and the clamp region.
            float[] x = TestData.Uniform(n, seed: n, scale: 8f);
            var y = new float[n];
            Kernels.Gelu(x, y);
            for (int i = 0; i < n; i++)
            {
                // Vector exp is within a few ulps, and the sigmoid's condition number |t| <= ~50 here
                // amplifies the argument's rounding: rtol 1e-5. atol 1e-7 covers outputs that are
                // themselves tiny (the far negative tail), far below anything a network can notice.
                Close(RefGelu(x[i]), y[i], rtol: 1e-5, atol: 1e-7, "Gelu", n, i, x[i]);
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void GeluBackward_MatchesReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 8f);
            float[] g = TestData.Uniform(n, seed: n + 1, scale: 2f);
            var gx = new float[n];
            Kernels.GeluBackward(x, g, gx);
            for (int i = 0; i < n; i++)
            {
                // As for the forward pass, plus: gelu' crosses zero near x = -0.75 where terms of size ~1
                // cancel, so a few float ulps of 1 (times |g| <= 2) are allowed absolutely.
                Close(g[i] * RefGeluDerivative(x[i]), gx[i], rtol: 1e-5, atol: 1e-6, "GeluBackward", n, i, x[i]);
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_And_Tanh_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 12f);
            var s = new float[n];
            var t = new float[n];
            Kernels.Sigmoid(x, s);
            Kernels.Tanh(x, t);
            for (int i = 0; i < n; i++)
            {
                // TensorPrimitives' vectorised exp/tanh are within a few ulps: rtol 1e-6 (~16 ulps).
                // tanh's atol 1e-7 allows for the few ulps of absolute error near tanh(x) ~ x ~ 0.
                Close(RefSigmoid(x[i]), s[i], rtol: 1e-6, atol: 0, "Sigmoid", n, i, x[i]);
                Close(Math.Tanh(x[i]), t[i], rtol: 1e-6, atol: 1e-7, "Tanh", n, i, x[i]);
            }
        }
    });

    [Theory]
    [MemberData(nameof(Widths))]
    public void SigmoidBackward_And_TanhBackward_MatchReference(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in TestData.Lengths())
        {
            float[] raw = TestData.Uniform(n, seed: n, scale: 1f);
            float[] g = TestData.Uniform(n, seed: n + 1, scale: 3f);
            float[] ySigmoid = raw.Select(v => (v + 1) / 2).ToArray(); // in [0, 1]
            float[] yTanh = raw;                                   // in [-1, 1]
            var gs = new float[n];
            var gt = new float[n];

            Kernels.SigmoidBackward(ySigmoid, g, gs);
            Kernels.TanhBackward(yTanh, g, gt);

            for (int i = 0; i < n; i++)
            {
                // Three or four float roundings of 2^-24 each, no cancellation beyond the exact
                // (Sterbenz) 1 - y: rtol 5e-7; atol 1e-12 only for results that are 0 in double.
                double ys = ySigmoid[i], yt = yTanh[i];
                Close(g[i] * ys * (1 - ys), gs[i], rtol: 5e-7, atol: 1e-12, "SigmoidBackward", n, i, ySigmoid[i]);
                Close(g[i] * (1 - yt * yt), gt[i], rtol: 5e-7, atol: 1e-12, "TanhBackward", n, i, yTanh[i]);
            }
        }
    });

    // ---- the references themselves ---------------------------------------------------------

    [Fact]
    public void GeluReferences_AgreeWithTheTanhFormula_AndWithFiniteDifferences()
    {
        for (double x = -6; x <= 6; x += 0.0625)
        {
            // Away from the far tail the tanh form is accurate in double too.
            Assert.True(Math.Abs(RefGeluTanhForm(x) - RefGelu(x)) <= 1e-12 * (1 + Math.Abs(x)), $"x={x}");

            // Gradient check in double: central differences, eps 1e-6, |a - n| <= 1e-5 + 1e-3|n|.
            const double eps = 1e-6;
            double numeric = (RefGelu(x + eps) - RefGelu(x - eps)) / (2 * eps);
            double analytic = RefGeluDerivative(x);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-5 + 1e-3 * Math.Abs(numeric), $"x={x}: {analytic} vs {numeric}");
        }
    }

    // ---- in place, overlap, validation --------------------------------------------------------

    [Theory]
    [MemberData(nameof(Widths))]
    public void InPlace_WithSameStart_MatchesOutOfPlace(int width) => SimdPaths.Run(width, () =>
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000 })
        {
            float[] x = TestData.Uniform(n, seed: n, scale: 5f);
            float[] g = TestData.Uniform(n, seed: n + 1, scale: 5f);
            float[] y = TestData.Uniform(n, seed: n + 2, scale: 1f);

            AssertUnaryInPlace(x, Kernels.Relu, "Relu");
            AssertUnaryInPlace(x, (a, d) => Kernels.LeakyRelu(a, 0.2f, d), "LeakyRelu");
            AssertUnaryInPlace(x, Kernels.Gelu, "Gelu");
            AssertUnaryInPlace(x, Kernels.Sigmoid, "Sigmoid");
            AssertUnaryInPlace(x, Kernels.Tanh, "Tanh");

            AssertBinaryInPlace(x, g, Kernels.ReluBackward, "ReluBackward");
            AssertBinaryInPlace(x, g, (a, b, d) => Kernels.LeakyReluBackward(a, b, 0.2f, d), "LeakyReluBackward");
            AssertBinaryInPlace(x, g, Kernels.GeluBackward, "GeluBackward");
            AssertBinaryInPlace(y, g, Kernels.SigmoidBackward, "SigmoidBackward");
            AssertBinaryInPlace(y, g, Kernels.TanhBackward, "TanhBackward");
        }
    });

    [Fact]
    public void PartialOverlap_Throws()
    {
        var buffer = new float[80];
        var other = new float[32];

        void Unary(Action<float[]> call, string name) =>
            Assert.Equal(name, Assert.Throws<ArgumentException>(() => call(buffer)).ParamName);

        Unary(b => Kernels.Relu(b.AsSpan(0, 32), b.AsSpan(1, 32)), "destination");
        Unary(b => Kernels.LeakyRelu(b.AsSpan(3, 32), 0.1f, b.AsSpan(0, 32)), "destination");
        Unary(b => Kernels.Gelu(b.AsSpan(0, 32), b.AsSpan(16, 32)), "destination");
        Unary(b => Kernels.Sigmoid(b.AsSpan(0, 32), b.AsSpan(31, 32)), "destination");
        Unary(b => Kernels.Tanh(b.AsSpan(8, 32), b.AsSpan(0, 32)), "destination");

        Unary(b => Kernels.ReluBackward(b.AsSpan(0, 32), other, b.AsSpan(1, 32)), "gradInput");
        Unary(b => Kernels.ReluBackward(other, b.AsSpan(0, 32), b.AsSpan(2, 32)), "gradInput");
        Unary(b => Kernels.LeakyReluBackward(b.AsSpan(0, 32), other, 0.1f, b.AsSpan(4, 32)), "gradInput");
        Unary(b => Kernels.GeluBackward(other, b.AsSpan(5, 32), b.AsSpan(0, 32)), "gradInput");
        Unary(b => Kernels.SigmoidBackward(b.AsSpan(0, 32), other, b.AsSpan(9, 32)), "gradInput");
        Unary(b => Kernels.TanhBackward(other, b.AsSpan(0, 32), b.AsSpan(30, 32)), "gradInput");
    }

    [Fact]
    public void LengthMismatch_Throws_NamingTheArgument()
    {
        var x = new float[10];
        var shortSpan = new float[9];

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Relu(x, shortSpan)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.LeakyRelu(x, 0.1f, shortSpan)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Gelu(x, shortSpan)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Sigmoid(x, shortSpan)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Kernels.Tanh(x, shortSpan)).ParamName);

        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Kernels.ReluBackward(x, shortSpan, new float[10])).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Kernels.LeakyReluBackward(x, new float[11], 0.1f, new float[10])).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Kernels.GeluBackward(x, shortSpan, new float[10])).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Kernels.SigmoidBackward(x, shortSpan, new float[10])).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Kernels.TanhBackward(x, shortSpan, new float[10])).ParamName);

        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Kernels.ReluBackward(x, x, shortSpan)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Kernels.LeakyReluBackward(x, x, 0.1f, shortSpan)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Kernels.GeluBackward(x, x, shortSpan)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Kernels.SigmoidBackward(x, x, shortSpan)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Kernels.TanhBackward(x, x, shortSpan)).ParamName);
    }

    [Fact]
    public void NonFiniteSlope_Throws()
    {
        var x = new float[4];
        Assert.Equal("negativeSlope", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.LeakyRelu(x, float.NaN, x)).ParamName);
        Assert.Equal("negativeSlope", Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.LeakyReluBackward(x, x, float.PositiveInfinity, x)).ParamName);
    }

    // ---- extreme inputs ----------------------------------------------------------------------

    private static readonly float[] Extremes =
    [
        1e4f, -1e4f, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue,
        1e30f, -1e30f, 2e13f, -2e13f, 11.9f, -11.9f, 12f, -12f, 12.1f, -12.1f, 100f, -100f, 0f, -0f,
    ];

    [Theory]
    [MemberData(nameof(Widths))]
    public void LargeMagnitudes_SaturateWithoutNaN(int width) => SimdPaths.Run(width, () =>
    {
        // Repeat so every lane of a 512-bit vector sees each extreme at some position.
        float[] x = Enumerable.Range(0, 17).SelectMany(_ => Extremes).ToArray();
        float[] ones = Enumerable.Repeat(1f, x.Length).ToArray();
        var gelu = new float[x.Length];
        var geluGrad = new float[x.Length];
        var sigmoid = new float[x.Length];
        var tanh = new float[x.Length];

        Kernels.Gelu(x, gelu);
        Kernels.GeluBackward(x, ones, geluGrad);
        Kernels.Sigmoid(x, sigmoid);
        Kernels.Tanh(x, tanh);

        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            Assert.False(float.IsNaN(gelu[i]) || float.IsNaN(geluGrad[i]) || float.IsNaN(sigmoid[i]) || float.IsNaN(tanh[i]), $"NaN at x={v}");
            if (Math.Abs(v) >= 12)
            {
                // Beyond |x| = 12 the true values round to exactly these in float.
                Assert.Equal(v > 0 ? v : 0f, gelu[i]);
                Assert.Equal(v > 0 ? 1f : 0f, geluGrad[i]);
                Assert.Equal(v > 0 ? 1f : -1f, tanh[i]);
            }

            if (Math.Abs(v) >= 1e4)
            {
                Assert.Equal(v > 0 ? 1f : 0f, sigmoid[i]);
            }
        }

        // Just inside the clamp the kernel still agrees with the reference.
        Approx.Equal(RefGelu(11.9), Gelu1(11.9f), rtol: 1e-6, atol: 0);
        Approx.Equal(RefGelu(-11.9), Gelu1(-11.9f), rtol: 1e-5, atol: 1e-30);
    });

    private static float Gelu1(float x)
    {
        var d = new float[1];
        Kernels.Gelu([x], d);
        return d[0];
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void NaN_Propagates(int width) => SimdPaths.Run(width, () =>
    {
        float[] x = Enumerable.Repeat(float.NaN, 19).ToArray();
        float[] ones = Enumerable.Repeat(1f, 19).ToArray();
        var d = new float[19];

        void AllNaN(string name) => Assert.True(d.All(float.IsNaN), name);

        Kernels.Relu(x, d); AllNaN("Relu");
        Kernels.LeakyRelu(x, 0.1f, d); AllNaN("LeakyRelu");
        Kernels.Gelu(x, d); AllNaN("Gelu");
        Kernels.GeluBackward(x, ones, d); AllNaN("GeluBackward");
        Kernels.Sigmoid(x, d); AllNaN("Sigmoid");
        Kernels.Tanh(x, d); AllNaN("Tanh");
        Kernels.SigmoidBackward(x, ones, d); AllNaN("SigmoidBackward");
        Kernels.TanhBackward(ones, x, d); AllNaN("TanhBackward");

        // ReLU's gradient is 0 where x is NaN (NaN > 0 is false), as documented.
        Kernels.ReluBackward(x, ones, d);
        Assert.All(d, v => Assert.Equal(0f, v));
    });

    [Fact]
    public void Relu_MapsNegativeZeroToPositiveZero()
    {
        foreach (int width in new[] { 0, 256, 512 })
        {
            float[] x = Enumerable.Repeat(-0f, 20).ToArray();
            var d = new float[20];
            SimdPaths.Run(width, () => Kernels.Relu(x, d));
            Assert.All(d, v => Assert.False(float.IsNegative(v)));
        }
    }

    // ---- properties --------------------------------------------------------------------------

    [Property(MaxTest = 200)]
    public bool Relu_IsIdempotent(float[] values)
    {
        foreach (int width in new[] { 0, 256, 512 })
        {
            var once = new float[values.Length];
            var twice = new float[values.Length];
            SimdPaths.Run(width, () =>
            {
                Kernels.Relu(values, once);
                Kernels.Relu(once, twice);
            });
            if (!once.SequenceEqual(twice) || once.Any(v => v < 0))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 100)]
    public bool Gelu_LiesBetweenZeroAndX_AndIsNeverNaN_ForNonNaNInput(float[] values)
    {
        float[] x = values.Where(v => !float.IsNaN(v)).ToArray();
        foreach (int width in new[] { 0, 256, 512 })
        {
            var y = new float[x.Length];
            SimdPaths.Run(width, () => Kernels.Gelu(x, y));
            for (int i = 0; i < x.Length; i++)
            {
                // gelu(x) = x·s with s in [0, 1].
                if (float.IsNaN(y[i]) || y[i] < Math.Min(x[i], 0f) || y[i] > Math.Max(x[i], 0f))
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Property(MaxTest = 100)]
    public bool LeakyRelu_WithSlopeOne_IsIdentity(float[] values)
    {
        var y = new float[values.Length];
        Kernels.LeakyRelu(values, 1f, y);
        return y.SequenceEqual(values);
    }

    // ---- helpers -----------------------------------------------------------------------------

    /// <summary>
    /// The <see cref="Approx"/> rule, but the failure message is only formatted on failure: these loops
    /// check ~10⁵ elements per width and eager string formatting dominated their run time.
    /// </summary>
    private static void Close(double expected, float actual, double rtol, double atol, string kernel, int n, int i, float input)
    {
        if (Math.Abs(expected - actual) <= atol + rtol * Math.Abs(expected))
        {
            return;
        }

        Approx.Equal(expected, actual, rtol, atol, $"{kernel} n={n} [{i}] input={input:R}");
    }

    private static void AssertExact(IEnumerable<float> expected, float[] actual, string kernel)
    {
        float[] e = expected.ToArray();
        int mismatch = Enumerable.Range(0, e.Length).FirstOrDefault(i => !e[i].Equals(actual[i]), -1);
        Assert.True(mismatch < 0, mismatch < 0 ? "" : $"{kernel} n={e.Length} [{mismatch}]: expected {e[mismatch]:R}, got {actual[mismatch]:R}");
    }

    private delegate void UnaryKernel(ReadOnlySpan<float> x, Span<float> destination);

    private delegate void BinaryKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);

    private static void AssertUnaryInPlace(float[] x, UnaryKernel kernel, string name)
    {
        var expected = new float[x.Length];
        kernel(x, expected);
        float[] inPlace = (float[])x.Clone();
        kernel(inPlace, inPlace);
        Assert.True(expected.SequenceEqual(inPlace), $"{name} in place differs (n={x.Length})");
    }

    private static void AssertBinaryInPlace(float[] x, float[] y, BinaryKernel kernel, string name)
    {
        var expected = new float[x.Length];
        kernel(x, y, expected);

        float[] intoX = (float[])x.Clone();
        kernel(intoX, y, intoX);
        Assert.True(expected.SequenceEqual(intoX), $"{name} in place over the first input differs (n={x.Length})");

        float[] intoY = (float[])y.Clone();
        kernel(x, intoY, intoY);
        Assert.True(expected.SequenceEqual(intoY), $"{name} in place over the second input differs (n={x.Length})");
    }
}

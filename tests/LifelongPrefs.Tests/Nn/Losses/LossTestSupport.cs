using LifelongPrefs.Tests.Infrastructure;
namespace LifelongPrefs.Tests.Nn.Losses;

/// <summary>Double-precision oracles and assertions shared by the loss tests.</summary>
internal static class LossTestSupport
{
    /// <summary>The effective weight w_i·m_i of the reference (null spans mean all 1).</summary>
    internal static double Weight(float[]? weights, float[]? mask, int i) =>
        (weights?[i] ?? 1.0) * (mask?[i] ?? 1.0);

    /// <summary>Σ w m l / Σ w m over the examples, with 0 when the denominator is 0; skips zero-weight examples.</summary>
    internal static double Reduce(int count, float[]? weights, float[]? mask, Func<int, double> perExample)
    {
        double numerator = 0, denominator = 0;
        for (int i = 0; i < count; i++)
        {
            double w = Weight(weights, mask, i);
            if (w == 0)
            {
                continue;
            }

            numerator += w * perExample(i);
            denominator += w;
        }

        return denominator == 0 ? 0 : numerator / denominator;
    }

    /// <summary>Central difference in double with eps = 1e-6 (STYLE.md's double recipe) of <paramref name="f"/> in each coordinate.</summary>
    internal static double[] NumericGradient(double[] x, Func<double[], double> f)
    {
        const double eps = 1e-6;
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double original = x[i];
            x[i] = original + eps;
            double plus = f(x);
            x[i] = original - eps;
            double minus = f(x);
            x[i] = original;
            gradient[i] = (plus - minus) / (2 * eps);
        }

        return gradient;
    }

    /// <summary>
    /// Compares a float analytic gradient with a double numeric one. The analytic value is computed in double and
    /// rounded once to float (relative error ~6e-8); the double central difference has error ~1e-9 at these scales.
    /// So 1e-7 + 1e-5·|g| is loose for rounding and still four orders tighter than a wrong sign or missing term.
    /// </summary>
    internal static void AssertGradient(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]);
            double bound = 1e-7 + (1e-5 * Math.Abs(expected[i]));
            Assert.True(error <= bound, $"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (|diff| {error:G3})");
        }
    }

    /// <summary>Asserts |expected − actual| ≤ 1e-6 + 1e-5·|expected| (a float result of a double-accumulated loss).</summary>
    internal static void AssertLoss(double expected, float actual, string what = "loss")
    {
        double error = Math.Abs(expected - actual);
        Assert.True(error <= 1e-6 + (1e-5 * Math.Abs(expected)), $"{what}: expected {expected:G9}, got {actual:G9}");
    }

    internal static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    internal static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>A random 0/1 mask with roughly a third zeros, and at least one 1.</summary>
    internal static float[] RandomMask(int count, int seed)
    {
        var random = new Random(seed);
        var mask = new float[count];
        for (int i = 0; i < count; i++)
        {
            mask[i] = random.Next(3) == 0 ? 0f : 1f;
        }

        mask[random.Next(count)] = 1f;
        return mask;
    }

    /// <summary>Random weights in [0, 2), with an exact 0 now and then.</summary>
    internal static float[] RandomWeights(int count, int seed)
    {
        var random = new Random(seed);
        var weights = new float[count];
        for (int i = 0; i < count; i++)
        {
            weights[i] = random.Next(6) == 0 ? 0f : (float)(random.NextDouble() * 2);
        }

        weights[random.Next(count)] = 1f;
        return weights;
    }

    /// <summary>A buffer filled with a sentinel, to prove a rejected call wrote nothing.</summary>
    internal static float[] Sentinel(int length)
    {
        var buffer = new float[length];
        Array.Fill(buffer, 42f);
        return buffer;
    }

    /// <summary>Asserts every element is still the sentinel written by <see cref="Sentinel"/>.</summary>
    internal static void AssertUntouched(float[] buffer)
    {
        foreach (float v in buffer)
        {
            Assert.Equal(42f, v);
        }
    }

    /// <summary>
    /// Asserts that <paramref name="call"/> throws an <see cref="ArgumentException"/> (or subclass) whose
    /// parameter name is <paramref name="parameter"/>, and whose message mentions it or the bad value.
    /// </summary>
    internal static void AssertRejects(string parameter, Action call)
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, e.ParamName);
    }

    /// <summary>Runs <paramref name="call"/> once to warm up, then asserts three more calls allocate 0 bytes.</summary>
    internal static void AssertNoAllocation(Action call)
    {
        Allocations.AssertNone("loss", call);
    }
}

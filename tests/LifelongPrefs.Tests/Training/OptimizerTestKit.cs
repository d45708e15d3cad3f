using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Training;

/// <summary>Builders and double-precision reference updates for the optimizer tests.</summary>
internal static class OptimizerTestKit
{
    /// <summary>A dense parameter holding a copy of <paramref name="values"/>.</summary>
    internal static Parameter Dense(string name, float[] values, params int[] shape) =>
        new(name, Tensor.FromArray((float[])values.Clone(), shape.Length == 0 ? [values.Length] : shape));

    /// <summary>A sparse-row (embedding-like) parameter of shape (rows, width) holding a copy of <paramref name="values"/>.</summary>
    internal static Parameter Sparse(string name, float[] values, int rows, int width) =>
        new(name, Tensor.FromArray((float[])values.Clone(), rows, width), sparseRows: true);

    /// <summary>Overwrites the whole gradient of a dense parameter.</summary>
    internal static void SetGradient(Parameter parameter, float[] gradient) => gradient.CopyTo(parameter.Gradient.Span);

    /// <summary>Writes one row's gradient of a sparse parameter and records the row as touched.</summary>
    internal static void SetRowGradient(Parameter parameter, int row, ReadOnlySpan<float> gradient)
    {
        gradient.CopyTo(parameter.Gradient.Row(row));
        parameter.MarkRowTouched(row);
    }

    internal static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            result[i] = x[i];
        }

        return result;
    }

    /// <summary>Float results against a double reference: |e − a| ≤ 1e-6 + 2e-5·|e| (a few float roundings per step).</summary>
    internal static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Approx.Equal(expected[i], actual[i], 2e-5, 1e-6, $"{context}[{i}]");
        }
    }

    /// <summary>PyTorch SGD in double: g = ∇ + wd·w; b = μb + g; g = nesterov ? g + μb : b; w −= lr·g.</summary>
    internal static void SgdReference(double[] w, double[] grad, double[] b, double lr, double mu, bool nesterov, double wd)
    {
        for (int i = 0; i < w.Length; i++)
        {
            double g = grad[i] + (wd * w[i]);
            if (mu != 0)
            {
                b[i] = (mu * b[i]) + g;
                g = nesterov ? g + (mu * b[i]) : b[i];
            }

            w[i] -= lr * g;
        }
    }

    /// <summary>
    /// Adam in double, as in Kingma &amp; Ba's Algorithm 1 (m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), w −= lr·m̂/(√v̂ + ε)),
    /// with coupled L2 (wd) or decoupled decay w ·= 1 − lr·decoupledWd (Loshchilov &amp; Hutter).
    /// </summary>
    internal static void AdamReference(double[] w, double[] grad, double[] m, double[] v, int t, double lr, double b1, double b2,
        double eps, double wd, double decoupledWd)
    {
        for (int i = 0; i < w.Length; i++)
        {
            w[i] *= 1 - (lr * decoupledWd);
            double g = grad[i] + (wd * w[i]);
            m[i] = (b1 * m[i]) + ((1 - b1) * g);
            v[i] = (b2 * v[i]) + ((1 - b2) * g * g);
            double mHat = m[i] / (1 - Math.Pow(b1, t));
            double vHat = v[i] / (1 - Math.Pow(b2, t));
            w[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
        }
    }

    /// <summary>Adagrad in double: g = ∇ + wd·w; s += g²; w −= lr·g/(√s + ε).</summary>
    internal static void AdagradReference(double[] w, double[] grad, double[] s, double lr, double eps, double wd)
    {
        for (int i = 0; i < w.Length; i++)
        {
            double g = grad[i] + (wd * w[i]);
            s[i] += g * g;
            w[i] -= lr * g / (Math.Sqrt(s[i]) + eps);
        }
    }
}

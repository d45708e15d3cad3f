using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Tests.Infrastructure;

/// <summary>
/// Central finite-difference gradient checks in float32.
/// </summary>
/// <remarks>
/// The engine is float32 only, so the check follows the float recipe of STYLE.md: step eps = 1e-2,
/// pass when |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|) with atol = 1e-3 and
/// rtol = 1e-2 by default. Why these numbers: the scalar loss is accumulated in double from float
/// outputs whose rounding error is ~1e-7 relative, so the difference quotient's rounding error is about
/// 1e-7·|L| / (2·eps) ≈ 5e-6·|L|; the truncation error is eps²/6·|f'''| ≈ 2e-5·|f'''|. Both sit one to two
/// orders below the bound, while a wrong sign, a missing term or a factor-of-two slip moves a gradient by
/// O(|gradient|) and fails it. Callers keep inputs away from kinks (ReLU at 0) by more than eps.
/// </remarks>
internal static class GradCheck
{
    internal const float Eps = 1e-2f;
    internal const double DefaultAtol = 1e-3;
    internal const double DefaultRtol = 1e-2;

    /// <summary>
    /// Checks d(loss)/d(values) for a scalar function of a float buffer: <paramref name="loss"/> is re-evaluated
    /// with each element nudged by ±eps and compared with <paramref name="analytic"/>.
    /// </summary>
    internal static void Check(string what, float[] values, ReadOnlySpan<float> analytic, Func<double> loss,
        double atol = DefaultAtol, double rtol = DefaultRtol, int maxElements = int.MaxValue, int seed = 0)
    {
        Assert.Equal(values.Length, analytic.Length);
        int count = Math.Min(values.Length, maxElements);
        var random = new Random(seed);
        for (int n = 0; n < count; n++)
        {
            int i = count == values.Length ? n : random.Next(values.Length);
            float original = values[i];
            values[i] = original + Eps;
            double plus = loss();
            values[i] = original - Eps;
            double minus = loss();
            values[i] = original;
            double numeric = (plus - minus) / (2 * Eps);
            double error = Math.Abs(analytic[i] - numeric);
            double bound = atol + rtol * Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric));
            Assert.True(error <= bound,
                $"{what}[{i}]: analytic {analytic[i]:G6} vs numeric {numeric:G6} (|diff| {error:G3} > {bound:G3})");
        }
    }

    /// <summary>
    /// Full check of a layer: the loss is Σ probe ⊙ Forward(input) for a fixed random probe; checks the
    /// gradient with respect to the input and to every parameter.
    /// </summary>
    internal static void CheckLayer(Layer layer, Tensor input, int seed = 1, double atol = DefaultAtol, double rtol = DefaultRtol,
        int maxElementsPerTensor = 200)
    {
        Tensor output = layer.Forward(input);
        float[] probe = TestData.Uniform(output.Length, seed);
        layer.ZeroGrad();
        Tensor gradOut = Tensor.FromArray((float[])probe.Clone(), output.Shape.ToArray());
        float[] gradInput = layer.Backward(gradOut).Span.ToArray();

        double Loss()
        {
            Tensor y = layer.Forward(input);
            double sum = 0;
            ReadOnlySpan<float> ys = y.Span;
            for (int i = 0; i < ys.Length; i++)
            {
                sum += (double)probe[i] * ys[i];
            }

            return sum;
        }

        float[] inputValues = input.Span.ToArray();
        CheckThrough(input, inputValues, "input", gradInput, Loss, atol, rtol, maxElementsPerTensor, seed);
        foreach (var (name, parameter) in layer.NamedParameters())
        {
            float[] analytic = parameter.Gradient.Span.ToArray();
            float[] values = parameter.Value.Span.ToArray();
            CheckThrough(parameter.Value, values, name, analytic, Loss, atol, rtol, maxElementsPerTensor, seed);
        }
    }

    /// <summary>Runs <see cref="Check"/> on a tensor by mirroring nudges from a scratch array into it.</summary>
    private static void CheckThrough(Tensor target, float[] scratch, string what, float[] analytic, Func<double> loss,
        double atol, double rtol, int maxElements, int seed)
    {
        Check(what, scratch, analytic, () =>
        {
            scratch.CopyTo(target.Span);
            return loss();
        }, atol, rtol, maxElements, seed);
        scratch.CopyTo(target.Span);
    }
}

using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// Sanity of the whole loop: each optimizer minimises an ill-conditioned quadratic
/// f(w) = ½ Σ aᵢ (wᵢ − cᵢ)² (curvatures aᵢ from 0.5 to 5) from w = 0 to the known minimiser c.
/// </summary>
public class OptimizerConvergenceTests
{
    private const int N = 21;

    private static double Minimise(Optimizer optimizer, Parameter p, float[] a, float[] c, int steps)
    {
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            Span<float> w = p.Value.Span, g = p.Gradient.Span;
            for (int i = 0; i < N; i++)
            {
                g[i] = a[i] * (w[i] - c[i]);
            }

            Assert.True(optimizer.Step().Applied);
        }

        double worst = 0;
        for (int i = 0; i < N; i++)
        {
            worst = Math.Max(worst, Math.Abs(p.Value.Span[i] - c[i]));
        }

        return worst;
    }

    private static (float[] A, float[] C) Problem()
    {
        float[] a = new float[N];
        for (int i = 0; i < N; i++)
        {
            a[i] = 0.5f + (4.5f * i / (N - 1));
        }

        return (a, TestData.Uniform(N, 77, 3f));
    }

    [Fact]
    public void Adam_minimises_a_quadratic()
    {
        (float[] a, float[] c) = Problem();
        Parameter p = Dense("w", new float[N]);
        var adam = new Adam([p], 0.1f) { Schedule = new CosineSchedule(0.1f, 400) };
        Assert.True(Minimise(adam, p, a, c, 400) < 1e-3);
    }

    [Fact]
    public void Sgd_AdamW_and_Adagrad_minimise_a_quadratic()
    {
        (float[] a, float[] c) = Problem();
        Parameter p1 = Dense("w", new float[N]), p2 = Dense("w", new float[N]), p3 = Dense("w", new float[N]);
        Assert.True(Minimise(new Sgd([p1], 0.2f, momentum: 0.5f, nesterov: true), p1, a, c, 200) < 1e-4);

        // AdamW's decoupled decay pulls the optimum slightly towards 0 (by about wd/a relative), so wd is tiny.
        Assert.True(Minimise(new AdamW([p2], 0.1f, weightDecay: 1e-5f) { Schedule = new CosineSchedule(0.1f, 400) }, p2, a, c, 400) < 1e-3);
        Assert.True(Minimise(new Adagrad([p3], 1f), p3, a, c, 400) < 1e-3);
    }
}

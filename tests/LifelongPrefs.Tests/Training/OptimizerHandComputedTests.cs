using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// The first two steps of every optimizer against values worked out by hand (literal numbers on a scalar) and
/// against the textbook formulas evaluated in double on a 19-element parameter (two 8-wide vectors plus a
/// scalar tail, so both loops of the fused update are covered).
/// </summary>
public class OptimizerHandComputedTests
{
    private const int N = 19;
    private static readonly float[] s_w0 = TestData.Uniform(N, 11);
    private static readonly float[] s_g1 = TestData.Uniform(N, 12);
    private static readonly float[] s_g2 = TestData.Uniform(N, 13, 2f);

    /// <summary>Runs two steps with gradient 0.5 each time on a scalar weight starting at 1 and returns both values.</summary>
    private static (float First, float Second) TwoScalarSteps(Func<IReadOnlyList<Parameter>, Optimizer> create)
    {
        Parameter p = Dense("w", [1f]);
        Optimizer optimizer = create([p]);
        p.Gradient.Span[0] = 0.5f;
        Assert.True(optimizer.Step().Applied);
        float first = p.Value.Span[0];
        Assert.True(optimizer.Step().Applied);
        return (first, p.Value.Span[0]);
    }

    [Fact]
    public void Sgd_scalar_steps_match_hand_values()
    {
        // plain: w = 1 − 0.1·0.5 = 0.95, then 0.90
        (float a, float b) = TwoScalarSteps(ps => new Sgd(ps, 0.1f));
        Assert.Equal(0.95, a, 1e-6);
        Assert.Equal(0.90, b, 1e-6);

        // momentum 0.9: b1 = 0.5 → w = 0.95; b2 = 0.45 + 0.5 = 0.95 → w = 0.95 − 0.095 = 0.855
        (a, b) = TwoScalarSteps(ps => new Sgd(ps, 0.1f, momentum: 0.9f));
        Assert.Equal(0.95, a, 1e-6);
        Assert.Equal(0.855, b, 1e-6);

        // Nesterov: b1 = 0.5, g = 0.5 + 0.9·0.5 = 0.95 → w = 0.905; b2 = 0.95, g = 0.5 + 0.855 = 1.355 → w = 0.7695
        (a, b) = TwoScalarSteps(ps => new Sgd(ps, 0.1f, momentum: 0.9f, nesterov: true));
        Assert.Equal(0.905, a, 1e-6);
        Assert.Equal(0.7695, b, 1e-6);

        // weight decay 0.2 (coupled): g = 0.5 + 0.2·1 = 0.7 → w = 0.93; g = 0.5 + 0.186 = 0.686 → w = 0.8614
        (a, b) = TwoScalarSteps(ps => new Sgd(ps, 0.1f, weightDecay: 0.2f));
        Assert.Equal(0.93, a, 1e-6);
        Assert.Equal(0.8614, b, 1e-6);
    }

    [Fact]
    public void Adam_and_AdamW_scalar_steps_match_hand_values()
    {
        // Adam, constant gradient 0.5, lr 0.1: step 1 m̂ = 0.5, v̂ = 0.25 → w = 1 − 0.1·0.5/0.5 = 0.9.
        // Step 2: m = 0.9·0.05 + 0.05 = 0.095, m̂ = 0.095/0.19 = 0.5; v = 0.999·0.00025 + 0.00025 = 0.00049975,
        // v̂ = 0.00049975/0.001999 = 0.25 → w = 0.8 (ε = 1e-8 shifts this by ~2e-9).
        (float a, float b) = TwoScalarSteps(ps => new Adam(ps, 0.1f));
        Assert.Equal(0.9, a, 1e-6);
        Assert.Equal(0.8, b, 1e-6);

        // Adam + coupled L2 (wd = 0.1): g = 0.6 on step 1 but m̂/√v̂ = sign(g), so the decay disappears into the
        // normalisation: w = 0.9 again. Step 2: g = 0.5 + 0.09 = 0.59, m = 0.054 + 0.059 = 0.113, m̂ = 0.113/0.19;
        // v = 0.999·0.00036 + 0.001·0.3481 = 0.00070774, v̂ = v/0.001999 → w = 0.9 − 0.1·m̂/√v̂.
        double m2 = (0.9 * 0.06) + (0.1 * 0.59), v2 = (0.999 * 0.00036) + (0.001 * 0.59 * 0.59);
        double expectedCoupled = 0.9 - (0.1 * (m2 / 0.19) / Math.Sqrt(v2 / (1 - (0.999 * 0.999))));
        (a, b) = TwoScalarSteps(ps => new Adam(ps, 0.1f, weightDecay: 0.1f));
        Assert.Equal(0.9, a, 1e-6);
        Assert.Equal(expectedCoupled, b, 1e-6);

        // AdamW (decoupled, wd = 0.1): w = 1·(1 − 0.01) − 0.1 = 0.89; then 0.89·0.99 − 0.1 = 0.7811.
        // The decay acts on the weight directly, beside the sign-like Adam step: it differs from Adam + L2.
        (a, b) = TwoScalarSteps(ps => new AdamW(ps, 0.1f, weightDecay: 0.1f));
        Assert.Equal(0.89, a, 1e-6);
        Assert.Equal(0.7811, b, 1e-6);
    }

    [Fact]
    public void Adagrad_scalar_steps_match_hand_values()
    {
        // s = 0.25 → w = 1 − 0.1·0.5/0.5 = 0.9; s = 0.5 → w = 0.9 − 0.05/√0.5 = 0.829289...
        (float a, float b) = TwoScalarSteps(ps => new Adagrad(ps, 0.1f));
        Assert.Equal(0.9, a, 1e-6);
        Assert.Equal(0.9 - (0.05 / Math.Sqrt(0.5)), b, 1e-6);

        // initial accumulator 0.75: s = 1 → w = 0.95; s = 1.25 → w = 0.95 − 0.05/√1.25 = 0.905279...
        (a, b) = TwoScalarSteps(ps => new Adagrad(ps, 0.1f, initialAccumulator: 0.75f));
        Assert.Equal(0.95, a, 1e-6);
        Assert.Equal(0.95 - (0.05 / Math.Sqrt(1.25)), b, 1e-6);
    }

    [Theory]
    [InlineData(0f, false, 0f)]
    [InlineData(0.9f, false, 0f)]
    [InlineData(0.9f, true, 0f)]
    [InlineData(0.9f, false, 0.1f)]
    [InlineData(0.5f, true, 0.05f)]
    [InlineData(0f, false, 0.1f)]
    public void Sgd_two_steps_match_formula(float momentum, bool nesterov, float weightDecay)
    {
        Parameter p = Dense("w", s_w0);
        var sgd = new Sgd([p], 0.05f, momentum, nesterov, weightDecay);
        double[] w = ToDouble(s_w0), b = new double[N];
        foreach (float[] g in new[] { s_g1, s_g2 })
        {
            SetGradient(p, g);
            sgd.Step();
            SgdReference(w, ToDouble(g), b, 0.05f, momentum, nesterov, weightDecay);
            AssertClose(w, p.Value.Span, "w");
            if (momentum > 0)
            {
                AssertClose(b, sgd.GetState(0, 0), "momentum");
            }
        }

        Assert.Equal(2, sgd.StepCount);
    }

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.1f, false)]
    [InlineData(0.1f, true)]
    public void Adam_and_AdamW_two_steps_match_formula(float weightDecay, bool decoupled)
    {
        Parameter p = Dense("w", s_w0);
        Optimizer adam = decoupled
            ? new AdamW([p], 0.01f, 0.8f, 0.95f, 1e-6f, weightDecay)
            : new Adam([p], 0.01f, 0.8f, 0.95f, 1e-6f, weightDecay);
        double[] w = ToDouble(s_w0), m = new double[N], v = new double[N];
        int t = 0;
        foreach (float[] g in new[] { s_g1, s_g2 })
        {
            SetGradient(p, g);
            adam.Step();
            AdamReference(w, ToDouble(g), m, v, ++t, 0.01f, 0.8f, 0.95f, 1e-6f, decoupled ? 0 : weightDecay, decoupled ? weightDecay : 0);
            AssertClose(w, p.Value.Span, $"w step {t}");
            AssertClose(m, adam.GetState(0, 0), $"m step {t}");
            AssertClose(v, adam.GetState(0, 1), $"v step {t}");
        }
    }

    [Fact]
    public void AdamW_differs_from_Adam_with_L2_by_the_decoupled_decay()
    {
        // With the same wd, AdamW's first step is Adam's (wd = 0) step applied to the decayed weight
        // w·(1 − lr·wd): decay and adaptive step are separate. Adam + L2 instead feeds wd·w through the
        // normalisation, giving a different result.
        Parameter plain = Dense("w", s_w0), decoupled = Dense("w", s_w0), coupled = Dense("w", s_w0);
        var adam = new Adam([plain], 0.01f);
        var adamW = new AdamW([decoupled], 0.01f, weightDecay: 0.5f);
        var adamL2 = new Adam([coupled], 0.01f, weightDecay: 0.5f);
        foreach (Parameter p in new[] { plain, decoupled, coupled })
        {
            SetGradient(p, s_g1);
        }

        adam.Step();
        adamW.Step();
        adamL2.Step();
        double[] expected = new double[N];
        for (int i = 0; i < N; i++)
        {
            // plain − w0 is Adam's step; AdamW adds −lr·wd·w0 on top of it.
            expected[i] = plain.Value.Span[i] - (0.01 * 0.5 * s_w0[i]);
        }

        AssertClose(expected, decoupled.Value.Span, "AdamW");
        int differing = 0;
        for (int i = 0; i < N; i++)
        {
            if (Math.Abs(coupled.Value.Span[i] - decoupled.Value.Span[i]) > 1e-4)
            {
                differing++;
            }
        }

        Assert.True(differing > N / 2, $"Adam+L2 and AdamW agree on {N - differing} of {N} elements.");
    }

    [Theory]
    [InlineData(0f, 0f)]
    [InlineData(0.3f, 0f)]
    [InlineData(0.1f, 0.2f)]
    public void Adagrad_two_steps_match_formula(float initialAccumulator, float weightDecay)
    {
        Parameter p = Dense("w", s_w0);
        var adagrad = new Adagrad([p], 0.05f, 1e-10f, initialAccumulator, weightDecay);
        double[] w = ToDouble(s_w0), s = new double[N];
        Array.Fill(s, initialAccumulator);
        AssertClose(s, adagrad.GetState(0, 0), "initial accumulator");
        foreach (float[] g in new[] { s_g1, s_g2 })
        {
            SetGradient(p, g);
            adagrad.Step();
            AdagradReference(w, ToDouble(g), s, 0.05f, 1e-10f, weightDecay);
            AssertClose(w, p.Value.Span, "w");
            AssertClose(s, adagrad.GetState(0, 0), "accumulator");
        }
    }

    [Fact]
    public void Step_does_not_clear_gradients_and_ZeroGrad_does()
    {
        Parameter dense = Dense("w", s_w0);
        Parameter sparse = Sparse("table", new float[12], 4, 3);
        var sgd = new Sgd([dense, sparse], 0.1f);
        SetGradient(dense, s_g1);
        SetRowGradient(sparse, 2, [1f, 2f, 3f]);
        sgd.Step();
        Assert.Equal(s_g1, dense.Gradient.Span.ToArray());
        Assert.Equal(1, sparse.TouchedRows.Length);
        sgd.ZeroGrad();
        Assert.All(dense.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        Assert.All(sparse.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(0, sparse.TouchedRows.Length);
    }
}

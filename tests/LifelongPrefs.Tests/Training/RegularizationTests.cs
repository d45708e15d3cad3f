using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;

namespace LifelongPrefs.Tests.Training;

/// <summary>The L2 penalty adds exactly λ·w to the gradient and (λ/2)·Σw² to the loss.</summary>
public class RegularizationTests
{
    [Fact]
    public void Gradient_contribution_is_exactly_lambda_times_w()
    {
        float[] w = TestData.Uniform(37, 3, 2f);
        Parameter p = Dense("w", w);
        const float Lambda = 0.013f;
        Regularization.AddL2([p], Lambda);
        for (int i = 0; i < w.Length; i++)
        {
            // From a zero gradient the result is the single rounding of λ·w, bit for bit.
            Assert.Equal(Lambda * w[i], p.Gradient.Span[i]);
        }
    }

    [Fact]
    public void Penalty_is_half_lambda_sum_of_squares_and_its_derivative_is_the_added_gradient()
    {
        float[] a = TestData.Uniform(20, 4), b = TestData.Uniform(7, 5, 3f);
        Parameter pa = Dense("a", a), pb = Dense("b", b);
        float[] existing = TestData.Uniform(20, 6);
        SetGradient(pa, existing);
        const float Lambda = 0.25f;

        float penalty = Regularization.AddL2([pa, pb], Lambda);

        double squares = a.Sum(x => (double)x * x) + b.Sum(x => (double)x * x);
        Assert.Equal(0.5 * Lambda * squares, penalty, 1e-5 * penalty);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(existing[i] + (Lambda * a[i]), pa.Gradient.Span[i], 1e-6f);
        }

        // Independent oracle: central differences of the returned penalty w.r.t. b reproduce the added gradient.
        float[] probe = (float[])b.Clone();
        GradCheck.Check("L2", probe, pb.Gradient.Span, () =>
        {
            Parameter q = Dense("q", probe);
            return Regularization.AddL2([q], Lambda);
        });
    }

    [Fact]
    public void Sparse_parameters_are_penalised_on_touched_rows_only()
    {
        float[] w = [1f, 2f, 3f, 4f, 5f, 6f];
        Parameter table = Sparse("table", w, 3, 2);
        SetRowGradient(table, 1, [0.5f, 0.5f]);
        float penalty = Regularization.AddL2([table], 0.1f);
        Assert.Equal(0.5 * 0.1 * ((3 * 3) + (4 * 4)), penalty, 1e-7);
        Assert.Equal([0f, 0f, 0.5f + (0.1f * 3f), 0.5f + (0.1f * 4f), 0f, 0f], table.Gradient.Span.ToArray());
    }

    [Fact]
    public void Zero_lambda_changes_nothing_and_bad_lambda_is_rejected()
    {
        Parameter p = Dense("w", [1f, 2f]);
        Assert.Equal(0f, Regularization.AddL2([p], 0f));
        Assert.Equal([0f, 0f], p.Gradient.Span.ToArray());
        foreach (float bad in new[] { -0.1f, float.NaN, float.PositiveInfinity })
        {
            Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => Regularization.AddL2([p], bad)).ParamName);
        }

        Assert.Throws<ArgumentNullException>(() => Regularization.AddL2([p, null!], 0.1f));
        Assert.Equal([0f, 0f], p.Gradient.Span.ToArray());
    }
}

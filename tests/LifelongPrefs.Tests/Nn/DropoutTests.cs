using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

public class DropoutTests
{
    [Fact]
    public void Inference_is_the_identity_and_consumes_no_randomness()
    {
        var dropout = new Dropout(0.5f, new Random(3)) { Training = false };
        Tensor input = LayerTestKit.RandomTensor(1, 6, 7);
        Tensor gradOut = LayerTestKit.RandomTensor(2, 6, 7);

        Assert.Equal(input.Span.ToArray(), dropout.Forward(input).Span.ToArray());
        Assert.Equal(gradOut.Span.ToArray(), dropout.Backward(gradOut).Span.ToArray());

        // The random stream was untouched: the first training mask equals a fresh layer's first mask.
        dropout.Training = true;
        var fresh = new Dropout(0.5f, new Random(3));
        Assert.Equal(fresh.Forward(input).Span.ToArray(), dropout.Forward(input).Span.ToArray());
    }

    [Fact]
    public void Zero_probability_is_the_identity_in_training()
    {
        var dropout = new Dropout(0f, new Random(3));
        Tensor input = LayerTestKit.RandomTensor(4, 5, 3);
        Assert.Equal(input.Span.ToArray(), dropout.Forward(input).Span.ToArray());
    }

    [Fact]
    public void Kept_fraction_and_mean_match_expectation_within_five_sigma()
    {
        const float p = 0.3f;
        const int n = 100_000;
        var dropout = new Dropout(p, new Random(12345));
        // Inputs in [0.5, 1.5): never 0, so a zero output means a dropped unit.
        float[] x = TestData.Uniform(n, 5, 0.5f);
        for (int i = 0; i < n; i++)
        {
            x[i] += 1f;
        }

        Tensor y = dropout.Forward(Tensor.FromArray(x, n));

        int kept = 0;
        double sumX = 0, sumY = 0, sumX2 = 0;
        for (int i = 0; i < n; i++)
        {
            float yi = y.Span[i];
            if (yi != 0f)
            {
                kept++;
                // A kept unit is scaled by exactly 1/(1 − p).
                Assert.Equal(x[i] * (1f / (1f - p)), yi, 5);
            }

            sumX += x[i];
            sumY += yi;
            sumX2 += (double)x[i] * x[i];
        }

        // Kept count ~ Binomial(n, 1 − p): σ = √(n·p·(1 − p)) ≈ 145, so 5σ ≈ 725 units (0.7% of n).
        double keptSigma = Math.Sqrt(n * p * (1 - p));
        Assert.InRange(kept, n * (1 - p) - 5 * keptSigma, n * (1 - p) + 5 * keptSigma);

        // y_i = x_i·m_i/(1 − p) with m_i ~ Bernoulli(1 − p): E[y_i] = x_i, Var[y_i] = x_i²·p/(1 − p), so the
        // mean of y differs from the mean of x by at most 5·√(Σx²·p/(1 − p))/n (≈ 0.011 here).
        double meanSigma = Math.Sqrt(sumX2 * p / (1 - p)) / n;
        Assert.InRange(sumY / n - sumX / n, -5 * meanSigma, 5 * meanSigma);
    }

    [Fact]
    public void Backward_reuses_the_forward_mask()
    {
        var dropout = new Dropout(0.5f, new Random(8));
        Tensor input = LayerTestKit.AwayFromZero(9, 10, 10);
        Tensor output = dropout.Forward(input);
        Tensor gradOut = LayerTestKit.AwayFromZero(10, 10, 10);

        Tensor gradIn = dropout.Backward(gradOut);

        for (int i = 0; i < input.Length; i++)
        {
            // dX = dY ⊙ mask, and mask = y / x.
            float mask = output.Span[i] / input.Span[i];
            Assert.Equal(gradOut.Span[i] * mask, gradIn.Span[i], 5);
        }

        Assert.Contains(gradIn.Span.ToArray(), g => g == 0f);
        Assert.Contains(gradIn.Span.ToArray(), g => g != 0f);
    }

    [Fact]
    public void Gradient_matches_finite_differences_with_a_frozen_mask()
    {
        var dropout = new Dropout(0.4f, new Random(21)) { FreezeMask = true };
        GradCheck.CheckLayer(dropout, LayerTestKit.RandomTensor(22, 4, 6));
    }

    [Fact]
    public void Frozen_mask_is_reused_and_shape_mismatch_is_rejected()
    {
        var dropout = new Dropout(0.5f, new Random(31));
        Tensor input = LayerTestKit.AwayFromZero(32, 5, 5);
        float[] first = dropout.Forward(input).Span.ToArray();
        Assert.NotEqual(first, dropout.Forward(input).Span.ToArray());

        dropout.FreezeMask = true;
        float[] frozen = dropout.Forward(input).Span.ToArray();
        Assert.Equal(frozen, dropout.Forward(input).Span.ToArray());

        var e = Assert.Throws<ArgumentException>(() => dropout.Forward(new Tensor(4, 5)));
        Assert.Equal("input", e.ParamName);
        // The rejected call changed nothing: the same mask still applies.
        Assert.Equal(frozen, dropout.Forward(input).Span.ToArray());
    }

    [Fact]
    public void Same_seed_gives_same_masks()
    {
        Tensor input = LayerTestKit.AwayFromZero(41, 8, 8);
        var a = new Dropout(0.25f, new Random(77));
        var b = new Dropout(0.25f, new Random(77));
        for (int step = 0; step < 3; step++)
        {
            Assert.Equal(a.Forward(input).Span.ToArray(), b.Forward(input).Span.ToArray());
        }
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void Probability_outside_zero_one_is_rejected(float p)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(p, new Random(1)));
        Assert.Equal("probability", e.ParamName);
    }

    [Fact]
    public void Bad_gradient_shape_and_missing_forward_are_rejected()
    {
        var dropout = new Dropout(0.5f, new Random(1));
        Assert.Throws<InvalidOperationException>(() => dropout.Backward(new Tensor(2, 2)));
        dropout.Forward(new Tensor(2, 2));
        Assert.Throws<ArgumentException>(() => dropout.Backward(new Tensor(4)));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var dropout = new Dropout(0.2f, new Random(1));
        Tensor input = LayerTestKit.RandomTensor(1, 16, 32);
        Tensor gradOut = LayerTestKit.RandomTensor(2, 16, 32);
        LayerTestKit.AssertNoAllocation("Dropout training", () =>
        {
            dropout.Forward(input);
            dropout.Backward(gradOut);
        });

        var inference = new Dropout(0.2f, new Random(1)) { Training = false };
        LayerTestKit.AssertNoAllocation("Dropout inference", () =>
        {
            inference.Forward(input);
            inference.Backward(gradOut);
        });
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn;

/// <summary>
/// <see cref="GradCheck.CheckLayer"/> for a <see cref="SequenceLayer"/>: the loss is Σ probe ⊙ Forward(input, mask)
/// for a fixed random probe, and the gradients with respect to the input and every parameter are compared with
/// float32 central differences (tolerances justified in <see cref="GradCheck"/>).
/// </summary>
internal static class SequenceGradCheck
{
    internal static void Check(SequenceLayer layer, Tensor input, float[] mask, int seed = 1,
        double atol = GradCheck.DefaultAtol, double rtol = GradCheck.DefaultRtol, int maxElementsPerTensor = 200)
    {
        Tensor output = layer.Forward(input, mask);
        float[] probe = TestData.Uniform(output.Length, seed);
        layer.ZeroGrad();
        float[] gradInput = layer.Backward(Tensor.FromArray((float[])probe.Clone(), output.Shape.ToArray())).Span.ToArray();

        double Loss()
        {
            ReadOnlySpan<float> y = layer.Forward(input, mask).Span;
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += (double)probe[i] * y[i];
            }

            return sum;
        }

        CheckThrough(input, "input", gradInput, Loss, atol, rtol, maxElementsPerTensor, seed);
        foreach (var (name, parameter) in layer.NamedParameters())
        {
            CheckThrough(parameter.Value, name, parameter.Gradient.Span.ToArray(), Loss, atol, rtol, maxElementsPerTensor, seed);
        }
    }

    private static void CheckThrough(Tensor target, string what, float[] analytic, Func<double> loss,
        double atol, double rtol, int maxElements, int seed)
    {
        float[] scratch = target.Span.ToArray();
        GradCheck.Check(what, scratch, analytic, () =>
        {
            scratch.CopyTo(target.Span);
            return loss();
        }, atol, rtol, maxElements, seed);
        scratch.CopyTo(target.Span);
    }

    /// <summary>Forward + zero-grad + backward with a seeded upstream gradient; returns dX and every parameter gradient.</summary>
    internal static float[][] Gradients(SequenceLayer layer, Tensor input, float[] mask, int seed)
    {
        Tensor output = layer.Forward(input, mask);
        layer.ZeroGrad();
        Tensor dy = Tensor.FromArray(TestData.Uniform(output.Length, seed), output.Shape.ToArray());
        var result = new List<float[]> { layer.Backward(dy).Span.ToArray() };
        foreach (Parameter p in layer.Parameters)
        {
            result.Add(p.Gradient.Span.ToArray());
        }

        return [.. result];
    }

    /// <summary>Bytes allocated by this thread over three forward + backward steps after one warm-up step.</summary>
    internal static long AllocatedPerSteps(SequenceLayer layer, Tensor input, float[] mask, Tensor gradOutput)
    {
        // Module.ZeroGrad enumerates through IReadOnlyList (an enumerator allocation in shared code), so the
        // gradients are cleared by index here; this measures the layer's own forward and backward. The first
        // read of Parameters builds its cached list, so it happens during warm-up.
        IReadOnlyList<Parameter> parameters = layer.Parameters;
        return Allocations.Measure(() =>
        {
            for (int k = 0; k < parameters.Count; k++)
            {
                parameters[k].ZeroGradient();
            }

            layer.Forward(input, mask);
            layer.Backward(gradOutput);
        });
    }

    internal static Tensor Input(int batch, int steps, int features, int seed, float scale = 1f) =>
        Tensor.FromArray(TestData.Uniform(batch * steps * features, seed, scale), batch, steps, features);
}

public class GruTests
{
    // Three sequences of four steps: left-padded (the project's layout), full, and one with a hole in the middle.
    private static readonly float[] Mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1];

    [Fact]
    public void Gradients_match_finite_differences_with_padding_over_four_steps()
    {
        var gru = new Gru(3, 4, new Random(1));
        SequenceGradCheck.Check(gru, SequenceGradCheck.Input(3, 4, 3, seed: 2), Mask);
    }

    [Property(MaxTest = 8)]
    public Property Gradients_match_finite_differences_for_random_shapes_and_masks()
    {
        var gen = from b in Gen.Choose(1, 3)
                  from t in Gen.Choose(3, 5)
                  from c in Gen.Choose(1, 4)
                  from h in Gen.Choose(1, 4)
                  from seed in Gen.Choose(0, 10_000)
                  select (b, t, c, h, seed);
        return Prop.ForAll(Arb.From(gen), shape =>
        {
            var (b, t, c, h, seed) = shape;
            var random = new Random(seed);
            var mask = new float[b * t];
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] = random.Next(3) == 0 ? 0f : 1f;
            }

            SequenceGradCheck.Check(new Gru(c, h, random), SequenceGradCheck.Input(b, t, c, seed + 1), mask, seed: seed);
        });
    }

    [Fact]
    public void Forward_matches_a_double_precision_reference_of_the_documented_equations()
    {
        const int B = 3, T = 4, C = 3, H = 5;
        var gru = new Gru(C, H, new Random(3));
        Tensor x = SequenceGradCheck.Input(B, T, C, seed: 4, scale: 2f);
        float[] y = gru.Forward(x, Mask).Span.ToArray();
        double[] expected = ReferenceGru(gru, x.Span.ToArray(), Mask, B, T, C, H);
        Approx.Equal(Array.ConvertAll(expected, v => (float)v), y, rtol: 1e-5, atol: 1e-6, "h");
    }

    [Fact]
    public void Padded_steps_carry_the_state_and_left_padding_stays_at_zero()
    {
        const int T = 4, H = 4;
        var gru = new Gru(3, H, new Random(5));
        ReadOnlySpan<float> y = gru.Forward(SequenceGradCheck.Input(3, T, 3, seed: 6), Mask).Span;
        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] != 0f)
            {
                continue;
            }

            int t = p % T;
            ReadOnlySpan<float> carried = y.Slice(p * H, H);
            if (t == 0)
            {
                Assert.True(carried.SequenceEqual(new float[H]), $"padded step {p} at t = 0 must output the zero state");
            }
            else
            {
                Assert.True(carried.SequenceEqual(y.Slice((p - 1) * H, H)), $"padded step {p} must repeat the previous state");
            }
        }

        // Left padding: step 1 of sequence 0 is padded, so its state is still exactly zero.
        Assert.True(y.Slice(1 * H, H).SequenceEqual(new float[H]));
        // A real step changes the state (the oracle being that the carry above is not trivially everywhere).
        Assert.False(y.Slice(2 * H, H).SequenceEqual(y.Slice(1 * H, H)));
    }

    [Fact]
    public void Left_padded_sequence_gives_the_same_real_outputs_as_the_unpadded_one()
    {
        const int C = 3, H = 4;
        var gru = new Gru(C, H, new Random(7));
        float[] real = TestData.Uniform(2 * C, 8);
        var padded = new float[4 * C];
        TestData.Uniform(2 * C, 9).CopyTo(padded, 0); // junk in the padding
        real.CopyTo(padded, 2 * C);
        float[] yPadded = gru.Forward(Tensor.FromArray(padded, 1, 4, C), [0, 0, 1, 1]).Span.ToArray();
        float[] yShort = gru.Forward(Tensor.FromArray(real, 1, 2, C), []).Span.ToArray();
        // Different GEMM shapes may round differently in the last bit, hence the tiny tolerance.
        Approx.Equal(yShort, yPadded.AsSpan(2 * H), rtol: 1e-6, atol: 1e-7, "real steps");
    }

    [Fact]
    public void Changing_padded_inputs_never_changes_any_output_or_real_input_gradient()
    {
        const int B = 3, T = 4, C = 3;
        var gru = new Gru(C, 4, new Random(9));
        float[] x = TestData.Uniform(B * T * C, 10);
        float[] y1 = gru.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), Mask).Span.ToArray();
        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] == 0f)
            {
                for (int k = 0; k < C; k++)
                {
                    x[p * C + k] += 5f;
                }
            }
        }

        float[] y2 = gru.Forward(Tensor.FromArray(x, B, T, C), Mask).Span.ToArray();
        Assert.Equal(y1, y2);
    }

    [Fact]
    public void Outputs_are_causal_exactly()
    {
        const int B = 2, T = 5, C = 3, H = 4;
        var gru = new Gru(C, H, new Random(11));
        float[] x = TestData.Uniform(B * T * C, 12);
        float[] y1 = gru.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), []).Span.ToArray();
        const int tChanged = 3;
        x[(1 * T + tChanged) * C + 1] += 1f;
        float[] y2 = gru.Forward(Tensor.FromArray(x, B, T, C), []).Span.ToArray();
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                bool same = y1.AsSpan((b * T + t) * H, H).SequenceEqual(y2.AsSpan((b * T + t) * H, H));
                Assert.True(b == 1 && t >= tChanged ? !same : same, $"b={b}, t={t}");
            }
        }
    }

    [Fact]
    public void Padded_positions_get_zero_input_gradient_and_repeated_backward_is_bit_identical()
    {
        var gru = new Gru(3, 4, new Random(13));
        Tensor x = SequenceGradCheck.Input(3, 4, 3, seed: 14);
        float[][] first = SequenceGradCheck.Gradients(gru, x, Mask, seed: 15);
        float[][] second = SequenceGradCheck.Gradients(gru, x, Mask, seed: 15);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }

        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] == 0f)
            {
                Assert.True(first[0].AsSpan(p * 3, 3).SequenceEqual(new float[3]), $"dx at padded position {p}");
            }
        }
    }

    [Fact]
    public void Backward_accumulates_into_parameter_gradients()
    {
        var gru = new Gru(2, 3, new Random(16));
        Tensor x = SequenceGradCheck.Input(2, 3, 2, seed: 17);
        float[][] once = SequenceGradCheck.Gradients(gru, x, [], seed: 18);
        gru.Backward(Tensor.FromArray(TestData.Uniform(2 * 3 * 3, 18), 2, 3, 3));
        for (int i = 0; i < gru.Parameters.Count; i++)
        {
            float[] expected = Array.ConvertAll(once[i + 1], v => 2 * v);
            Approx.Equal(expected, gru.Parameters[i].Gradient.Span, rtol: 1e-6, atol: 0, gru.Parameters[i].Name);
        }
    }

    [Fact]
    public void Bad_inputs_throw_ArgumentException_naming_the_problem_and_leave_state_unchanged()
    {
        var gru = new Gru(3, 4, new Random(19));
        Tensor x = SequenceGradCheck.Input(3, 4, 3, seed: 20);
        Assert.Throws<InvalidOperationException>(() => gru.Backward(new Tensor(3, 4, 4)));
        float[][] reference = SequenceGradCheck.Gradients(gru, x, Mask, seed: 21);

        var e1 = Assert.Throws<ArgumentException>(() => gru.Forward(SequenceGradCheck.Input(1, 4, 3, seed: 1), Mask));
        Assert.Equal("mask", e1.ParamName);
        Assert.Contains("12", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>(() => gru.Forward(SequenceGradCheck.Input(3, 4, 5, seed: 1), Mask));
        Assert.Equal("input", e2.ParamName);
        Assert.Contains("5", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<ArgumentException>(() => gru.Forward(new Tensor(12, 3), []));
        Assert.Equal("input", e3.ParamName);
        float[] halfMask = (float[])Mask.Clone();
        halfMask[5] = 0.5f;
        var e4 = Assert.Throws<ArgumentException>(() => gru.Forward(x, halfMask));
        Assert.Contains("0.5", e4.Message, StringComparison.Ordinal);
        var e5 = Assert.Throws<ArgumentException>(() => gru.Backward(new Tensor(3, 4, 3)));
        Assert.Equal("gradOutput", e5.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gru(0, 4, new Random(1)));

        // The rejected calls changed nothing: backward still propagates the last good forward pass.
        gru.ZeroGrad();
        float[] dx = gru.Backward(Tensor.FromArray(TestData.Uniform(3 * 4 * 4, 21), 3, 4, 4)).Span.ToArray();
        Assert.Equal(reference[0], dx);
        Assert.Equal(reference[1], gru.WeightInput.Gradient.Span.ToArray());
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var gru = new Gru(8, 8, new Random(22));
        Tensor x = SequenceGradCheck.Input(3, 5, 8, seed: 23);
        float[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1];
        Tensor dy = SequenceGradCheck.Input(3, 5, 8, seed: 24);
        Assert.Equal(0, SequenceGradCheck.AllocatedPerSteps(gru, x, mask, dy));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(2, 0)]
    public void Empty_batches_and_empty_sequences_are_valid_no_ops(int batch, int steps)
    {
        var gru = new Gru(3, 4, new Random(25));
        Assert.Equal([batch, steps, 4], gru.Forward(new Tensor(batch, steps, 3), []).Shape.ToArray());
        gru.ZeroGrad();
        Assert.Equal([batch, steps, 3], gru.Backward(new Tensor(batch, steps, 4)).Shape.ToArray());
        Assert.All(gru.Parameters, p => Assert.True(p.Gradient.Span.SequenceEqual(new float[p.Length])));
    }

    [Fact]
    public void Parameters_are_registered_under_stable_names()
    {
        var gru = new Gru(3, 4, new Random(1));
        string[] names = [.. gru.NamedParameters().Select(p => p.Key)];
        Assert.Equal(["weightInput", "weightHidden", "biasInput", "biasHidden"], names);
        Assert.Equal([3, 12], gru.WeightInput.Value.Shape.ToArray());
        Assert.Equal([4, 12], gru.WeightHidden.Value.Shape.ToArray());
    }

    /// <summary>The documented equations, written out naively in double precision.</summary>
    private static double[] ReferenceGru(Gru gru, float[] x, float[] mask, int batch, int steps, int c, int h)
    {
        ReadOnlySpan<float> wi = gru.WeightInput.Value.Span, wh = gru.WeightHidden.Value.Span;
        ReadOnlySpan<float> bi = gru.BiasInput.Value.Span, bh = gru.BiasHidden.Value.Span;
        var y = new double[batch * steps * h];
        for (int b = 0; b < batch; b++)
        {
            var state = new double[h];
            for (int t = 0; t < steps; t++)
            {
                int p = b * steps + t;
                if (mask[p] != 0f)
                {
                    var next = new double[h];
                    for (int j = 0; j < h; j++)
                    {
                        double[] xi = new double[3], hi = new double[3];
                        for (int g = 0; g < 3; g++)
                        {
                            int col = g * h + j;
                            xi[g] = bi[col];
                            hi[g] = bh[col];
                            for (int k = 0; k < c; k++)
                            {
                                xi[g] += x[p * c + k] * (double)wi[k * 3 * h + col];
                            }

                            for (int k = 0; k < h; k++)
                            {
                                hi[g] += state[k] * wh[k * 3 * h + col];
                            }
                        }

                        double r = 1 / (1 + Math.Exp(-(xi[0] + hi[0])));
                        double z = 1 / (1 + Math.Exp(-(xi[1] + hi[1])));
                        double n = Math.Tanh(xi[2] + r * hi[2]);
                        next[j] = (1 - z) * n + z * state[j];
                    }

                    state = next;
                }

                state.CopyTo(y, p * h);
            }
        }

        return y;
    }
}

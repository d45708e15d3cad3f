using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn;

public class AttentionTests
{
    // Three sequences of four steps: left-padded, full, and one with padding in the middle and a padded query
    // (position 1) that still has an allowed key (position 0).
    private static readonly float[] Mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1];

    private static CausalSelfAttention WithBiases(int c, int heads, int seed, float dropout = 0f)
    {
        // Linear starts with zero biases; random ones make the gradient checks cover every term.
        var layer = new CausalSelfAttention(c, heads, new Random(seed), dropout);
        TestData.Uniform(3 * c, seed + 100, 0.5f).CopyTo(layer.QueryKeyValue.Bias!.Value.Span);
        TestData.Uniform(c, seed + 101, 0.5f).CopyTo(layer.Output.Bias!.Value.Span);
        return layer;
    }

    [Fact]
    public void Gradients_match_finite_differences_with_two_heads_causal_and_padding_masks()
    {
        var layer = WithBiases(4, 2, seed: 1);
        SequenceGradCheck.Check(layer, SequenceGradCheck.Input(3, 4, 4, seed: 2), Mask);
    }

    [Fact]
    public void Gradients_match_finite_differences_with_a_frozen_attention_dropout_mask()
    {
        var layer = WithBiases(4, 2, seed: 3, dropout: 0.3f);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 4);
        layer.Forward(x, Mask);
        layer.AttentionDropout!.FreezeMask = true;
        SequenceGradCheck.Check(layer, x, Mask);
    }

    [Property(MaxTest = 8)]
    public Property Gradients_match_finite_differences_for_random_shapes_and_masks()
    {
        var gen = from b in Gen.Choose(1, 3)
                  from t in Gen.Choose(1, 5)
                  from heads in Gen.Choose(1, 2)
                  from d in Gen.Choose(1, 3)
                  from seed in Gen.Choose(0, 10_000)
                  select (b, t, heads, d, seed);
        return Prop.ForAll(Arb.From(gen), shape =>
        {
            var (b, t, heads, d, seed) = shape;
            var random = new Random(seed);
            var mask = new float[b * t];
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] = random.Next(3) == 0 ? 0f : 1f;
            }

            var layer = WithBiases(heads * d, heads, seed);
            SequenceGradCheck.Check(layer, SequenceGradCheck.Input(b, t, heads * d, seed + 1), mask, seed: seed);
        });
    }

    [Fact]
    public void Forward_matches_a_naive_double_precision_reference()
    {
        const int B = 3, T = 4, C = 6, H = 2;
        var layer = WithBiases(C, H, seed: 5);
        Tensor x = SequenceGradCheck.Input(B, T, C, seed: 6, scale: 2f);
        float[] y = layer.Forward(x, Mask).Span.ToArray();
        double[] expected = Reference(layer, x.Span.ToArray(), Mask, B, T, C, H);
        Approx.Equal(Array.ConvertAll(expected, v => (float)v), y, rtol: 1e-4, atol: 1e-5, "y");
    }

    [Fact]
    public void Attention_weights_are_causal_skip_padded_keys_and_sum_to_one_or_zero()
    {
        const int B = 3, T = 4, H = 2;
        var layer = WithBiases(4, H, seed: 7);
        layer.Forward(SequenceGradCheck.Input(B, T, 4, seed: 8, scale: 3f), Mask);
        ReadOnlySpan<float> a = layer.LastAttentionWeights.Span;
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < H; h++)
            {
                for (int t = 0; t < T; t++)
                {
                    ReadOnlySpan<float> row = a.Slice(((b * H + h) * T + t) * T, T);
                    bool anyAllowed = false;
                    double sum = 0;
                    for (int s = 0; s < T; s++)
                    {
                        bool allowed = s <= t && Mask[b * T + s] != 0f;
                        anyAllowed |= allowed;
                        sum += row[s];
                        if (!allowed)
                        {
                            Assert.Equal(0f, row[s]);
                        }
                        else
                        {
                            Assert.True(row[s] > 0f);
                        }
                    }

                    Assert.Equal(anyAllowed ? 1.0 : 0.0, sum, 5);
                }
            }
        }
    }

    [Fact]
    public void A_query_with_only_padded_keys_gets_zero_attention_and_finite_output_and_gradients()
    {
        // Left padding: queries 0 and 1 of the first sequence see only padding.
        const int T = 4, C = 4;
        var layer = WithBiases(C, 2, seed: 9);
        Tensor x = SequenceGradCheck.Input(1, T, C, seed: 10);
        float[] y = layer.Forward(x, [0, 0, 1, 1]).Span.ToArray();
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        // Zero attention output, so the output projection leaves just its bias.
        float[] bias = layer.Output.Bias!.Value.Span.ToArray();
        Assert.Equal(bias, y.AsSpan(0, C).ToArray());
        Assert.Equal(bias, y.AsSpan(C, C).ToArray());
        Assert.NotEqual(bias, y.AsSpan(2 * C, C).ToArray());

        layer.ZeroGrad();
        float[] dx = layer.Backward(Tensor.FromArray(TestData.Uniform(T * C, 11), 1, T, C)).Span.ToArray();
        Assert.All(dx, v => Assert.True(float.IsFinite(v)));
        foreach (Parameter p in layer.Parameters)
        {
            Assert.All(p.Gradient.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
        }

        // Nothing at the padded positions influenced anything: their input gradient is exactly zero.
        Assert.True(dx.AsSpan(0, 2 * C).SequenceEqual(new float[2 * C]));
    }

    [Fact]
    public void A_sequence_of_only_padding_is_finite()
    {
        var layer = WithBiases(4, 2, seed: 12);
        float[] y = layer.Forward(SequenceGradCheck.Input(2, 3, 4, seed: 13), [0, 0, 0, 1, 1, 1]).Span.ToArray();
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Changing_a_later_position_never_changes_earlier_outputs_exactly()
    {
        const int B = 2, T = 5, C = 4;
        var layer = WithBiases(C, 2, seed: 14);
        float[] mask = [0, 1, 1, 1, 1, 1, 1, 0, 1, 1];
        for (int changed = 0; changed < T; changed++)
        {
            float[] x = TestData.Uniform(B * T * C, 15);
            float[] y1 = layer.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), mask).Span.ToArray();
            for (int k = 0; k < C; k++)
            {
                x[(1 * T + changed) * C + k] += 0.75f;
            }

            float[] y2 = layer.Forward(Tensor.FromArray(x, B, T, C), mask).Span.ToArray();
            for (int b = 0; b < B; b++)
            {
                for (int t = 0; t < T; t++)
                {
                    bool same = y1.AsSpan((b * T + t) * C, C).SequenceEqual(y2.AsSpan((b * T + t) * C, C));
                    if (b == 0 || t < changed)
                    {
                        Assert.True(same, $"changing t={changed} of sequence 1 changed output b={b}, t={t}");
                    }
                }
            }

            // The position itself does change (so the test can fail).
            Assert.False(y1.AsSpan((T + changed) * C, C).SequenceEqual(y2.AsSpan((T + changed) * C, C)));
        }
    }

    [Fact]
    public void Changing_padded_inputs_never_changes_outputs_at_real_positions_exactly()
    {
        const int B = 3, T = 4, C = 4;
        var layer = WithBiases(C, 2, seed: 16);
        float[] x = TestData.Uniform(B * T * C, 17);
        float[] y1 = layer.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), Mask).Span.ToArray();
        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] == 0f)
            {
                for (int k = 0; k < C; k++)
                {
                    x[p * C + k] = -3f * x[p * C + k] + 1f;
                }
            }
        }

        float[] y2 = layer.Forward(Tensor.FromArray(x, B, T, C), Mask).Span.ToArray();
        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] != 0f)
            {
                Assert.True(y1.AsSpan(p * C, C).SequenceEqual(y2.AsSpan(p * C, C)), $"real position {p} changed");
            }
        }
    }

    [Fact]
    public void Repeated_backward_is_bit_identical()
    {
        var layer = WithBiases(4, 2, seed: 18);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 19);
        float[][] first = SequenceGradCheck.Gradients(layer, x, Mask, seed: 20);
        float[][] second = SequenceGradCheck.Gradients(layer, x, Mask, seed: 20);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
    }

    [Fact]
    public void Attention_dropout_is_the_identity_at_inference()
    {
        var plain = WithBiases(4, 2, seed: 21);
        var dropped = WithBiases(4, 2, seed: 21, dropout: 0.5f);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 22);
        dropped.Training = false;
        Assert.Equal(plain.Forward(x, Mask).Span.ToArray(), dropped.Forward(x, Mask).Span.ToArray());
        dropped.Training = true;
        Assert.NotEqual(plain.Forward(x, Mask).Span.ToArray(), dropped.Forward(x, Mask).Span.ToArray());
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(2, 0)]
    public void Empty_batches_and_empty_sequences_are_valid_no_ops(int batch, int steps)
    {
        var layer = WithBiases(4, 2, seed: 27);
        Assert.Equal([batch, steps, 4], layer.Forward(new Tensor(batch, steps, 4), []).Shape.ToArray());
        Assert.Equal([batch, steps, 4], layer.Backward(new Tensor(batch, steps, 4)).Shape.ToArray());
    }

    [Fact]
    public void Bad_inputs_throw_ArgumentException()
    {
        var layer = new CausalSelfAttention(4, 2, new Random(23));
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(3, 4, 4), [1, 1])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(3, 4, 3), [])).ParamName);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(3, 4, 4)));
        layer.Forward(new Tensor(3, 4, 4), []);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => layer.Backward(new Tensor(3, 5, 4))).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CausalSelfAttention(5, 2, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CausalSelfAttention(4, 2, new Random(1), dropout: 1f));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var layer = WithBiases(8, 2, seed: 24, dropout: 0.1f);
        Tensor x = SequenceGradCheck.Input(3, 5, 8, seed: 25);
        float[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1];
        Assert.Equal(0, SequenceGradCheck.AllocatedPerSteps(layer, x, mask, SequenceGradCheck.Input(3, 5, 8, seed: 26)));
    }

    /// <summary>Scores, masked softmax and weighted values written out naively in double precision.</summary>
    private static double[] Reference(CausalSelfAttention layer, float[] x, float[] mask, int batch, int steps, int c, int heads)
    {
        int d = c / heads;
        double[] qkv = Dense(x, batch * steps, c, layer.QueryKeyValue.Weight.Value.Span, layer.QueryKeyValue.Bias!.Value.Span, 3 * c);
        var att = new double[batch * steps * c];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int t = 0; t < steps; t++)
                {
                    var w = new double[steps];
                    double max = double.NegativeInfinity;
                    for (int s = 0; s <= t; s++)
                    {
                        if (mask[b * steps + s] == 0f)
                        {
                            continue;
                        }

                        double dot = 0;
                        for (int k = 0; k < d; k++)
                        {
                            dot += qkv[(b * steps + t) * 3 * c + h * d + k] * qkv[(b * steps + s) * 3 * c + c + h * d + k];
                        }

                        w[s] = dot / Math.Sqrt(d);
                        max = Math.Max(max, w[s]);
                    }

                    double sum = 0;
                    for (int s = 0; s <= t; s++)
                    {
                        w[s] = mask[b * steps + s] == 0f ? 0 : Math.Exp(w[s] - max);
                        sum += w[s];
                    }

                    for (int k = 0; k < d; k++)
                    {
                        double acc = 0;
                        for (int s = 0; s <= t && sum > 0; s++)
                        {
                            acc += w[s] / sum * qkv[(b * steps + s) * 3 * c + 2 * c + h * d + k];
                        }

                        att[(b * steps + t) * c + h * d + k] = acc;
                    }
                }
            }
        }

        return Dense(Array.ConvertAll(att, v => (float)v), batch * steps, c, layer.Output.Weight.Value.Span, layer.Output.Bias!.Value.Span, c);
    }

    private static double[] Dense(float[] x, int rows, int inFeatures, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outFeatures)
    {
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double acc = bias[o];
                for (int i = 0; i < inFeatures; i++)
                {
                    acc += x[r * inFeatures + i] * (double)w[i * outFeatures + o];
                }

                y[r * outFeatures + o] = acc;
            }
        }

        return y;
    }
}

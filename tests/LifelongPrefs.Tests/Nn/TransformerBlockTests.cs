using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

public class TransformerBlockTests
{
    private static readonly float[] Mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1];

    /// <summary>A block whose zero-initialised biases and unit/zero norm parameters are randomised, so every term is exercised.</summary>
    private static TransformerBlock Block(int c, int heads, int ff, int seed, float dropout = 0f)
    {
        var block = new TransformerBlock(c, heads, ff, new Random(seed), dropout);
        int i = 0;
        foreach (var (name, p) in block.NamedParameters())
        {
            if (!name.EndsWith("weight", StringComparison.Ordinal))
            {
                float[] noise = TestData.Uniform(p.Length, seed + 1000 + i++, 0.3f);
                Span<float> v = p.Value.Span;
                for (int k = 0; k < v.Length; k++)
                {
                    v[k] += noise[k];
                }
            }
        }

        return block;
    }

    [Fact]
    public void Gradients_match_finite_differences_without_dropout()
    {
        var block = Block(4, 2, 6, seed: 1);
        SequenceGradCheck.Check(block, SequenceGradCheck.Input(3, 4, 4, seed: 2), Mask);
    }

    [Fact]
    public void Gradients_match_finite_differences_with_frozen_dropout_masks()
    {
        var block = Block(4, 2, 6, seed: 3, dropout: 0.25f);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 4);
        block.Forward(x, Mask);
        block.Attention.AttentionDropout!.FreezeMask = true;
        block.AttentionBranchDropout.FreezeMask = true;
        block.FeedForwardBranchDropout.FreezeMask = true;
        SequenceGradCheck.Check(block, x, Mask);
    }

    [Fact]
    public void Padded_positions_output_zero_and_padded_inputs_never_change_real_outputs()
    {
        const int B = 3, T = 4, C = 4;
        var block = Block(C, 2, 6, seed: 5);
        float[] x = TestData.Uniform(B * T * C, 6);
        float[] y1 = block.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), Mask).Span.ToArray();
        for (int p = 0; p < Mask.Length; p++)
        {
            if (Mask[p] == 0f)
            {
                Assert.True(y1.AsSpan(p * C, C).SequenceEqual(new float[C]), $"padded position {p} must be zero");
                for (int k = 0; k < C; k++)
                {
                    x[p * C + k] = 2f * x[p * C + k] - 1f;
                }
            }
        }

        float[] y2 = block.Forward(Tensor.FromArray(x, B, T, C), Mask).Span.ToArray();
        Assert.Equal(y1, y2);
    }

    [Fact]
    public void Changing_a_later_position_never_changes_earlier_outputs_exactly()
    {
        const int B = 2, T = 5, C = 4;
        var block = Block(C, 2, 8, seed: 7);
        for (int changed = 0; changed < T; changed++)
        {
            float[] x = TestData.Uniform(B * T * C, 8);
            float[] y1 = block.Forward(Tensor.FromArray((float[])x.Clone(), B, T, C), []).Span.ToArray();
            x[(1 * T + changed) * C + 2] -= 0.5f;
            float[] y2 = block.Forward(Tensor.FromArray(x, B, T, C), []).Span.ToArray();
            for (int b = 0; b < B; b++)
            {
                for (int t = 0; t < T; t++)
                {
                    bool same = y1.AsSpan((b * T + t) * C, C).SequenceEqual(y2.AsSpan((b * T + t) * C, C));
                    Assert.True(b == 1 && t >= changed ? !same : same, $"changed t={changed}: b={b}, t={t}");
                }
            }
        }
    }

    [Fact]
    public void Repeated_backward_is_bit_identical()
    {
        var block = Block(4, 2, 6, seed: 9);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 10);
        float[][] first = SequenceGradCheck.Gradients(block, x, Mask, seed: 11);
        float[][] second = SequenceGradCheck.Gradients(block, x, Mask, seed: 11);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
    }

    [Fact]
    public void Dropout_is_the_identity_at_inference_and_active_in_training()
    {
        var plain = Block(4, 2, 6, seed: 12);
        var dropped = Block(4, 2, 6, seed: 12, dropout: 0.5f);
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 13);
        dropped.Training = false;
        Assert.False(dropped.Attention.Training);
        Assert.Equal(plain.Forward(x, Mask).Span.ToArray(), dropped.Forward(x, Mask).Span.ToArray());
        dropped.Training = true;
        Assert.NotEqual(plain.Forward(x, Mask).Span.ToArray(), dropped.Forward(x, Mask).Span.ToArray());
    }

    [Fact]
    public void Parameters_are_registered_under_stable_dotted_names()
    {
        var block = new TransformerBlock(4, 2, 6, new Random(1));
        string[] names = [.. block.NamedParameters().Select(p => p.Key)];
        Assert.Equal(
            [
                "norm1.scale", "norm1.shift",
                "attention.qkv.weight", "attention.qkv.bias", "attention.output.weight", "attention.output.bias",
                "norm2.scale", "norm2.shift",
                "feedForward1.weight", "feedForward1.bias", "feedForward2.weight", "feedForward2.bias",
            ],
            names);
    }

    [Fact]
    public void Same_seed_gives_the_same_block_and_the_same_training_output()
    {
        Tensor x = SequenceGradCheck.Input(3, 4, 4, seed: 14);
        float[] a = new TransformerBlock(4, 2, 6, new Random(15)).Forward(x, Mask).Span.ToArray();
        float[] b = new TransformerBlock(4, 2, 6, new Random(15)).Forward(x, Mask).Span.ToArray();
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(2, 0)]
    public void Empty_batches_and_empty_sequences_are_valid_no_ops(int batch, int steps)
    {
        var block = new TransformerBlock(4, 2, 6, new Random(20));
        Assert.Equal([batch, steps, 4], block.Forward(new Tensor(batch, steps, 4), []).Shape.ToArray());
        Assert.Equal([batch, steps, 4], block.Backward(new Tensor(batch, steps, 4)).Shape.ToArray());
    }

    [Fact]
    public void Bad_inputs_throw_ArgumentException()
    {
        var block = new TransformerBlock(4, 2, 6, new Random(16));
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => block.Forward(new Tensor(3, 4, 4), new float[11])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => block.Forward(new Tensor(3, 4, 8), [])).ParamName);
        Assert.Throws<InvalidOperationException>(() => block.Backward(new Tensor(3, 4, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerBlock(4, 3, 6, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerBlock(4, 2, 0, new Random(1)));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var block = Block(8, 2, 16, seed: 17, dropout: 0.1f);
        Tensor x = SequenceGradCheck.Input(3, 5, 8, seed: 18);
        float[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1];
        Assert.Equal(0, SequenceGradCheck.AllocatedPerSteps(block, x, mask, SequenceGradCheck.Input(3, 5, 8, seed: 19)));
    }
}

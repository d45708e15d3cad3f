using System.Runtime.InteropServices;
using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

/// <summary>
/// Every stateless inference twin (<c>Infer</c>) against its layer's <c>Forward</c> with <c>Training = false</c>: the
/// twins serve the models' concurrent reads, so they must give the very bits the layers give (the oracle is the layer
/// itself, whose own tests check it against naive references and finite differences). Shapes cover one and several
/// sequences, left padding, holes in the middle and rows that are all padding.
/// </summary>
public class InferenceTwinTests
{
    public static TheoryData<int, int> Batches => new() { { 1, 5 }, { 3, 4 }, { 2, 7 } };

    private static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        ReadOnlySpan<int> e = MemoryMarshal.Cast<float, int>(expected), a = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < e.Length; i++)
        {
            Assert.True(e[i] == a[i], $"element {i}: Forward gave {expected[i]:R}, Infer gave {actual[i]:R}");
        }
    }

    /// <summary>Left padding on sequence 0, a hole in the middle of sequence 1, all padding on sequence 2 (if present).</summary>
    private static float[] Mask(int batch, int steps)
    {
        var mask = new float[batch * steps];
        mask.AsSpan().Fill(1f);
        mask.AsSpan(0, Math.Min(2, steps - 1)).Clear();
        if (batch > 1)
        {
            mask[steps + (steps / 2)] = 0f;
        }

        if (batch > 2)
        {
            mask.AsSpan(2 * steps, steps).Clear();
        }

        return mask;
    }

    private static Tensor Input(int seed, params int[] shape)
    {
        var x = new Tensor(shape);
        TestData.Uniform(x.Length, seed, 2f).CopyTo(x.Span);
        return x;
    }

    [Theory]
    [InlineData(1, 13, 64)]
    [InlineData(37, 8, 3)]
    [InlineData(4000, 14, 1)]
    public void Linear_matches_forward(int rows, int inFeatures, int outFeatures)
    {
        var layer = new Linear(inFeatures, outFeatures, new Random(1));
        TestData.Uniform(outFeatures, 2).CopyTo(layer.Bias!.Value.Span);
        Tensor x = Input(3, rows, inFeatures);
        var actual = new float[rows * outFeatures];
        Linear.Infer(x.Span, layer.Weight.Value.Span, layer.Bias.Value.Span, rows, inFeatures, outFeatures, actual);
        AssertBitIdentical(layer.Forward(x).Span, actual);
    }

    [Fact]
    public void Activations_and_dropout_match_forward()
    {
        Tensor x = Input(4, 7, 33);
        var actual = new float[x.Length];
        Relu.Infer(x.Span, actual);
        AssertBitIdentical(new Relu().Forward(x).Span, actual);
        Gelu.Infer(x.Span, actual);
        AssertBitIdentical(new Gelu().Forward(x).Span, actual);

        // In place, as the scorers run them.
        x.Span.CopyTo(actual);
        Gelu.Infer(actual, actual);
        AssertBitIdentical(new Gelu().Forward(x).Span, actual);

        var dropout = new Dropout(0.5f, new Random(5)) { Training = false };
        Dropout.Infer(x.Span, actual);
        AssertBitIdentical(dropout.Forward(x).Span, actual);
        AssertBitIdentical(x.Span, actual); // the identity
    }

    [Fact]
    public void BatchNorm_uses_the_running_statistics_like_forward_in_inference()
    {
        const int features = 9, rows = 31;
        var layer = new BatchNorm1d(features);
        for (int step = 0; step < 3; step++)
        {
            layer.Forward(Input(10 + step, 16, features)); // training batches move the running statistics away from 0 and 1
        }

        TestData.Uniform(features, 20).CopyTo(layer.Scale.Value.Span);
        TestData.Uniform(features, 21).CopyTo(layer.Shift.Value.Span);
        Tensor x = Input(22, rows, features);
        var actual = new float[rows * features];
        BatchNorm1d.Infer(x.Span, layer.Scale.Value.Span, layer.Shift.Value.Span, layer.RunningMean, layer.RunningVariance,
            layer.Epsilon, rows, features, new float[features], actual);
        float[] mean = layer.RunningMean.ToArray();
        layer.Training = false;
        AssertBitIdentical(layer.Forward(x).Span, actual);
        AssertBitIdentical(mean, layer.RunningMean); // inference left the statistics alone
        Assert.NotEqual(0f, mean[0]);
    }

    [Fact]
    public void LayerNorm_matches_forward()
    {
        const int features = 24, rows = 10;
        var layer = new LayerNorm(features);
        TestData.Uniform(features, 30).CopyTo(layer.Scale.Value.Span);
        TestData.Uniform(features, 31).CopyTo(layer.Shift.Value.Span);
        Tensor x = Input(32, rows, features);
        var actual = new float[rows * features];
        LayerNorm.Infer(x.Span, layer.Scale.Value.Span, layer.Shift.Value.Span, layer.Epsilon, rows, features, new float[2 * rows], actual);
        AssertBitIdentical(layer.Forward(x).Span, actual);
        Assert.Equal(LayerNorm.DefaultEpsilon, layer.Epsilon);
    }

    [Fact]
    public void Embedding_lookup_matches_forward_and_zeroes_padding()
    {
        var table = new Embedding(12, 6, new Random(40), paddingIndex: 0);
        table.Weight.Value.Row(0).Fill(3f); // a written padding row must still look up as zeros
        int[] ids = [0, 0, 5, 11, 5, 0, 2];
        var actual = new float[ids.Length * 6];
        Embedding.Infer(table.Weight.Value.Span, 6, ids, 0, actual);
        AssertBitIdentical(table.Forward(ids).Span, actual);
        Assert.All(actual.AsSpan(0, 12).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Infer(table.Weight.Value.Span, 6, [12], 0, new float[6]));
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Positional_embedding_matches_forward(int batch, int steps)
    {
        var layer = new PositionalEmbedding(8, 5, new Random(50));
        Tensor x = Input(51, batch, steps, 5);
        float[] mask = Mask(batch, steps);
        var actual = new float[x.Length];
        PositionalEmbedding.Infer(x.Span, mask, layer.Weight.Value.Span, batch, steps, 5, actual);
        AssertBitIdentical(layer.Forward(x, mask).Span, actual);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Gru_matches_forward(int batch, int steps)
    {
        const int c = 6, h = 5;
        var layer = new Gru(c, h, new Random(60));
        Tensor x = Input(61, batch, steps, c);
        float[] mask = Mask(batch, steps);
        var actual = new float[batch * steps * h];
        Gru.Infer(x.Span, mask, layer.WeightInput.Value.Span, layer.WeightHidden.Value.Span, layer.BiasInput.Value.Span,
            layer.BiasHidden.Value.Span, batch, steps, c, h, new float[Gru.InferScratchLength(batch, steps, h)], actual);
        layer.Training = false;
        AssertBitIdentical(layer.Forward(x, mask).Span, actual);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Causal_attention_matches_forward_without_its_dropout(int batch, int steps)
    {
        const int c = 8, heads = 2;
        var layer = new CausalSelfAttention(c, heads, new Random(70), dropout: 0.3f) { Training = false };
        Tensor x = Input(71, batch, steps, c);
        float[] mask = Mask(batch, steps);
        var actual = new float[x.Length];
        CausalSelfAttention.Infer(x.Span, mask, ParameterValues.Live(layer.Parameters), batch, steps, c, heads,
            new float[CausalSelfAttention.InferScratchLength(batch, steps, c, heads)], actual);
        AssertBitIdentical(layer.Forward(x, mask).Span, actual);
        Assert.Equal(CausalSelfAttention.ParameterCount, layer.Parameters.Count);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Transformer_block_matches_forward_with_frozen_or_live_weights(int batch, int steps)
    {
        const int c = 8, heads = 2, f = 12;
        var block = new TransformerBlock(c, heads, f, new Random(80), dropout: 0.4f);
        foreach (Parameter p in block.Parameters)
        {
            TestData.Uniform(p.Length, p.Length + 81, 0.5f).CopyTo(p.Value.Span); // non-trivial norms and biases too
        }

        Tensor x = Input(82, batch, steps, c);
        float[] mask = Mask(batch, steps);
        var scratch = new float[TransformerBlock.InferScratchLength(batch, steps, c, heads, f)];
        var live = new float[x.Length];
        var frozen = new float[x.Length];
        ParameterValues copy = ParameterValues.Freeze(block.Parameters);
        TransformerBlock.Infer(x.Span, mask, ParameterValues.Live(block.Parameters), batch, steps, c, heads, scratch, live);
        TransformerBlock.Infer(x.Span, mask, copy, batch, steps, c, heads, scratch, frozen);
        block.Training = false;
        Tensor expected = block.Forward(x, mask);
        AssertBitIdentical(expected.Span, live);
        AssertBitIdentical(expected.Span, frozen);
        Assert.Equal(TransformerBlock.ParameterCount, block.Parameters.Count);

        // The frozen copy does not follow later changes to the parameters; the live view does.
        block.Parameters[0].Value.Span[0] += 1f;
        TransformerBlock.Infer(x.Span, mask, copy, batch, steps, c, heads, scratch, frozen);
        AssertBitIdentical(expected.Span, frozen);
        TransformerBlock.Infer(x.Span, mask, ParameterValues.Live(block.Parameters), batch, steps, c, heads, scratch, live);
        Assert.NotEqual(expected.Span.ToArray(), live);
    }

    [Fact]
    public void Twins_allocate_nothing()
    {
        const int c = 8, heads = 2, f = 12, batch = 1, steps = 6;
        var block = new TransformerBlock(c, heads, f, new Random(90));
        var gru = new Gru(c, c, new Random(91));
        Tensor x = Input(92, batch, steps, c);
        float[] mask = Mask(batch, steps);
        var scratch = new float[Math.Max(TransformerBlock.InferScratchLength(batch, steps, c, heads, f), Gru.InferScratchLength(batch, steps, c))];
        var output = new float[x.Length];
        ParameterValues weights = ParameterValues.Live(block.Parameters);
        Allocations.AssertNone("TransformerBlock.Infer", () =>
            TransformerBlock.Infer(x.Span, mask, weights, batch, steps, c, heads, scratch, output));
        Allocations.AssertNone("Gru.Infer", () => Gru.Infer(x.Span, mask, gru.WeightInput.Value.Span, gru.WeightHidden.Value.Span,
            gru.BiasInput.Value.Span, gru.BiasHidden.Value.Span, batch, steps, c, c, scratch, output));
    }
}

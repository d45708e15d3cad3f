using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

public class PositionalEmbeddingTests
{
    private static readonly float[] Mask = [0, 0, 1, 1, 1, 1, 1, 0];

    [Fact]
    public void Gradients_match_finite_differences_with_padding()
    {
        var layer = new PositionalEmbedding(6, 3, new Random(1));
        SequenceGradCheck.Check(layer, SequenceGradCheck.Input(2, 4, 3, seed: 2), Mask);
    }

    [Fact]
    public void Adds_row_t_of_the_table_to_real_positions_and_zeroes_padding()
    {
        const int B = 2, T = 4, C = 3;
        var layer = new PositionalEmbedding(6, C, new Random(3));
        float[] x = TestData.Uniform(B * T * C, 4);
        float[] y = layer.Forward(Tensor.FromArray(x, B, T, C), Mask).Span.ToArray();
        ReadOnlySpan<float> table = layer.Weight.Value.Span;
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                int p = b * T + t;
                for (int k = 0; k < C; k++)
                {
                    float expected = Mask[p] == 0f ? 0f : x[p * C + k] + table[t * C + k];
                    Assert.Equal(expected, y[p * C + k]);
                }
            }
        }
    }

    [Fact]
    public void Table_gradient_sums_real_positions_and_unused_rows_get_exactly_zero()
    {
        const int B = 2, T = 4, C = 3;
        var layer = new PositionalEmbedding(6, C, new Random(5));
        layer.Forward(SequenceGradCheck.Input(B, T, C, seed: 6), Mask);
        float[] dy = TestData.Uniform(B * T * C, 7);
        float[] dx = layer.Backward(Tensor.FromArray((float[])dy.Clone(), B, T, C)).Span.ToArray();
        ReadOnlySpan<float> dTable = layer.Weight.Gradient.Span;
        for (int t = 0; t < 6; t++)
        {
            for (int k = 0; k < C; k++)
            {
                float expected = 0f;
                for (int b = 0; b < B; b++)
                {
                    int p = b * T + t;
                    if (t < T && Mask[p] != 0f)
                    {
                        expected += dy[p * C + k];
                    }
                }

                Assert.Equal(expected, dTable[t * C + k], 6);
            }
        }

        for (int p = 0; p < B * T; p++)
        {
            for (int k = 0; k < C; k++)
            {
                Assert.Equal(Mask[p] == 0f ? 0f : dy[p * C + k], dx[p * C + k]);
            }
        }

        Assert.True(dTable[(T * C)..].SequenceEqual(new float[(6 - T) * C]), "rows beyond T must get exactly zero gradient");
    }

    [Fact]
    public void Bad_inputs_throw_ArgumentException()
    {
        var layer = new PositionalEmbedding(3, 2, new Random(8));
        var tooLong = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(1, 4, 2), []));
        Assert.Equal("input", tooLong.ParamName);
        Assert.Contains("4", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(1, 3, 5), [])).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(2, 3, 2), [1, 1, 1])).ParamName);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(1, 3, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PositionalEmbedding(0, 2, new Random(1)));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var layer = new PositionalEmbedding(5, 4, new Random(9));
        Tensor x = SequenceGradCheck.Input(2, 4, 4, seed: 10);
        Assert.Equal(0, SequenceGradCheck.AllocatedPerSteps(layer, x, Mask, SequenceGradCheck.Input(2, 4, 4, seed: 11)));
    }
}

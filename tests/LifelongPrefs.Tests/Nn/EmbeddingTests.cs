using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Nn;

public class EmbeddingTests
{
    /// <summary>
    /// Checks d(Σ probe ⊙ Forward(ids))/d(weight) by finite differences over the whole table: repeated ids must
    /// accumulate, unused rows and the padding row must have zero gradient.
    /// </summary>
    private static void CheckWeightGradient(Embedding embedding, int[] ids, int seed)
    {
        Tensor output = embedding.Forward(ids);
        float[] probe = TestData.Uniform(output.Length, seed);
        embedding.ZeroGrad();
        embedding.Backward(Tensor.FromArray((float[])probe.Clone(), output.Shape.ToArray()));
        float[] analytic = embedding.Weight.Gradient.Span.ToArray();
        float[] values = embedding.Weight.Value.Span.ToArray();

        GradCheck.Check("weight", values, analytic, () =>
        {
            values.CopyTo(embedding.Weight.Value.Span);
            ReadOnlySpan<float> y = embedding.Forward(ids).Span;
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += (double)probe[i] * y[i];
            }

            return sum;
        });
        values.CopyTo(embedding.Weight.Value.Span);
    }

    [Fact]
    public void Weight_gradient_matches_finite_differences_with_repeated_ids_and_padding()
    {
        var embedding = new Embedding(7, 3, new Random(1), paddingIndex: 0);
        int[] ids = [2, 5, 2, 0, 6, 2, 0, 5];

        CheckWeightGradient(embedding, ids, seed: 2);

        // Exact structure: the padding row and the unused rows (1, 3, 4) have exactly zero gradient.
        foreach (int row in new[] { 0, 1, 3, 4 })
        {
            Assert.All(embedding.Weight.Gradient.Row(row).ToArray(), g => Assert.Equal(0f, g));
        }

        Assert.Equal(new[] { 2, 5, 6 }, embedding.Weight.TouchedRows.ToArray());
    }

    [Fact]
    public void Weight_gradient_matches_finite_differences_without_padding()
    {
        var embedding = new Embedding(5, 4, new Random(3));
        CheckWeightGradient(embedding, [4, 4, 1, 0, 4], seed: 4);
        Assert.Equal(new[] { 4, 1, 0 }, embedding.Weight.TouchedRows.ToArray());
    }

    [Fact]
    public void Repeated_ids_accumulate_exactly()
    {
        var embedding = new Embedding(4, 2, new Random(5));
        embedding.Forward([3, 1, 3]);
        embedding.Backward(Tensor.FromArray([1f, 2f, 10f, 20f, 0.5f, 0.25f], 3, 2));

        Assert.Equal(new[] { 1.5f, 2.25f }, embedding.Weight.Gradient.Row(3).ToArray());
        Assert.Equal(new[] { 10f, 20f }, embedding.Weight.Gradient.Row(1).ToArray());
        Assert.Equal(new[] { 0f, 0f }, embedding.Weight.Gradient.Row(0).ToArray());
    }

    [Fact]
    public void Forward_gathers_rows_and_padding_gives_zero_vectors()
    {
        var embedding = new Embedding(5, 3, new Random(6), paddingIndex: 4);
        Assert.All(embedding.Weight.Value.Row(4).ToArray(), v => Assert.Equal(0f, v));
        // Even if something (a checkpoint, weight decay) wrote the padding row, lookups stay zero.
        embedding.Weight.Value.Row(4).Fill(9f);

        Tensor y = embedding.Forward([1, 4, 1], 1, 3);

        Assert.Equal(new[] { 1, 3, 3 }, y.Shape.ToArray());
        Assert.Equal(embedding.Weight.Value.Row(1).ToArray(), y.Span[..3].ToArray());
        Assert.Equal(new[] { 0f, 0f, 0f }, y.Span.Slice(3, 3).ToArray());
        Assert.Equal(embedding.Weight.Value.Row(1).ToArray(), y.Span.Slice(6, 3).ToArray());

        embedding.Backward(LayerTestKit.RandomTensor(7, 1, 3, 3));
        Assert.All(embedding.Weight.Gradient.Row(4).ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(new[] { 1 }, embedding.Weight.TouchedRows.ToArray());
    }

    [Fact]
    public void Initial_rows_follow_a_truncated_normal_with_sigma_one_over_root_d()
    {
        const int d = 16;
        var embedding = new Embedding(500, d, new Random(8));
        float[] w = embedding.Weight.Value.Span.ToArray();
        float sigma = 1f / MathF.Sqrt(d);
        Assert.All(w, v => Assert.InRange(v, -2 * sigma, 2 * sigma));
        double variance = w.Select(v => (double)v * v).Average();
        // Truncating N(0, σ²) at 2σ leaves variance ≈ 0.774σ²; 8000 samples estimate it to within a few %.
        Assert.InRange(variance, 0.70 * sigma * sigma, 0.85 * sigma * sigma);
        Assert.True(embedding.Weight.HasSparseRows);
    }

    [Fact]
    public void Grow_keeps_existing_rows_bit_identical_and_new_ids_work()
    {
        var embedding = new Embedding(4, 3, new Random(9), paddingIndex: 1);
        embedding.Forward([0, 3]);
        embedding.Backward(LayerTestKit.RandomTensor(10, 2, 3));
        float[] values = embedding.Weight.Value.Span.ToArray();
        float[] gradients = embedding.Weight.Gradient.Span.ToArray();

        embedding.Grow(7);

        Assert.Equal(7, embedding.Count);
        Assert.Equal(new[] { 7, 3 }, embedding.Weight.Value.Shape.ToArray());
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BitConverter.SingleToInt32Bits(embedding.Weight.Value.Span[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(gradients[i]), BitConverter.SingleToInt32Bits(embedding.Weight.Gradient.Span[i]));
        }

        // New rows are initialised (not left at zero) and usable immediately, for lookups and gradients.
        Assert.Contains(embedding.Weight.Value.Row(5).ToArray(), v => v != 0f);
        Tensor y = embedding.Forward([6, 5]);
        Assert.Equal(embedding.Weight.Value.Row(6).ToArray(), y.Span[..3].ToArray());
        embedding.Backward(Tensor.FromArray([1f, 1f, 1f, 2f, 2f, 2f], 2, 3));
        Assert.Equal(new[] { 2f, 2f, 2f }, embedding.Weight.Gradient.Row(5).ToArray());
        Assert.Contains(6, embedding.Weight.TouchedRows.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Grow(6));
        embedding.Grow(7);
        Assert.Equal(7, embedding.Count);
    }

    [Fact]
    public void Grow_is_deterministic_for_a_seed()
    {
        var a = new Embedding(3, 4, new Random(11));
        var b = new Embedding(3, 4, new Random(11));
        a.Grow(6);
        b.Grow(5);
        b.Grow(6);
        Assert.Equal(a.Weight.Value.Span.ToArray(), b.Weight.Value.Span.ToArray());
    }

    [Fact]
    public void Out_of_range_ids_are_rejected_naming_position_and_value_and_change_nothing()
    {
        var embedding = new Embedding(5, 2, new Random(12));
        Tensor output = embedding.Forward([1, 2]);
        float[] before = output.Span.ToArray();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward([0, 3, 5]));
        Assert.Equal("ids", e.ParamName);
        Assert.Contains("ids[2] = 5", e.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 5)", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward([-1]));
        Assert.Throws<ArgumentException>(() => embedding.Forward([1, 2, 3], 2, 2));
        Assert.Throws<ArgumentException>(() => embedding.Backward(new Tensor(3, 2)));

        // The cached forward pass is still the first one.
        Assert.Equal(before, output.Span.ToArray());
        embedding.Backward(Tensor.FromArray([1f, 1f, 1f, 1f], 2, 2));
        Assert.Equal(new[] { 1, 2 }, embedding.Weight.TouchedRows.ToArray());
    }

    [Fact]
    public void Constructor_and_backward_validate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(0, 2, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(2, 0, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(2, 2, new Random(1), paddingIndex: 2));
        Assert.Throws<ArgumentNullException>(() => new Embedding(2, 2, null!));
        Assert.Throws<InvalidOperationException>(() => new Embedding(2, 2, new Random(1)).Backward(new Tensor(1, 2)));
    }

    [Fact]
    public void Forward_and_backward_allocate_nothing_after_warm_up()
    {
        var embedding = new Embedding(1000, 16, new Random(13), paddingIndex: 0);
        int[] ids = new int[64];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = i * 37 % 1000;
        }

        Tensor gradOut = LayerTestKit.RandomTensor(14, 64, 16);
        Tensor gradOut3 = LayerTestKit.RandomTensor(15, 8, 8, 16);
        LayerTestKit.AssertNoAllocation("Embedding", () =>
        {
            embedding.Forward(ids);
            embedding.Backward(gradOut);
            embedding.Weight.ZeroGradient();
            embedding.Forward(ids, 8, 8);
            embedding.Backward(gradOut3);
            embedding.Weight.ZeroGradient();
        });
    }
}

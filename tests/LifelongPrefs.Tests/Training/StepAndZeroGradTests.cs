using LifelongPrefs.Nn;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Training;

/// <summary>The fused step-and-clear must equal <c>Step()</c> followed by <c>ZeroGrad()</c>, bit for bit.</summary>
public class StepAndZeroGradTests
{
    private static (Parameter Dense, Parameter Sparse) Make(int seed)
    {
        var dense = new Parameter("w", Tensor.FromArray(TestData.Uniform(12, seed), 3, 4));
        var sparse = new Parameter("table", Tensor.FromArray(TestData.Uniform(40 * 8, seed + 1), 40, 8), sparseRows: true);
        return (dense, sparse);
    }

    private static void Backward(Parameter dense, Parameter sparse, int seed)
    {
        TestData.Uniform(12, seed).CopyTo(dense.Gradient.Span);
        var random = new Random(seed);
        for (int i = 0; i < 30; i++)
        {
            int row = random.Next(40);
            Kernels.Axpy(1f, TestData.Uniform(8, seed + i), sparse.Gradient.Row(row));
            sparse.MarkRowTouched(row);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fused_step_equals_step_then_zero_grad(bool lazy)
    {
        var (d1, s1) = Make(1);
        var (d2, s2) = Make(1);
        var separate = new Adam([d1, s1], learningRate: 0.01f, lazy: lazy);
        var fused = new Adam([d2, s2], learningRate: 0.01f, lazy: lazy);
        for (int step = 0; step < 4; step++)
        {
            Backward(d1, s1, 10 + step);
            Backward(d2, s2, 10 + step);
            Assert.True(separate.Step().Applied);
            separate.ZeroGrad();
            Assert.True(fused.StepAndZeroGrad().Applied);

            Assert.Equal(d1.Value.Span.ToArray(), d2.Value.Span.ToArray());
            Assert.Equal(s1.Value.Span.ToArray(), s2.Value.Span.ToArray());
            Assert.All(d2.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
            Assert.All(s2.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
            Assert.Equal(0, s2.TouchedRows.Length);
        }
    }

    [Fact]
    public void Skipped_step_discards_the_bad_gradients_and_changes_nothing_else()
    {
        var (dense, sparse) = Make(2);
        var optimizer = new Adam([dense, sparse], learningRate: 0.01f, lazy: true);
        float[] before = sparse.Value.Span.ToArray();
        Backward(dense, sparse, 5);
        sparse.Gradient.Row(sparse.TouchedRows[0])[3] = float.NaN;

        StepResult result = optimizer.StepAndZeroGrad();

        Assert.True(result.Skipped);
        Assert.Equal("table", result.NonFiniteParameterName);
        Assert.Equal(before, sparse.Value.Span.ToArray());
        Assert.Equal(0, optimizer.StepCount);
        Assert.DoesNotContain(sparse.Gradient.Span.ToArray(), g => g != 0f);
        Assert.Equal(0, sparse.TouchedRows.Length);
    }
}

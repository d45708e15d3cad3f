using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Tensors;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>
/// Kernels on caller-provided buffers must allocate nothing. Each kernel runs once to warm up (first-call
/// costs such as GEMM's per-thread packing buffers are allowed), then the bytes allocated by this thread
/// across further calls must be exactly zero. This asserts behaviour, not speed.
/// </summary>
public class AllocationTests
{
    private delegate void Kernel();

    private static void AssertNoAllocation(string name, Kernel kernel)
    {
        Allocations.AssertNone(name, () => kernel());
    }

    [Fact]
    public void Kernels_on_caller_buffers_allocate_nothing()
    {
        const int rows = 64, cols = 300;
        float[] a = TestData.Uniform(rows * cols, 1), b = TestData.Uniform(rows * cols, 2);
        float[] w = TestData.Uniform(cols * cols, 3), c = new float[rows * cols], d = new float[rows * cols];
        float[] rowsOut = new float[rows], colsOut = new float[cols], colsOut2 = new float[cols];
        int[] targets = Enumerable.Range(0, rows).Select(i => i * 7 % cols).ToArray();
        int[] ids = Enumerable.Range(0, rows).Select(i => i * 5 % rows).ToArray();
        float[] scores = TestData.Uniform(100_000, 4);
        int[] top = new int[10], excluded = [3, 50, 999];
        float[] topValues = new float[10];

        AssertNoAllocation("Gemm NN", () => Kernels.Gemm(Transpose.None, Transpose.None, rows, cols, cols, 1f, a, cols, w, cols, 0f, c, cols));
        AssertNoAllocation("Gemm TN", () => Kernels.Gemm(Transpose.Transpose, Transpose.None, cols, cols, rows, 1f, a, cols, b, cols, 1f, w, cols));
        AssertNoAllocation("Gemm NT", () => Kernels.Gemm(Transpose.None, Transpose.Transpose, rows, rows, cols, 1f, a, cols, b, cols, 0f, d, rows));
        AssertNoAllocation("Gemv", () => Kernels.Gemv(Transpose.Transpose, rows, cols, 1f, a, cols, rowsOut, 0f, colsOut));
        AssertNoAllocation("ScoreAll", () => Kernels.ScoreAll(a, colsOut, rowsOut));
        AssertNoAllocation("Add", () => Kernels.Add(a, b, c));
        AssertNoAllocation("Axpy", () => Kernels.Axpy(0.5f, a, c));
        AssertNoAllocation("AddRowBias", () => Kernels.AddRowBias(colsOut, c, rows, cols));
        AssertNoAllocation("Gelu", () => Kernels.Gelu(a, c));
        AssertNoAllocation("GeluBackward", () => Kernels.GeluBackward(a, b, c));
        AssertNoAllocation("LeakyRelu", () => Kernels.LeakyRelu(a, 0.1f, c));
        AssertNoAllocation("Sigmoid", () => Kernels.Sigmoid(a, c));
        AssertNoAllocation("TanhBackward", () => Kernels.TanhBackward(a, b, c));
        AssertNoAllocation("SoftmaxRows", () => Kernels.SoftmaxRows(a, rows, cols, c));
        AssertNoAllocation("LogSoftmaxRows", () => Kernels.LogSoftmaxRows(a, rows, cols, c));
        AssertNoAllocation("LogSumExpRows", () => Kernels.LogSumExpRows(a, rows, cols, rowsOut));
        AssertNoAllocation("SoftmaxCrossEntropy", () => Kernels.SoftmaxCrossEntropy(a, rows, cols, targets, c));
        AssertNoAllocation("SumColumns", () => Kernels.SumColumns(a, rows, cols, colsOut));
        AssertNoAllocation("MeanVarianceColumns", () => Kernels.MeanVarianceColumns(a, rows, cols, colsOut, colsOut2));
        AssertNoAllocation("MeanVarianceRows", () => Kernels.MeanVarianceRows(a, rows, cols, rowsOut, new Span<float>(d, 0, rows)));
        AssertNoAllocation("GatherRows", () => Kernels.GatherRows(a, cols, ids, c));
        AssertNoAllocation("ScatterAddRows", () => Kernels.ScatterAddRows(a, cols, ids, c));
        AssertNoAllocation("TopK", () => Kernels.TopK(scores, top, topValues));
        AssertNoAllocation("TopK excluded", () => Kernels.TopK(scores, excluded, top, topValues));
    }
}

namespace LifelongPrefs.Tensors;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose
{
    /// <summary>Use the matrix as stored: op(X) = X.</summary>
    None = 0,

    /// <summary>Use the transpose of the stored matrix: op(X) = Xᵀ.</summary>
    Transpose = 1,
}

public static partial class Kernels
{
    /// <summary>STUB</summary>
    public static void Gemm(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int maxDegreeOfParallelism = 1)
    {
        throw new NotImplementedException();
    }
}

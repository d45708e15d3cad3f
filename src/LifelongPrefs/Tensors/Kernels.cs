namespace LifelongPrefs.Tensors;

/// <summary>
/// Numeric kernels over row-major <see cref="float"/> spans: matrix products, element-wise
/// arithmetic and activations, numerically stable softmax and cross-entropy, reductions,
/// row gather/scatter and top-K selection.
/// </summary>
/// <remarks>
/// Every kernel takes its inputs first and its destination last, validates lengths and overlap
/// before touching memory (throwing an <see cref="ArgumentException"/> that names the offending
/// argument), and allocates nothing. Kernels use 512-bit or 256-bit vectors where the hardware
/// accelerates them and <see cref="System.Numerics.Tensors.TensorPrimitives"/> where it is already
/// the best tool. Results can differ in the last bits between vector widths (summation order), but
/// are bit-identical run to run on one machine.
/// </remarks>
public static partial class Kernels
{
}

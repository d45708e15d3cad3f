using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

/// <summary>
/// The maths of an element-wise unary operation at every width our kernels support. Operators are small
/// readonly structs; a runtime parameter (a slope, a scale) rides in the instance, and the struct constraint
/// on the driver makes the JIT specialise and inline each one.
/// </summary>
internal interface IUnaryOperator
{
    float Invoke(float x);

    Vector256<float> Invoke(Vector256<float> x);

    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>The maths of an element-wise binary operation at every width our kernels support.</summary>
internal interface IBinaryOperator
{
    float Invoke(float x, float y);

    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);

    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// Shared loops for element-wise kernels: pick the widest width <see cref="Simd.Current"/> allows and
/// finish the tail by re-processing an overlapping last vector (safe because the operations are
/// pure per element), so there is no scalar remainder loop. Callers validate lengths and overlap.
/// </summary>
internal static class ElementwiseDriver
{
    /// <summary>destination[i] = TOp(x[i]). In place is allowed when the spans start together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unary<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> destination)
        where TOp : struct, IUnaryOperator
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int n = x.Length;
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            int last = n - Vector512<float>.Count;
            // Load the overlapping tail before the main loop: when running in place the main loop
            // overwrites those elements, and re-applying TOp to an output would be wrong.
            Vector512<float> tail = Vector512.LoadUnsafe(ref xr, (nuint)last);
            for (int i = 0; i < last; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            op.Invoke(tail).StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            int last = n - Vector256<float>.Count;
            Vector256<float> tail = Vector256.LoadUnsafe(ref xr, (nuint)last);
            for (int i = 0; i < last; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            op.Invoke(tail).StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        for (int i = 0; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i));
        }
    }

    /// <summary>destination[i] = TOp(x[i], y[i]). In place is allowed when the spans start together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Binary<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
        where TOp : struct, IBinaryOperator
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int n = x.Length;
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            int last = n - Vector512<float>.Count;
            Vector512<float> tail = op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)last), Vector512.LoadUnsafe(ref yr, (nuint)last));
            for (int i = 0; i < last; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            tail.StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            int last = n - Vector256<float>.Count;
            Vector256<float> tail = op.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)last), Vector256.LoadUnsafe(ref yr, (nuint)last));
            for (int i = 0; i < last; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            tail.StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        for (int i = 0; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
        }
    }
}

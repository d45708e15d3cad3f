using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Quantizes one row symmetrically to 8 bits with <see cref="Int8BlockDots"/>' offset: with m = max |v_j|,
    /// <c>levels[j] = clamp(round(v_j · 127 / m), −127, 127) + 128</c> (round half to even, as <see cref="MathF.Round(float)"/>),
    /// so that <c>v_j ≈ (levels[j] − 128) · m / 127</c>.
    /// </summary>
    /// <param name="values">The row.</param>
    /// <param name="levels">Receives one level per value (at least as long as the row).</param>
    /// <returns>
    /// m: NaN when a value is NaN, infinity when one is infinite; in those cases, and for an all-zero row (m = 0),
    /// <paramref name="levels"/> is left as it was.
    /// </returns>
    /// <remarks>
    /// Every path (Vector512, Vector256, scalar) gives the same bytes: the maximum is exact in any order, and each level is
    /// one IEEE product rounded to an integer.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="levels"/> is shorter than the row.</exception>
    internal static float QuantizeInt8Row(ReadOnlySpan<float> values, Span<byte> levels)
    {
        if (levels.Length < values.Length)
        {
            ThrowHelper.ThrowArgument(nameof(levels), $"QuantizeInt8Row: {levels.Length} levels for a row of {values.Length}.");
        }

        // TensorPrimitives.MaxMagnitude returns NaN when a value is NaN, and the maximum is exact in any order.
        float max = values.IsEmpty ? 0f : Math.Abs(TensorPrimitives.MaxMagnitude(values));
        if (!(max > 0f) || !float.IsFinite(max))
        {
            return max;
        }

        float inverse = 127f / max;
        int j = 0, n = values.Length;
        ref float v = ref MemoryMarshal.GetReference(values);
        ref byte l = ref MemoryMarshal.GetReference(levels);
        SimdWidth width = Simd.Current;
        if (width == SimdWidth.Vector512)
        {
            for (; j + 64 <= n; j += 64)
            {
                Vector512<short> low = Vector512.Narrow(Level512(ref v, j, inverse), Level512(ref v, j + 16, inverse));
                Vector512<short> high = Vector512.Narrow(Level512(ref v, j + 32, inverse), Level512(ref v, j + 48, inverse));
                Vector512.Narrow(low.AsUInt16(), high.AsUInt16()).StoreUnsafe(ref l, (nuint)j);
            }
        }
        else if (width == SimdWidth.Vector256)
        {
            for (; j + 32 <= n; j += 32)
            {
                Vector256<short> low = Vector256.Narrow(Level256(ref v, j, inverse), Level256(ref v, j + 8, inverse));
                Vector256<short> high = Vector256.Narrow(Level256(ref v, j + 16, inverse), Level256(ref v, j + 24, inverse));
                Vector256.Narrow(low.AsUInt16(), high.AsUInt16()).StoreUnsafe(ref l, (nuint)j);
            }
        }

        for (; j < n; j++)
        {
            levels[j] = (byte)(Math.Clamp((int)MathF.Round(values[j] * inverse), -127, 127) + Int8LevelOffset);
        }

        return max;
    }

    /// <summary>The level that stands for 0 in <see cref="QuantizeInt8Row"/> and <see cref="Int8BlockDots"/>' unsigned rows.</summary>
    internal const int Int8LevelOffset = 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Level512(ref float v, int j, float inverse)
    {
        Vector512<float> scaled = Vector512.Round(Vector512.LoadUnsafe(ref v, (nuint)j) * inverse);
        Vector512<int> level = Vector512.ConvertToInt32(scaled);
        return Vector512.Min(Vector512.Max(level, Vector512.Create(-127)), Vector512.Create(127)) + Vector512.Create(Int8LevelOffset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Level256(ref float v, int j, float inverse)
    {
        Vector256<float> scaled = Vector256.Round(Vector256.LoadUnsafe(ref v, (nuint)j) * inverse);
        Vector256<int> level = Vector256.ConvertToInt32(scaled);
        return Vector256.Min(Vector256.Max(level, Vector256.Create(-127)), Vector256.Create(127)) + Vector256.Create(Int8LevelOffset);
    }
}

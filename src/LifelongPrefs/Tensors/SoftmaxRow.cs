using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

/// <summary>
/// The vectorised row passes shared by the softmax family and the fused cross-entropy: a row
/// maximum that also reports NaN, a pass that exponentiates the shifted row while summing it, and
/// a shift-and-subtract pass. Each picks its width from <see cref="Simd.Current"/>. Callers
/// validate lengths and overlap; an output may be the same memory as its input.
/// </summary>
internal static class SoftmaxRow
{
    // ln(2^-126): below this exp(x) is subnormal in float; such results are flushed to 0.
    private const float ExpLowerBound = -87.33654f;
    private const float Log2E = 1.44269504088896341f;
    private const float RoundingShifter = 12582912f; // 1.5 · 2^23
    // Elements summed in float vector lanes before the partial sum is folded into a double.
    private const int SumBlock = 1024;
    // ln 2 split so that n * Ln2Hi is exact for the |n| <= 126 we produce (Cody–Waite reduction).
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    // Minimax coefficients for (exp(r) - 1 - r) / r^2 on |r| <= ln2 / 2 (as in Cephes expf).
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    /// <summary>
    /// Validates a row-major matrix argument and returns its element count (rows × columns).
    /// </summary>
    internal static int MatrixLength(ReadOnlySpan<float> x, int rows, int columns,
        [CallerArgumentExpression(nameof(x))] string name = "")
    {
        Guard.NonNegative(rows);
        Guard.NonNegative(columns);
        long total = (long)rows * columns;
        if (total > int.MaxValue)
        {
            ThrowHelper.ThrowArgument(name, $"rows ({rows}) × columns ({columns}) exceeds the largest span length.");
        }

        Guard.Length(x, (int)total, name);
        return (int)total;
    }

    /// <summary>Whether <see cref="ExpSum{TMode}"/> writes the exponentials.</summary>
    internal interface IMode
    {
        static abstract bool Stores { get; }
    }

    /// <summary>Write exp(x - max) to the output.</summary>
    internal readonly struct Store : IMode
    {
        public static bool Stores => true;
    }

    /// <summary>Only sum exp(x - max); the output span is ignored.</summary>
    internal readonly struct Discard : IMode
    {
        public static bool Stores => false;
    }

    /// <summary>
    /// The largest element (−∞ for an empty row), and whether any element is NaN; when
    /// <paramref name="hasNaN"/> is true the returned value is meaningless.
    /// </summary>
    internal static float Max(ReadOnlySpan<float> x, out bool hasNaN)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            // MaxNative drops NaN depending on operand order, so NaN is tracked separately by an
            // "every lane was ordered" mask. Max is idempotent, so the tail simply overlaps.
            Vector512<float> max0 = Vector512.LoadUnsafe(ref xr);
            Vector512<float> max1 = max0;
            Vector512<float> ordered = Vector512.Equals(max0, max0);
            int i = Vector512<float>.Count;
            for (; i <= n - 2 * Vector512<float>.Count; i += 2 * Vector512<float>.Count)
            {
                Vector512<float> a = Vector512.LoadUnsafe(ref xr, (nuint)i);
                Vector512<float> b = Vector512.LoadUnsafe(ref xr, (nuint)(i + Vector512<float>.Count));
                max0 = Vector512.MaxNative(max0, a);
                max1 = Vector512.MaxNative(max1, b);
                ordered &= Vector512.Equals(a, a) & Vector512.Equals(b, b);
            }

            for (; i < n; i += Vector512<float>.Count)
            {
                Vector512<float> a = Vector512.LoadUnsafe(ref xr, (nuint)Math.Min(i, n - Vector512<float>.Count));
                max0 = Vector512.MaxNative(max0, a);
                ordered &= Vector512.Equals(a, a);
            }

            // Compare as integers: an all-ones float is itself NaN and never equal.
            hasNaN = ordered.AsUInt32() != Vector512<uint>.AllBitsSet;
            return HorizontalMax(Vector512.MaxNative(max0, max1));
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            Vector256<float> max0 = Vector256.LoadUnsafe(ref xr);
            Vector256<float> max1 = max0;
            Vector256<float> ordered = Vector256.Equals(max0, max0);
            int i = Vector256<float>.Count;
            for (; i <= n - 2 * Vector256<float>.Count; i += 2 * Vector256<float>.Count)
            {
                Vector256<float> a = Vector256.LoadUnsafe(ref xr, (nuint)i);
                Vector256<float> b = Vector256.LoadUnsafe(ref xr, (nuint)(i + Vector256<float>.Count));
                max0 = Vector256.MaxNative(max0, a);
                max1 = Vector256.MaxNative(max1, b);
                ordered &= Vector256.Equals(a, a) & Vector256.Equals(b, b);
            }

            for (; i < n; i += Vector256<float>.Count)
            {
                Vector256<float> a = Vector256.LoadUnsafe(ref xr, (nuint)Math.Min(i, n - Vector256<float>.Count));
                max0 = Vector256.MaxNative(max0, a);
                ordered &= Vector256.Equals(a, a);
            }

            hasNaN = ordered.AsUInt32() != Vector256<uint>.AllBitsSet;
            return HorizontalMax(Vector256.MaxNative(max0, max1));
        }

        float max = float.NegativeInfinity;
        bool nan = false;
        for (int i = 0; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            nan |= float.IsNaN(v);
            max = v > max ? v : max;
        }

        hasNaN = nan;
        return max;
    }

    /// <summary>
    /// Returns Σ exp(x[i] - max) and, when <typeparamref name="TMode"/> stores, writes each term to
    /// <paramref name="destination"/>. Requires a finite <paramref name="max"/> that is at least
    /// every element and no NaN in <paramref name="x"/>, so every exponent is in [−∞, 0].
    /// </summary>
    internal static float ExpSum<TMode>(ReadOnlySpan<float> x, float max, Span<float> destination)
        where TMode : struct, IMode
    {
        int n = x.Length;
        SimdWidth width = Simd.Current;
        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            return ExpSum512<TMode>(x, max, destination);
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            return ExpSum256<TMode>(x, max, destination);
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);

        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref xr, i) - max);
            if (TMode.Stores)
            {
                Unsafe.Add(ref dr, i) = e;
            }

            sum += e;
        }

        return (float)sum;
    }

    // Each width in its own method so the register allocator sees only one loop's live values.
    private static float ExpSum512<TMode>(ReadOnlySpan<float> x, float max, Span<float> destination)
        where TMode : struct, IMode
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int n = x.Length;
        const int Count = 16;
        Vector512<float> shift = Vector512.Create(max);
        int last = n - Count;
        // Read the overlapping tail before the loop: in place, the loop overwrites part of it.
        Vector512<float> tail = Vector512.LoadUnsafe(ref xr, (nuint)last);
        double total = 0;
        int i = 0;
        while (i <= last)
        {
            // Fold each block's lane sums into a double so the float rounding error stays that
            // of a 16-lane sum of SumBlock elements however long the row is. One vector
            // accumulator suffices: the exp work per vector hides the add latency.
            int stop = Math.Min(last, i + SumBlock - Count);
            Vector512<float> sum = Vector512<float>.Zero;
            for (; i <= stop; i += Count)
            {
                Vector512<float> e = ExpNonPositive(Vector512.LoadUnsafe(ref xr, (nuint)i) - shift);
                if (TMode.Stores)
                {
                    e.StoreUnsafe(ref dr, (nuint)i);
                }

                sum += e;
            }

            total += Vector512.Sum(sum);
        }

        if (i < n)
        {
            // Rewriting the overlapped lanes stores the same values; only the new lanes are summed.
            Vector512<float> e = ExpNonPositive(tail - shift);
            if (TMode.Stores)
            {
                e.StoreUnsafe(ref dr, (nuint)last);
            }

            Vector512<int> firstNew = Vector512.Create(Count - (n - i));
            total += Vector512.Sum(e & Vector512.GreaterThanOrEqual(Vector512<int>.Indices, firstNew).AsSingle());
        }

        return (float)total;
    }

    private static float ExpSum256<TMode>(ReadOnlySpan<float> x, float max, Span<float> destination)
        where TMode : struct, IMode
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int n = x.Length;
        const int Count = 8;
        Vector256<float> shift = Vector256.Create(max);
        int last = n - Count;
        Vector256<float> tail = Vector256.LoadUnsafe(ref xr, (nuint)last);
        double total = 0;
        int i = 0;
        while (i <= last)
        {
            // Fold each block's lane sums into a double so the float rounding error stays that
            // of a 8-lane sum of SumBlock elements however long the row is. One vector
            // accumulator suffices: the exp work per vector hides the add latency.
            int stop = Math.Min(last, i + SumBlock - Count);
            Vector256<float> sum = Vector256<float>.Zero;
            for (; i <= stop; i += Count)
            {
                Vector256<float> e = ExpNonPositive(Vector256.LoadUnsafe(ref xr, (nuint)i) - shift);
                if (TMode.Stores)
                {
                    e.StoreUnsafe(ref dr, (nuint)i);
                }

                sum += e;
            }

            total += Vector256.Sum(sum);
        }

        if (i < n)
        {
            Vector256<float> e = ExpNonPositive(tail - shift);
            if (TMode.Stores)
            {
                e.StoreUnsafe(ref dr, (nuint)last);
            }

            Vector256<int> firstNew = Vector256.Create(Count - (n - i));
            total += Vector256.Sum(e & Vector256.GreaterThanOrEqual(Vector256<int>.Indices, firstNew).AsSingle());
        }

        return (float)total;
    }

    /// <summary>
    /// destination[i] = (x[i] - max) - logSum. Shifting by the max first keeps the small
    /// differences of large logits that x - (max + logSum) would round away.
    /// </summary>
    internal static void SubtractTwice(ReadOnlySpan<float> x, float max, float logSum, Span<float> destination)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int n = x.Length;
        SimdWidth width = Simd.Current;

        if (width == SimdWidth.Vector512 && n >= Vector512<float>.Count)
        {
            Vector512<float> m = Vector512.Create(max);
            Vector512<float> l = Vector512.Create(logSum);
            int last = n - Vector512<float>.Count;
            Vector512<float> tail = Vector512.LoadUnsafe(ref xr, (nuint)last);
            for (int i = 0; i < last; i += Vector512<float>.Count)
            {
                (Vector512.LoadUnsafe(ref xr, (nuint)i) - m - l).StoreUnsafe(ref dr, (nuint)i);
            }

            (tail - m - l).StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        if (width >= SimdWidth.Vector256 && n >= Vector256<float>.Count)
        {
            Vector256<float> m = Vector256.Create(max);
            Vector256<float> l = Vector256.Create(logSum);
            int last = n - Vector256<float>.Count;
            Vector256<float> tail = Vector256.LoadUnsafe(ref xr, (nuint)last);
            for (int i = 0; i < last; i += Vector256<float>.Count)
            {
                (Vector256.LoadUnsafe(ref xr, (nuint)i) - m - l).StoreUnsafe(ref dr, (nuint)i);
            }

            (tail - m - l).StoreUnsafe(ref dr, (nuint)last);
            return;
        }

        for (int i = 0; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = Unsafe.Add(ref xr, i) - max - logSum;
        }
    }

    /// <summary>
    /// exp(x) for x in [−∞, 0] without NaN, to about 2 ulp; results below 2^-126 are flushed to 0.
    /// Our own rather than <see cref="Vector256.Exp(Vector256{float})"/>, which widens to double and
    /// would alone take more than the whole cross-entropy time budget.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        Vector256<float> lower = Vector256.Create(ExpLowerBound);
        // The clamp maps -inf to a finite value so the exponent arithmetic below stays in range;
        // the final mask then turns those lanes into an exact 0.
        Vector256<float> clamped = Vector256.MaxNative(x, lower);
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n in t's low mantissa bits, so n
        // and 2^n come from t without a round or a (saturating, hence slow) float-to-int conversion.
        Vector256<float> t = Vector256.FusedMultiplyAdd(clamped, Vector256.Create(Log2E), Vector256.Create(RoundingShifter));
        Vector256<float> n = t - Vector256.Create(RoundingShifter);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), clamped);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);

        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        Vector256<float> y = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;

        // t's bits are 0x4B400000 + n; shifting drops the constant and leaves n in the exponent
        // field. 2^n is then a normal number because n >= -126.
        Vector256<float> scale = (Vector256.ShiftLeft(t.AsInt32(), 23) + Vector256.Create(127 << 23)).AsSingle();
        return (y * scale) & Vector256.GreaterThanOrEqual(x, lower);
    }

    /// <summary>The 512-bit twin of <see cref="ExpNonPositive(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        Vector512<float> lower = Vector512.Create(ExpLowerBound);
        Vector512<float> clamped = Vector512.MaxNative(x, lower);
        Vector512<float> t = Vector512.FusedMultiplyAdd(clamped, Vector512.Create(Log2E), Vector512.Create(RoundingShifter));
        Vector512<float> n = t - Vector512.Create(RoundingShifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);

        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        Vector512<float> y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;

        Vector512<float> scale = (Vector512.ShiftLeft(t.AsInt32(), 23) + Vector512.Create(127 << 23)).AsSingle();
        return (y * scale) & Vector512.GreaterThanOrEqual(x, lower);
    }

    private static float HorizontalMax(Vector512<float> v) =>
        HorizontalMax(Vector256.MaxNative(v.GetLower(), v.GetUpper()));

    private static float HorizontalMax(Vector256<float> v)
    {
        Vector128<float> m = Vector128.MaxNative(v.GetLower(), v.GetUpper());
        float a = MathF.Max(m.GetElement(0), m.GetElement(1));
        float b = MathF.Max(m.GetElement(2), m.GetElement(3));
        return MathF.Max(a, b);
    }
}

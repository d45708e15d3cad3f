using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The online EWC step on one touched row, fused: three <see cref="TensorPrimitives"/> calls and two passes instead of
/// the ten calls of <see cref="Reference"/>, whose fixed cost per call made the EWC hook dearer than the BPR-MF step it
/// rides on (rows of 64 factors, and item biases of width 1). Each element goes through the same float operations in
/// the same order as in the reference (no fused multiply-add, minimum as <see cref="MathF.Min(float, float)"/>), so the
/// two agree bit for bit on every path (<c>EwcRowKernelTests</c>).
/// </summary>
internal static class EwcRowKernel
{
    /// <summary>
    /// Adds <c>(n·g)²</c> to <paramref name="sum"/> (each element capped at <see cref="float.MaxValue"/>) unless the
    /// row's sum of squares is not finite; then, with <paramref name="penalise"/>, adds <c>c·(θ − θ*)</c> to g with
    /// <c>c = min(λ·F, cap)</c> and returns <c>Σ c·(θ − θ*)²</c> (0 without the penalty).
    /// </summary>
    /// <param name="gradient">g of the row, updated in place.</param>
    /// <param name="value">θ.</param>
    /// <param name="anchor">θ*.</param>
    /// <param name="fisher">F.</param>
    /// <param name="sum">This update's sum of squared gradients, updated in place.</param>
    /// <param name="n">The batch size that scales the mean gradient to the summed one.</param>
    /// <param name="strength">λ.</param>
    /// <param name="cap">The largest coefficient.</param>
    /// <param name="penalise">Whether to apply the penalty.</param>
    /// <param name="scaled">Scratch of the row's width (it ends holding θ − θ* with the penalty, n·g without).</param>
    /// <param name="coefficient">Scratch of the row's width.</param>
    /// <returns>The row's unhalved penalty.</returns>
    internal static double Apply(Span<float> gradient, ReadOnlySpan<float> value, ReadOnlySpan<float> anchor, ReadOnlySpan<float> fisher,
        Span<float> sum, float n, float strength, float cap, bool penalise, Span<float> scaled, Span<float> coefficient)
    {
        int width = gradient.Length;
        if (width == 1)
        {
            // A bias: plain scalars (a one-element sum of squares or dot product is the one product).
            float s = gradient[0] * n;
            if (float.IsFinite(s * s))
            {
                sum[0] = MathF.Min((s * s) + sum[0], float.MaxValue);
            }

            if (!penalise)
            {
                return 0;
            }

            float d = value[0] - anchor[0], c = MathF.Min(fisher[0] * strength, cap) * d;
            gradient[0] += c;
            return c * d;
        }

        if (Simd.Current != SimdWidth.Scalar && Vector256.IsHardwareAccelerated && width <= MaxFusedWidth && Bounded(gradient, n))
        {
            // Every n·g is small enough that the row's sum of squares is finite in any order: the check needs no sum,
            // and the two passes become one.
            Fused(gradient, value, anchor, fisher, sum, n, strength, cap, penalise, scaled, coefficient);
            return penalise ? TensorPrimitives.Dot(coefficient, scaled) : 0;
        }

        TensorPrimitives.Multiply(gradient, n, scaled);
        if (double.IsFinite(TensorPrimitives.SumOfSquares(scaled)))
        {
            AccumulateSquares(scaled, sum);
        }

        if (!penalise)
        {
            return 0;
        }

        Penalty(gradient, value, anchor, fisher, strength, cap, scaled, coefficient);
        return TensorPrimitives.Dot(coefficient, scaled);
    }

    /// <summary>
    /// The widest row the fused pass takes: with every |n·g| ≤ <see cref="MaxScaled"/> = 2⁶⁰, a sum of 128 squares is at
    /// most 2¹²⁷ (times a rounding factor far below 2), under <see cref="float.MaxValue"/> in every summation order.
    /// </summary>
    private const int MaxFusedWidth = 128;

    /// <summary>The bound on |n·g| below which the row's sum of squares cannot overflow (see <see cref="MaxFusedWidth"/>).</summary>
    private const float MaxScaled = 1.152921504606846976e18f;   // 2⁶⁰

    /// <summary>Whether every |n·g| of the row is at most <see cref="MaxScaled"/> (false for NaN and infinity).</summary>
    private static bool Bounded(ReadOnlySpan<float> gradient, float n)
    {
        int i = 0;
        Vector256<float> scale = Vector256.Create(n), limit = Vector256.Create(MaxScaled);
        for (; i <= gradient.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            if (!Vector256.LessThanOrEqualAll(Vector256.Abs(Vector256.Create(gradient[i..]) * scale), limit))
            {
                return false;
            }
        }

        for (; i < gradient.Length; i++)
        {
            if (!(MathF.Abs(gradient[i] * n) <= MaxScaled))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One pass of both steps, element by element with the operations of <see cref="AccumulateSquares"/> and
    /// <see cref="Penalty"/>: s ← n·g; sum ← min(s·s + sum, float.MaxValue); then d ← θ − θ*, c ← min(F·λ, cap)·d,
    /// g ← g + c (with the penalty; without it the scratch receives s).
    /// </summary>
    private static void Fused(Span<float> gradient, ReadOnlySpan<float> value, ReadOnlySpan<float> anchor, ReadOnlySpan<float> fisher,
        Span<float> sum, float n, float strength, float cap, bool penalise, Span<float> scaled, Span<float> coefficient)
    {
        int i = 0, width = gradient.Length;
        Vector256<float> scale = Vector256.Create(n), max = Vector256.Create(float.MaxValue);
        Vector256<float> lambda = Vector256.Create(strength), top = Vector256.Create(cap);
        for (; i <= width - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> g = Vector256.Create(gradient[i..]);
            Vector256<float> s = g * scale;
            Vector256.Min((s * s) + Vector256.Create(sum[i..]), max).CopyTo(sum[i..]);
            if (!penalise)
            {
                s.CopyTo(scaled[i..]);
                continue;
            }

            Vector256<float> diff = Vector256.Create(value[i..]) - Vector256.Create(anchor[i..]);
            Vector256<float> c = Vector256.Min(Vector256.Create(fisher[i..]) * lambda, top) * diff;
            diff.CopyTo(scaled[i..]);
            c.CopyTo(coefficient[i..]);
            (g + c).CopyTo(gradient[i..]);
        }

        for (; i < width; i++)
        {
            float s = gradient[i] * n;
            sum[i] = MathF.Min((s * s) + sum[i], float.MaxValue);
            if (!penalise)
            {
                scaled[i] = s;
                continue;
            }

            scaled[i] = value[i] - anchor[i];
            coefficient[i] = MathF.Min(fisher[i] * strength, cap) * scaled[i];
            gradient[i] += coefficient[i];
        }
    }

    /// <summary>The same step as <see cref="Apply"/> as ten <see cref="TensorPrimitives"/> calls: the reference it is tested against.</summary>
    internal static double Reference(Span<float> gradient, ReadOnlySpan<float> value, ReadOnlySpan<float> anchor, ReadOnlySpan<float> fisher,
        Span<float> sum, float n, float strength, float cap, bool penalise, Span<float> scaled, Span<float> coefficient)
    {
        TensorPrimitives.Multiply(gradient, n, scaled);
        if (double.IsFinite(TensorPrimitives.SumOfSquares(scaled)))
        {
            TensorPrimitives.MultiplyAdd(scaled, scaled, sum, sum);
            TensorPrimitives.Min(sum, float.MaxValue, sum);
        }

        if (!penalise)
        {
            return 0;
        }

        TensorPrimitives.Subtract(value, anchor, scaled);
        TensorPrimitives.Multiply(fisher, strength, coefficient);
        TensorPrimitives.Min(coefficient, cap, coefficient);
        TensorPrimitives.Multiply(coefficient, scaled, coefficient);
        double penalty = TensorPrimitives.Dot(coefficient, scaled);
        TensorPrimitives.Add(gradient, coefficient, gradient);
        return penalty;
    }

    // Both passes write in place (sum, gradient), so the tail is a scalar loop: re-running an overlapping last vector,
    // as ElementwiseDriver does, would add the term twice to the elements it overlaps.

    /// <summary>sum ← min(s·s + sum, float.MaxValue).</summary>
    private static void AccumulateSquares(ReadOnlySpan<float> s, Span<float> sum)
    {
        int i = 0;
        if (Simd.Current != SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> max = Vector256.Create(float.MaxValue);
            for (; i <= s.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> x = Vector256.Create(s[i..]);
                Vector256.Min((x * x) + Vector256.Create(sum[i..]), max).CopyTo(sum[i..]);
            }
        }

        for (; i < s.Length; i++)
        {
            sum[i] = MathF.Min((s[i] * s[i]) + sum[i], float.MaxValue);
        }
    }

    /// <summary>d ← θ − θ*; c ← min(F·λ, cap)·d; g ← g + c.</summary>
    private static void Penalty(Span<float> gradient, ReadOnlySpan<float> value, ReadOnlySpan<float> anchor, ReadOnlySpan<float> fisher,
        float strength, float cap, Span<float> d, Span<float> c)
    {
        int i = 0, width = gradient.Length;
        if (Simd.Current != SimdWidth.Scalar && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> lambda = Vector256.Create(strength), top = Vector256.Create(cap);
            for (; i <= width - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> diff = Vector256.Create(value[i..]) - Vector256.Create(anchor[i..]);
                Vector256<float> coefficient = Vector256.Min(Vector256.Create(fisher[i..]) * lambda, top) * diff;
                diff.CopyTo(d[i..]);
                coefficient.CopyTo(c[i..]);
                (Vector256.Create(gradient[i..]) + coefficient).CopyTo(gradient[i..]);
            }
        }

        for (; i < width; i++)
        {
            d[i] = value[i] - anchor[i];
            c[i] = MathF.Min(fisher[i] * strength, cap) * d[i];
            gradient[i] += c[i];
        }
    }
}

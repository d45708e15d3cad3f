using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Nn.Losses;

/// <summary>
/// Argument checks and the reduction weights shared by the losses. Every check runs before a loss
/// writes anything, so a rejected call leaves the caller's gradient buffers untouched.
/// </summary>
internal static class LossGuard
{
    /// <summary>Throws unless <paramref name="span"/> holds exactly <paramref name="expected"/> elements.</summary>
    internal static void Length<T>(ReadOnlySpan<T> span, int expected, string name)
    {
        if (span.Length != expected)
        {
            ThrowLength(name, span.Length, expected);
        }
    }

    /// <summary>Throws unless the optional per-example span is empty or holds exactly <paramref name="count"/> elements.</summary>
    internal static void OptionalLength(ReadOnlySpan<float> span, int count, string name)
    {
        if (!span.IsEmpty && span.Length != count)
        {
            ThrowArgument(name,
                $"'{name}' has length {span.Length} but must be empty (all 1) or hold one value per example ({count}).");
        }
    }

    /// <summary>
    /// Validates the optional <paramref name="weights"/> (finite, non-negative) and <paramref name="mask"/>
    /// (exactly 0 or 1), both empty or of length <paramref name="count"/>.
    /// </summary>
    internal static void WeightsAndMask(ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, int count)
    {
        OptionalLength(weights, count, nameof(weights));
        OptionalLength(mask, count, nameof(mask));
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!float.IsFinite(w) || w < 0f)
            {
                ThrowOutOfRange(nameof(weights), w, $"weights[{i}] = {w} must be finite and non-negative.");
            }
        }

        for (int i = 0; i < mask.Length; i++)
        {
            float m = mask[i];
            if (m != 0f && m != 1f)
            {
                ThrowOutOfRange(nameof(mask), m, $"mask[{i}] = {m} must be 0 (padding) or 1 (counted).");
            }
        }
    }

    /// <summary>
    /// The effective weight w_i·m_i of example <paramref name="i"/> (1 when both spans are empty). The mask is
    /// 0/1, so the product is exact and a masked example has weight exactly 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Weight(ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, int i)
    {
        float w = weights.IsEmpty ? 1f : weights[i];
        return mask.IsEmpty ? w : w * mask[i];
    }

    /// <summary>The reduction denominator Σ_i w_i·m_i, summed in double. Arguments are already validated.</summary>
    internal static double Denominator(ReadOnlySpan<float> weights, ReadOnlySpan<float> mask, int count)
    {
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            total += Weight(weights, mask, i);
        }

        return total;
    }

    /// <summary>Throws unless <paramref name="gradient"/> holds exactly <paramref name="expected"/> elements.</summary>
    internal static void GradientLength(Span<float> gradient, int expected, string name)
    {
        if (gradient.Length != expected)
        {
            ThrowArgument(name,
                $"Gradient buffer '{name}' has length {gradient.Length} but exactly {expected} is required.");
        }
    }

    /// <summary>
    /// Throws if <paramref name="output"/> shares memory with <paramref name="input"/>, unless
    /// <paramref name="allowSame"/> and both are exactly the same span (start and length): the losses read an
    /// element before writing the same element, so the exact alias is safe, but a shifted one is not.
    /// </summary>
    internal static void Aliasing(ReadOnlySpan<float> input, ReadOnlySpan<float> output, bool allowSame,
        string inputName, string outputName)
    {
        if (!input.Overlaps(output, out int offset))
        {
            return;
        }

        if (allowSame && offset == 0 && input.Length == output.Length)
        {
            return;
        }

        ThrowArgument(outputName, allowSame
            ? $"Gradient buffer '{outputName}' overlaps input '{inputName}'; it may only be exactly the same span (in place) or disjoint memory."
            : $"Gradient buffer '{outputName}' overlaps '{inputName}'; use disjoint memory.");
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowArgument(string name, string message) => throw new ArgumentException(message, name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowOutOfRange(string name, object? value, string message) =>
        throw new ArgumentOutOfRangeException(name, value, message);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowLength(string name, int actual, int expected) =>
        throw new ArgumentException($"'{name}' has length {actual} but {expected} was expected.", name);

    /// <summary>Throws if <paramref name="value"/> is negative.</summary>
    internal static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            ThrowOutOfRange(name, value, $"'{name}' must be non-negative but was {value}.");
        }
    }

    /// <summary>Returns rows × columns, throwing if it overflows an <see cref="int"/>.</summary>
    internal static int Product(int rows, int columns, string rowsName, string columnsName)
    {
        NonNegative(rows, rowsName);
        NonNegative(columns, columnsName);
        long total = (long)rows * columns;
        if (total > int.MaxValue)
        {
            ThrowOutOfRange(columnsName, columns,
                $"'{rowsName}' × '{columnsName}' = {rows} × {columns} exceeds the largest span length.");
        }

        return (int)total;
    }
}

/// <summary>Scalar numerics shared by the losses, in double so tiny tails are not lost.</summary>
internal static class LossMath
{
    /// <summary>
    /// softplus(z) = log(1 + e^z), stably: max(z, 0) + log1p(e^−|z|), so neither e^z overflows for large z nor
    /// the result rounds to 0 for very negative z (it is ≈ e^z there).
    /// </summary>
    internal static double Softplus(double z)
    {
        double tail = Log1PExpNegative(-Math.Abs(z));
        return z > 0 ? z + tail : tail;
    }

    /// <summary>σ(z) = 1 / (1 + e^−z), evaluated on the side where the exponent is ≤ 0 so it cannot overflow.</summary>
    internal static double Sigmoid(double z)
    {
        if (z >= 0)
        {
            return 1.0 / (1.0 + Math.Exp(-z));
        }

        double e = Math.Exp(z);
        return e / (1.0 + e);
    }

    /// <summary>log(1 + e^t) for t ≤ 0 (or NaN).</summary>
    private static double Log1PExpNegative(double t) => Log1PSmall(Math.Exp(t));

    /// <summary>log(1 + e) for e in [0, 1] (or NaN), accurate also when e is far below double's epsilon.</summary>
    internal static double Log1PSmall(double e) =>
        // log(1 + e) rounds 1 + e first; for tiny e use the series e − e²/2 (error below e³/3, i.e. < 1e-15·e).
        e < 1e-5 ? e * (1.0 - (0.5 * e)) : Math.Log(1.0 + e);
}

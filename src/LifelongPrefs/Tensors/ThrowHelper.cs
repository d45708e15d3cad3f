using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Tensors;

/// <summary>
/// Non-inlined throw sites for the kernels, so the validation at the top of a hot method stays a
/// compare-and-branch and the message formatting lives out of line.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowArgumentOutOfRange(string paramName, object? actualValue, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actualValue, message);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowLengthMismatch(string paramName, int actual, int expected) =>
        throw new ArgumentException(
            $"Span '{paramName}' has length {actual} but {expected} was expected.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowDestinationTooShort(string paramName, int actual, int required) =>
        throw new ArgumentException(
            $"Destination '{paramName}' has length {actual} but at least {required} is required.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowOverlap(string inputName, string destinationName) =>
        throw new ArgumentException(
            $"Destination '{destinationName}' partially overlaps input '{inputName}'. " +
            "Use the same span for an in-place operation or non-overlapping memory.", destinationName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowNegative(string paramName, int value) =>
        throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be non-negative but was {value}.");
}

/// <summary>Argument checks shared by the kernels; each throws through <see cref="ThrowHelper"/>.</summary>
internal static class Guard
{
    /// <summary>Throws unless <paramref name="span"/> has exactly <paramref name="expected"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Length(ReadOnlySpan<float> span, int expected, [CallerArgumentExpression(nameof(span))] string name = "")
    {
        if (span.Length != expected)
        {
            ThrowHelper.ThrowLengthMismatch(name, span.Length, expected);
        }
    }

    /// <summary>Throws unless <paramref name="destination"/> holds at least <paramref name="required"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Destination(Span<float> destination, int required, [CallerArgumentExpression(nameof(destination))] string name = "")
    {
        if (destination.Length < required)
        {
            ThrowHelper.ThrowDestinationTooShort(name, destination.Length, required);
        }
    }

    /// <summary>Throws if <paramref name="value"/> is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value < 0)
        {
            ThrowHelper.ThrowNegative(name, value);
        }
    }

    /// <summary>
    /// Throws if <paramref name="destination"/> overlaps <paramref name="input"/> anywhere but at the
    /// same start: element-wise kernels may run in place, but a shifted alias would read values the
    /// kernel has already overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NoPartialOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> destination,
        [CallerArgumentExpression(nameof(input))] string inputName = "",
        [CallerArgumentExpression(nameof(destination))] string destinationName = "")
    {
        if (input.Overlaps(destination, out int offset) && offset != 0)
        {
            ThrowHelper.ThrowOverlap(inputName, destinationName);
        }
    }

    /// <summary>Throws if the two spans share any memory (for kernels that cannot run in place at all).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NoOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> destination,
        [CallerArgumentExpression(nameof(input))] string inputName = "",
        [CallerArgumentExpression(nameof(destination))] string destinationName = "")
    {
        if (input.Overlaps(destination))
        {
            ThrowHelper.ThrowOverlap(inputName, destinationName);
        }
    }
}

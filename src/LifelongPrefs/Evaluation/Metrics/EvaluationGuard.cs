using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LifelongPrefs.Evaluation;

/// <summary>
/// Argument checks shared by the evaluation metrics. Throw sites are out of line so the checks at the top
/// of a per-user call stay a compare-and-branch; every message names the argument, position and value.
/// </summary>
internal static class EvaluationGuard
{
    /// <summary>Throws unless <paramref name="k"/> is at least 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Cutoff(int k, [CallerArgumentExpression(nameof(k))] string name = "")
    {
        if (k < 1)
        {
            ThrowOutOfRange(name, k, $"The cutoff '{name}' must be at least 1 but was {k}.");
        }
    }

    /// <summary>
    /// Throws unless <paramref name="set"/> is strictly ascending with every entry in
    /// [0, <paramref name="upperBound"/>). Strictly ascending rules out repeats, which would otherwise
    /// inflate |relevant| or count one item twice.
    /// </summary>
    internal static void SortedSet(ReadOnlySpan<int> set, int upperBound, string name)
    {
        int previous = -1;
        for (int j = 0; j < set.Length; j++)
        {
            int e = set[j];
            if (e < 0 || e >= upperBound)
            {
                ThrowOutOfRange(name, e, upperBound == int.MaxValue
                    ? $"{name}[{j}] = {e} is not a valid item index (must be >= 0)."
                    : $"{name}[{j}] = {e} is not an item index in [0, {upperBound}).");
            }

            if (e <= previous)
            {
                ThrowArgument(name, $"{name} must be strictly ascending (a sorted set), but {name}[{j}] = {e} follows {previous}.");
            }

            previous = e;
        }
    }

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Length(int actual, int expected, string name, string expectedName)
    {
        if (actual != expected)
        {
            ThrowArgument(name, $"'{name}' has length {actual} but must have the length of '{expectedName}', {expected}.");
        }
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowOutOfRange(string paramName, object? actualValue, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actualValue, message);
}

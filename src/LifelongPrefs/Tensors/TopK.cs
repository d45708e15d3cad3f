using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>
    /// Selects the <c>k = indices.Length</c> highest <paramref name="scores"/> and writes their
    /// positions and values in descending score order, exactly as the first k entries of a stable
    /// descending sort: equal scores (including −0 and +0) keep ascending index order.
    /// </summary>
    /// <param name="scores">The scores to select from.</param>
    /// <param name="indices">Receives the selected positions; its length is k.</param>
    /// <param name="values">Receives the selected scores; must have the same length as <paramref name="indices"/>.</param>
    /// <returns>The number of entries written, <c>min(k, scores.Length)</c>; later entries are untouched.</returns>
    /// <remarks>
    /// NaN ranks below every number, −∞ included: a NaN is selected only when fewer than k
    /// numbers exist, and NaNs among themselves keep ascending index order. Runs in
    /// O(n log k) worst case with a bounded heap kept in the output spans, and skips whole vectors
    /// of scores that cannot beat the current k-th best; it allocates nothing.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="values"/> and <paramref name="indices"/> differ in length, or
    /// <paramref name="values"/> overlaps <paramref name="scores"/>.
    /// </exception>
    public static int TopK(ReadOnlySpan<float> scores, Span<int> indices, Span<float> values) =>
        TopK(scores, ReadOnlySpan<int>.Empty, indices, values);

    /// <summary>
    /// Like <see cref="TopK(ReadOnlySpan{float}, Span{int}, Span{float})"/>, but never selects a
    /// position listed in <paramref name="excludedSorted"/> (for example items a user has already
    /// seen): the result equals the first k entries of a stable descending sort of the remaining
    /// scores.
    /// </summary>
    /// <param name="scores">The scores to select from.</param>
    /// <param name="excludedSorted">Positions to skip, strictly ascending, each in [0, <c>scores.Length</c>).</param>
    /// <param name="indices">Receives the selected positions; its length is k.</param>
    /// <param name="values">Receives the selected scores; must have the same length as <paramref name="indices"/>.</param>
    /// <returns>
    /// The number of entries written, <c>min(k, scores.Length - excludedSorted.Length)</c>; later
    /// entries are untouched.
    /// </returns>
    /// <remarks>
    /// The exclusions are walked in step with the scan (no hashing). NaN ranks below every number,
    /// as in <see cref="TopK(ReadOnlySpan{float}, Span{int}, Span{float})"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An excluded position is outside [0, <c>scores.Length</c>).</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="excludedSorted"/> is not strictly ascending, <paramref name="values"/> and
    /// <paramref name="indices"/> differ in length, or <paramref name="values"/> overlaps
    /// <paramref name="scores"/>.
    /// </exception>
    public static int TopK(ReadOnlySpan<float> scores, ReadOnlySpan<int> excludedSorted, Span<int> indices, Span<float> values)
    {
        if (values.Length != indices.Length)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(values), values.Length, indices.Length);
        }

        // The heap lives in values while scores are still being read.
        Guard.NoOverlap(scores, values);
        TopKSelection.ValidateExclusions(excludedSorted, scores.Length);

        return TopKSelection.Select(scores, excludedSorted, indices, values);
    }
}

/// <summary>
/// Bounded selection for <see cref="Kernels.TopK(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{int}, Span{float})"/>.
/// The output spans hold a min-heap whose root is the worst candidate kept so far (lowest score,
/// then highest index); a heap sort at the end turns it into best-first order.
/// </summary>
internal static class TopKSelection
{
    internal static void ValidateExclusions(ReadOnlySpan<int> excludedSorted, int length)
    {
        int previous = -1;
        for (int j = 0; j < excludedSorted.Length; j++)
        {
            int e = excludedSorted[j];
            if ((uint)e >= (uint)length)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(excludedSorted), e,
                    $"excludedSorted[{j}] = {e} is not a position in [0, {length}).");
            }

            if (e <= previous)
            {
                ThrowHelper.ThrowArgument(nameof(excludedSorted),
                    $"excludedSorted must be strictly ascending, but excludedSorted[{j}] = {e} follows {previous}.");
            }

            previous = e;
        }
    }

    internal static int Select(ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, Span<int> indices, Span<float> values)
    {
        int k = indices.Length;
        int n = scores.Length;
        int size = 0;
        int next = 0;     // the first excluded entry not yet passed by the scan
        int i = 0;

        // Fill: the first k candidates enter unconditionally.
        for (; i < n && size < k; i++)
        {
            if (next < excluded.Length && excluded[next] == i)
            {
                next++;
                continue;
            }

            indices[size] = i;
            values[size] = scores[i];
            SiftUp(indices, values, size);
            size++;
        }

        if (size == k && k > 0)
        {
            if (Simd.Current != SimdWidth.Scalar)
            {
                i = SkipAndScan(scores, excluded, ref next, i, indices, values);
            }

            ScanScalar(scores, excluded, ref next, i, n, indices, values);
        }

        // Heap sort: popping the worst to the back leaves the best at the front.
        for (int end = size - 1; end > 0; end--)
        {
            Swap(indices, values, 0, end);
            SiftDown(indices[..end], values[..end]);
        }

        return size;
    }

    /// <summary>
    /// Scans whole vectors from <paramref name="start"/>, skipping every vector with no score above
    /// the current k-th best, and returns where the scalar tail must continue.
    /// </summary>
    private static int SkipAndScan(ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, ref int next, int start,
        Span<int> indices, Span<float> values)
    {
        ref float sr = ref MemoryMarshal.GetReference(scores);
        int n = scores.Length;
        int i = start;

        if (Simd.Current == SimdWidth.Vector512)
        {
            const int Count = 16;
            for (; i <= n - Count; i += Count)
            {
                // A NaN root is beaten by any number, which a greater-than test cannot express;
                // that only happens while fewer than k numbers have been seen, so go scalar.
                float root = values[0];
                if (!float.IsNaN(root) &&
                    !Vector512.GreaterThanAny(Vector512.LoadUnsafe(ref sr, (nuint)i), Vector512.Create(root)))
                {
                    continue;
                }

                ScanScalar(scores, excluded, ref next, i, i + Count, indices, values);
            }
        }
        else
        {
            const int Count = 8;
            for (; i <= n - Count; i += Count)
            {
                float root = values[0];
                if (!float.IsNaN(root) &&
                    !Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref sr, (nuint)i), Vector256.Create(root)))
                {
                    continue;
                }

                ScanScalar(scores, excluded, ref next, i, i + Count, indices, values);
            }
        }

        return i;
    }

    /// <summary>Offers scores[start..end) to the full heap, in index order.</summary>
    private static void ScanScalar(ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, ref int next, int start, int end,
        Span<int> indices, Span<float> values)
    {
        // Vectors skipped before this call may have passed exclusions without consuming them.
        while (next < excluded.Length && excluded[next] < start)
        {
            next++;
        }

        for (int i = start; i < end; i++)
        {
            if (next < excluded.Length && excluded[next] == i)
            {
                next++;
                continue;
            }

            // i exceeds every index in the heap, so on a tie the newcomer is the worse one: only
            // a strictly better score replaces the root.
            float s = scores[i];
            if (Less(values[0], s))
            {
                indices[0] = i;
                values[0] = s;
                SiftDown(indices, values);
            }
        }
    }

    /// <summary>Score order with NaN below every number; −0 and +0 are equal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Less(float a, float b) => a < b || (float.IsNaN(a) && !float.IsNaN(b));

    /// <summary>Whether entry a ranks after entry b in the output (lower score, or equal score and higher index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Worse(int indexA, float valueA, int indexB, float valueB) =>
        Less(valueA, valueB) || (!Less(valueB, valueA) && indexA > indexB);

    private static void SiftUp(Span<int> indices, Span<float> values, int child)
    {
        while (child > 0)
        {
            int parent = (child - 1) >> 1;
            if (!Worse(indices[child], values[child], indices[parent], values[parent]))
            {
                break;
            }

            Swap(indices, values, child, parent);
            child = parent;
        }
    }

    /// <summary>Restores the heap after its root changed; the heap is the whole of both spans.</summary>
    private static void SiftDown(Span<int> indices, Span<float> values)
    {
        int size = indices.Length;
        int parent = 0;
        int rootIndex = indices[0];
        float rootValue = values[0];
        while (true)
        {
            int child = (2 * parent) + 1;
            if (child >= size)
            {
                break;
            }

            if (child + 1 < size && Worse(indices[child + 1], values[child + 1], indices[child], values[child]))
            {
                child++;
            }

            if (!Worse(indices[child], values[child], rootIndex, rootValue))
            {
                break;
            }

            // Move the worse child up and keep the sinking entry in registers until it lands.
            indices[parent] = indices[child];
            values[parent] = values[child];
            parent = child;
        }

        indices[parent] = rootIndex;
        values[parent] = rootValue;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Swap(Span<int> indices, Span<float> values, int a, int b)
    {
        (indices[a], indices[b]) = (indices[b], indices[a]);
        (values[a], values[b]) = (values[b], values[a]);
    }
}

using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

/// <summary>The vector widths our own kernels are written for.</summary>
internal enum SimdWidth
{
    /// <summary>Plain scalar loops: the reference path, and what runs without hardware intrinsics.</summary>
    Scalar = 0,

    /// <summary>256-bit vectors (AVX2 + FMA on x64).</summary>
    Vector256 = 256,

    /// <summary>512-bit vectors (AVX-512F on x64).</summary>
    Vector512 = 512,
}

/// <summary>
/// Picks the vector width for our hand-written kernels. The default is the widest width the
/// hardware accelerates. Tests can force a narrower (or, in software emulation, a wider) path on
/// the current thread so every path is exercised on every machine; production code never does.
/// </summary>
internal static class Simd
{
    /// <summary>The widest width the hardware accelerates (a JIT-time constant after tiering).</summary>
    internal static readonly SimdWidth Hardware =
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512
        : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256
        : SimdWidth.Scalar;

    // Per-thread so that parallel test classes cannot see each other's forced paths.
    [ThreadStatic]
    private static SimdWidth? t_forced;

    /// <summary>The width a kernel called on this thread should use.</summary>
    internal static SimdWidth Current => t_forced ?? Hardware;

    /// <summary>
    /// Forces <paramref name="width"/> on the current thread until the returned scope is disposed.
    /// Vector512 code is correct but slow when the hardware lacks AVX-512 (the runtime emulates it
    /// with narrower operations), which is exactly what lets tests cover it on any machine.
    /// </summary>
    internal static ForcedWidthScope Force(SimdWidth width)
    {
        SimdWidth? previous = t_forced;
        t_forced = width;
        return new ForcedWidthScope(previous);
    }

    /// <summary>Restores the previously forced width (or none) when disposed.</summary>
    internal readonly struct ForcedWidthScope : IDisposable
    {
        private readonly SimdWidth? _previous;

        internal ForcedWidthScope(SimdWidth? previous) => _previous = previous;

        public void Dispose() => t_forced = _previous;
    }
}

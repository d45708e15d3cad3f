using System.Runtime.InteropServices;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Late-bound access to a system OpenBLAS, used only as an external yardstick for the GEMM suite.
/// </summary>
/// <remarks>
/// The library is looked up at run time (never linked, never referenced by LifelongPrefs itself), so a
/// machine without OpenBLAS still builds and runs every other benchmark: <see cref="IsAvailable"/> is
/// false and <see cref="Description"/> explains why. On Debian/Ubuntu the runtime comes from the
/// <c>libopenblas0-pthread</c> (or <c>-openmp</c>, <c>-serial</c>) package behind <c>libopenblas0</c>.
/// Only the LP64 interface (32-bit integers, unsuffixed symbols) is bound; the ILP64
/// <c>libopenblas64*</c> builds are skipped.
/// </remarks>
internal static unsafe class OpenBlas
{
    /// <summary>Environment variable that, when set, names the exact library file to try first.</summary>
    public const string PathOverrideVariable = "LIFELONGPREFS_OPENBLAS";

    // CBLAS enum values from cblas.h.
    private const int CblasRowMajor = 101;
    private const int CblasNoTrans = 111;

    private static readonly (Binding? Binding, string Description) s_state = Bind();

    /// <summary>Whether a usable OpenBLAS was found and bound.</summary>
    public static bool IsAvailable => s_state.Binding is not null;

    /// <summary>
    /// Which file was loaded plus OpenBLAS's own build description and core name, or, when nothing was
    /// found, every candidate that was tried.
    /// </summary>
    public static string Description => s_state.Description;

    /// <summary>
    /// C = alpha·A·B + beta·C for row-major, non-transposed operands: A is (m,k) with row stride
    /// <paramref name="lda"/>, B is (k,n) with row stride <paramref name="ldb"/>, C is (m,n) with row
    /// stride <paramref name="ldc"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">OpenBLAS is not available.</exception>
    /// <exception cref="ArgumentException">A span is too short for its dimensions and stride.</exception>
    public static void Sgemm(int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Binding binding = s_state.Binding ?? throw new InvalidOperationException("OpenBLAS is not available: " + s_state.Description);

        // Native code does no bounds checking, so a wrong stride must fail here rather than corrupt memory.
        RequireLength(a.Length, m, k, lda, nameof(a));
        RequireLength(b.Length, k, n, ldb, nameof(b));
        RequireLength(c.Length, m, n, ldc, nameof(c));

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            binding.Sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    /// <summary>
    /// y = alpha·A·x + beta·y for a row-major, non-transposed A of shape (m,n) with row stride
    /// <paramref name="lda"/>, and contiguous x (n) and y (m).
    /// </summary>
    /// <exception cref="InvalidOperationException">OpenBLAS is not available.</exception>
    /// <exception cref="ArgumentException">A span is too short for its dimensions and stride.</exception>
    public static void Sgemv(int m, int n, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        Binding binding = s_state.Binding ?? throw new InvalidOperationException("OpenBLAS is not available: " + s_state.Description);
        RequireLength(a.Length, m, n, lda, nameof(a));
        RequireLength(x.Length, 1, n, n, nameof(x));
        RequireLength(y.Length, 1, m, m, nameof(y));

        fixed (float* pa = a)
        fixed (float* px = x)
        fixed (float* py = y)
        {
            binding.Sgemv(CblasRowMajor, CblasNoTrans, m, n, alpha, pa, lda, px, 1, beta, py, 1);
        }
    }

    /// <summary>Sets OpenBLAS's worker-thread count (the binding already sets it to one on load).</summary>
    /// <exception cref="InvalidOperationException">OpenBLAS is not available.</exception>
    public static void SetNumThreads(int threads)
    {
        Binding binding = s_state.Binding ?? throw new InvalidOperationException("OpenBLAS is not available: " + s_state.Description);
        binding.SetNumThreads(threads);
    }

    private static void RequireLength(int length, int rows, int columns, int stride, string name)
    {
        if (rows < 0 || columns < 0 || stride < Math.Max(1, columns))
        {
            throw new ArgumentException($"Invalid dimensions {rows}x{columns} with stride {stride}.", name);
        }

        long needed = rows == 0 || columns == 0 ? 0 : ((long)(rows - 1) * stride) + columns;
        if (length < needed)
        {
            throw new ArgumentException($"Span of length {length} is shorter than the {needed} elements a {rows}x{columns} matrix with stride {stride} needs.", name);
        }
    }

    private static (Binding? Binding, string Description) Bind()
    {
        var tried = new List<string>();
        foreach (string candidate in Candidates())
        {
            if (!NativeLibrary.TryLoad(candidate, out nint handle))
            {
                tried.Add(candidate + " (not loadable)");
                continue;
            }

            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemm)
                || !NativeLibrary.TryGetExport(handle, "cblas_sgemv", out nint sgemv)
                || !NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint setThreads))
            {
                // Some other BLAS (reference BLAS, an ILP64 build) answered to the name: not what we compare against.
                tried.Add(candidate + " (no cblas_sgemm/cblas_sgemv/openblas_set_num_threads export)");
                NativeLibrary.Free(handle);
                continue;
            }

            var binding = new Binding(
                (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm,
                (delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemv,
                (delegate* unmanaged<int, void>)setThreads);

            // Single-threaded on purpose: our kernel is measured with maxDegreeOfParallelism 1, and on a
            // shared 2-core machine extra BLAS threads would only add noise. OPENBLAS_NUM_THREADS=1 in the
            // job's environment keeps the pool from being created; this call covers runs without it.
            binding.SetNumThreads(1);

            return (binding, $"{candidate} [{ReadString(handle, "openblas_get_config")}; core {ReadString(handle, "openblas_get_corename")}]");
        }

        return (null, "tried " + string.Join(", ", tried));
    }

    private static string ReadString(nint handle, string export)
    {
        if (!NativeLibrary.TryGetExport(handle, export, out nint function))
        {
            return "unknown";
        }

        // Both informational exports return a pointer to a static, NUL-terminated string owned by OpenBLAS.
        nint text = ((delegate* unmanaged<nint>)function)();
        return Marshal.PtrToStringUTF8(text)?.Trim() ?? "unknown";
    }

    private static IEnumerable<string> Candidates()
    {
        string? overridePath = Environment.GetEnvironmentVariable(PathOverrideVariable);
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            yield return overridePath;
        }

        // Names the dynamic loader resolves by itself: Debian's alternatives symlink from the runtime
        // package, the -dev symlink, then the macOS and Windows spellings.
        yield return "libopenblas.so.0";
        yield return "libopenblas.so";
        yield return "libopenblas.dylib";
        yield return "libopenblas.dll";

        // Without the alternatives link the real files sit in per-flavour directories with versioned
        // names such as libopenblasp-r0.3.21.so, which the loader does not search.
        foreach (string directory in SearchDirectories())
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(directory, "libopenblas*.so*").Order(StringComparer.Ordinal))
            {
                if (!Path.GetFileName(file).StartsWith("libopenblas64", StringComparison.Ordinal))
                {
                    yield return file;
                }
            }
        }
    }

    private static IEnumerable<string> SearchDirectories()
    {
        string? multiarch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            _ => null,
        };

        if (multiarch is not null)
        {
            foreach (string flavour in (string[])["openblas-pthread", "openblas-openmp", "openblas-serial", ""])
            {
                yield return Path.Combine("/usr/lib", multiarch, flavour);
            }
        }

        yield return "/usr/lib64";
        yield return "/usr/local/lib";
        yield return "/opt/OpenBLAS/lib";
    }

    /// <summary>The resolved entry points of one loaded library.</summary>
    private sealed class Binding(
        delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm,
        delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemv,
        delegate* unmanaged<int, void> setNumThreads)
    {
        // cblas_sgemm(order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
        public delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm { get; } = sgemm;

        // cblas_sgemv(order, transA, m, n, alpha, A, lda, x, incx, beta, y, incy)
        public delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemv { get; } = sgemv;

        public delegate* unmanaged<int, void> SetNumThreads { get; } = setNumThreads;
    }
}

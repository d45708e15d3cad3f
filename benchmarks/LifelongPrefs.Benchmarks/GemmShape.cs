using System.Globalization;
using BenchmarkDotNet.Running;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// The dimensions of one product C = A·B with A of shape (M,K), B of shape (K,N) and C of shape (M,N).
/// </summary>
/// <remarks>
/// Benchmarks carry a shape as a single parameter named "Shape", written "MxKxN" (the order in which
/// the dimensions appear when reading "(M×K)·(K×N)"), so the summary shows one readable column and the
/// GFLOP/s column can recover the operation count without knowing the benchmark type. The parameter may
/// be a <see cref="GemmShape"/> (ordered by work in the summary, see <see cref="CompareTo(GemmShape)"/>)
/// or a string in that format. Public only because BenchmarkDotNet's generated code names the type.
/// </remarks>
public readonly record struct GemmShape(int M, int K, int N) : IComparable<GemmShape>, IComparable
{
    /// <summary>Name of the <c>[Params]</c> property every GEMM-like benchmark uses for its shape.</summary>
    public const string ParameterName = "Shape";

    /// <summary>Multiply-adds count as two floating-point operations, the usual convention for BLAS GFLOP/s.</summary>
    public double FlopCount => 2.0 * M * N * K;

    /// <summary>Parses "MxKxN"; throws <see cref="FormatException"/> when the text is not three positive integers.</summary>
    public static GemmShape Parse(string text)
    {
        return TryParse(text, out GemmShape shape)
            ? shape
            : throw new FormatException($"GEMM shape '{text}' is not of the form MxKxN with positive integers.");
    }

    /// <summary>Parses "MxKxN" without throwing.</summary>
    public static bool TryParse(string? text, out GemmShape shape)
    {
        shape = default;
        if (text is null)
        {
            return false;
        }

        string[] parts = text.Split('x', 'X', '×');
        if (parts.Length != 3
            || !TryParsePositive(parts[0], out int m)
            || !TryParsePositive(parts[1], out int k)
            || !TryParsePositive(parts[2], out int n))
        {
            return false;
        }

        shape = new GemmShape(m, k, n);
        return true;
    }

    /// <summary>Recovers the shape of a benchmark case from its "Shape" parameter, if it has one.</summary>
    public static bool TryGet(BenchmarkCase benchmarkCase, out GemmShape shape)
    {
        shape = default;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            if (parameter.Name == ParameterName)
            {
                switch (parameter.Value)
                {
                    case GemmShape value:
                        shape = value;
                        return true;
                    case string text:
                        return TryParse(text, out shape);
                    default:
                        return false;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Orders by operation count, then M, K, N, so summary tables read from the cheapest product to the
    /// most expensive (BenchmarkDotNet sorts parameter values it does not know by this comparison).
    /// </summary>
    public int CompareTo(GemmShape other)
    {
        int byWork = FlopCount.CompareTo(other.FlopCount);
        if (byWork != 0)
        {
            return byWork;
        }

        return (M, K, N).CompareTo((other.M, other.K, other.N));
    }

    /// <inheritdoc/>
    public int CompareTo(object? obj) => obj is GemmShape other
        ? CompareTo(other)
        : throw new ArgumentException($"Cannot compare a {nameof(GemmShape)} with {obj?.GetType().Name ?? "null"}.", nameof(obj));

    /// <summary>Less work (see <see cref="CompareTo(GemmShape)"/>).</summary>
    public static bool operator <(GemmShape left, GemmShape right) => left.CompareTo(right) < 0;

    /// <summary>Less or equal work (see <see cref="CompareTo(GemmShape)"/>).</summary>
    public static bool operator <=(GemmShape left, GemmShape right) => left.CompareTo(right) <= 0;

    /// <summary>More work (see <see cref="CompareTo(GemmShape)"/>).</summary>
    public static bool operator >(GemmShape left, GemmShape right) => left.CompareTo(right) > 0;

    /// <summary>More or equal work (see <see cref="CompareTo(GemmShape)"/>).</summary>
    public static bool operator >=(GemmShape left, GemmShape right) => left.CompareTo(right) >= 0;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{M}x{K}x{N}");

    private static bool TryParsePositive(string text, out int value)
    {
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
    }
}

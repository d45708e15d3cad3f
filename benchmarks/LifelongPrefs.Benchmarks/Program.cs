using BenchmarkDotNet.Running;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher over every suite in this assembly, e.g.
/// <c>dotnet run -c Release --project benchmarks/LifelongPrefs.Benchmarks -- --filter '*Gemm*'</c>.
/// </summary>
internal static class Program
{
    /// <summary>Our own switch (removed before BenchmarkDotNet parses the rest): run the naive loop at 1024³ too.</summary>
    private const string NaiveAtLargestSquareSwitch = "--naive-1024";

    private static int Main(string[] args)
    {
        if (args.Contains(TrackerLoad.Switch, StringComparer.OrdinalIgnoreCase))
        {
            return TrackerLoad.Run(args);
        }

        if (args.Contains(RecommendParts.Switch, StringComparer.OrdinalIgnoreCase))
        {
            return RecommendParts.Run(args);
        }

        if (args.Contains(TrackerMemory.Switch, StringComparer.OrdinalIgnoreCase))
        {
            return TrackerMemory.Run(args);
        }

        bool includeNaiveAtLargestSquare = args.Contains(NaiveAtLargestSquareSwitch, StringComparer.OrdinalIgnoreCase);
        string[] benchmarkArgs = [.. args.Where(a => !string.Equals(a, NaiveAtLargestSquareSwitch, StringComparison.OrdinalIgnoreCase))];
        bool jobChosenOnCommandLine = benchmarkArgs.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));

        if (OpenBlas.IsAvailable)
        {
            Console.WriteLine($"OpenBLAS found: {OpenBlas.Description}; benchmarked single-threaded.");
        }
        else
        {
            Console.WriteLine("OpenBLAS not found (apt-get install libopenblas0): skipping OpenBLAS rows.");
            Console.WriteLine($"  ({OpenBlas.Description}; set {OpenBlas.PathOverrideVariable} to a library path to use another build.)");
        }

        if (!includeNaiveAtLargestSquare)
        {
            Console.WriteLine($"Skipping GemmBenchmarks.Naive at {BenchmarkConfig.LargestSquare} (seconds per call); pass {NaiveAtLargestSquareSwitch} to include it.");
        }

        var config = BenchmarkConfig.Create(OpenBlas.IsAvailable, includeNaiveAtLargestSquare, addTunedJob: !jobChosenOnCommandLine);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(benchmarkArgs, config).ToList();

        // A non-zero exit code lets scripts notice failed rows (for example a kernel that threw in setup).
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}

using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace LifelongPrefs.Benchmarks;

/// <summary>The configuration every suite runs under; see benchmarks/README.md.</summary>
internal static class BenchmarkConfig
{
    /// <summary>The one shape at which the naive triple loop is left out unless asked for.</summary>
    public const string LargestSquare = "1024x1024x1024";

    /// <summary>Builds the configuration.</summary>
    /// <param name="includeOpenBlas">False drops every benchmark method named "OpenBlas".</param>
    /// <param name="includeNaiveAtLargestSquare">False drops the naive GEMM at 1024³ (seconds per call).</param>
    /// <param name="addTunedJob">
    /// False when the command line chose a job (<c>--job dry</c>, <c>--job short</c>, ...): a job in the
    /// global config would otherwise run in addition to the requested one.
    /// </param>
    public static IConfig Create(bool includeOpenBlas, bool includeNaiveAtLargestSquare, bool addTunedJob)
    {
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddColumn(StatisticColumn.Median, GflopsColumn.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default)

            // Applied to whichever jobs run, including ones chosen on the command line.
            .AddJob(Job.Default
                .WithEnvironmentVariables(
                    // Single-threaded BLAS, and its thread pool never created.
                    new EnvironmentVariable("OPENBLAS_NUM_THREADS", "1"),

                    // Promote hot methods to tier 1 as soon as they have been called enough times,
                    // instead of after the default 100 ms quiet period, so warm-up reaches final code sooner.
                    new EnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0"))
                .AsMutator());

        if (addTunedJob)
        {
            // Fixed counts instead of BenchmarkDotNet's adaptive "run until the error is small", which on a
            // shared 2-core machine can take minutes per row. Each iteration still lasts ~0.5 s (the
            // default IterationTime; slow rows such as the naive loop at 512³ drop to one call per
            // iteration), so the GEMM suite (39 rows) finishes in roughly 8-12 minutes.
            config.AddJob(Job.Default
                .WithId("Tuned")
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(12));
        }

        if (!includeOpenBlas)
        {
            config.AddFilter(new SimpleFilter(c => c.Descriptor.WorkloadMethod.Name != nameof(GemmBenchmarks.OpenBlas)));
        }

        if (!includeNaiveAtLargestSquare)
        {
            config.AddFilter(new SimpleFilter(c => !IsNaiveAtLargestSquare(c)));
        }

        return config;
    }

    private static bool IsNaiveAtLargestSquare(BenchmarkCase benchmarkCase)
    {
        return benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(GemmBenchmarks.Naive)
            && GemmShape.TryGet(benchmarkCase, out GemmShape shape)
            && shape == GemmShape.Parse(LargestSquare);
    }
}

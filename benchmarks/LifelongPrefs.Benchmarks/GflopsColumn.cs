using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Summary column showing arithmetic throughput, 2·M·N·K / mean time, for every benchmark whose
/// "Shape" parameter parses as a <see cref="GemmShape"/>; other suites never show it.
/// </summary>
internal sealed class GflopsColumn : IColumn
{
    /// <summary>The single instance added to the configuration.</summary>
    public static readonly GflopsColumn Instance = new();

    private GflopsColumn()
    {
    }

    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Throughput: 2*M*N*K floating-point operations divided by the mean time of one operation";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => GemmShape.TryGet(c, out _));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!GemmShape.TryGet(benchmarkCase, out GemmShape shape))
        {
            return "-";
        }

        // The mean is the time of one benchmark invocation in nanoseconds, and flop per nanosecond is
        // numerically GFLOP/s. The mean (not the median) matches what the Mean column reports.
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNanoseconds is not > 0)
        {
            return "NA";
        }

        CultureInfo culture = style.CultureInfo ?? CultureInfo.InvariantCulture;
        return (shape.FlopCount / meanNanoseconds.Value).ToString("F2", culture);
    }

    public override string ToString() => ColumnName;
}

using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests;

/// <summary>The allocation probe used by the "allocates nothing" tests must still see a real allocation.</summary>
public class AllocationsProbeTests
{
    private static object? s_sink;

    [Fact]
    public void Probe_sees_an_allocation_that_happens_on_every_call()
    {
        long allocated = Allocations.Measure(() => s_sink = new float[16], calls: 3);
        Assert.True(allocated >= 3 * 16 * sizeof(float), $"probe measured only {allocated} bytes");
        Assert.NotNull(s_sink);
    }

    [Fact]
    public void Probe_reports_zero_for_code_that_does_not_allocate()
    {
        float[] buffer = new float[16];
        Assert.Equal(0, Allocations.Measure(() => buffer[3] += 1f));
        Assert.True(buffer[3] >= 4f);
    }
}

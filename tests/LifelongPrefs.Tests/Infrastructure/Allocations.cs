namespace LifelongPrefs.Tests.Infrastructure;

/// <summary>
/// Measures the managed bytes a piece of code allocates on the calling thread, for "the hot path allocates
/// nothing" tests. These assert behaviour, not speed.
/// </summary>
/// <remarks>
/// The runtime occasionally charges a one-off allocation to whichever thread happens to be running: tiered
/// compilation promoting a method, on-stack replacement of a hot loop, the thread pool or a timer starting up.
/// Such an event happens at most once per method, so it cannot repeat in every round; an allocation in the
/// code under test happens on every call and therefore in every round. Taking the minimum over a few rounds
/// removes the runtime's noise without hiding a real allocation (a test below proves the probe still sees one).
/// </remarks>
internal static class Allocations
{
    /// <summary>
    /// Calls <paramref name="body"/> <paramref name="warmUps"/> times (first-call workspace growth and JIT are
    /// allowed), then returns the smallest number of bytes allocated by this thread over
    /// <paramref name="calls"/> further calls, taken over <paramref name="rounds"/> rounds.
    /// </summary>
    public static long Measure(Action body, int warmUps = 1, int calls = 3, int rounds = 3)
    {
        for (int i = 0; i < warmUps; i++)
        {
            body();
        }

        long least = long.MaxValue;
        for (int round = 0; round < rounds && least != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++)
            {
                body();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }

    /// <summary>Asserts that <paramref name="body"/> allocates nothing after warm-up (see <see cref="Measure"/>).</summary>
    public static void AssertNone(string name, Action body, int warmUps = 1, int calls = 3)
    {
        long allocated = Measure(body, warmUps, calls);
        Assert.True(allocated == 0, $"{name} allocated {allocated} bytes in {calls} calls after warm-up.");
    }
}

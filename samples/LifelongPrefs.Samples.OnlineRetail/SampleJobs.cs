using System.Runtime.ExceptionServices;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>
/// Runs the sample's independent pieces of work (one model under the holdout protocols, one model under the monthly
/// protocol, the interest forecast) on a fixed number of threads, the most expensive first. Every piece builds its own
/// models from its own seed and writes only its own result slot, and every model trains single-threaded, so the
/// numbers do not depend on how many threads run or in which order the pieces finish: only the wall time does.
/// </summary>
internal static class SampleJobs
{
    /// <summary>One piece of work and its expected cost (seconds; used only to start the longest pieces first).</summary>
    internal sealed record Job(string Name, double Cost, Action Work);

    // Training seconds of each piece in the run of 2026-12-02 (rounded); a piece not listed costs 0 (it is quick).
    private static readonly Dictionary<string, double> Costs = new(StringComparer.Ordinal)
    {
        ["SASRec"] = 380, ["GRU4Rec"] = 140, ["RepeatAware"] = 110, ["MLP"] = 75, ["Tracker"] = 50, ["interest forecast"] = 40,
        ["TIFU-KNN"] = 30, ["UP-CF"] = 25, ["monthly ItemKNN"] = 28, ["monthly Tracker"] = 23, ["monthly Tracker+catalog"] = 23, ["monthly BPR-MF"] = 21,
        ["RepeatExplore"] = 19, ["BPR-MF"] = 15, ["ItemKNN"] = 7,
    };

    /// <summary>The expected cost of the piece named <paramref name="name"/>.</summary>
    internal static double CostOf(string name) => Costs.GetValueOrDefault(name);

    /// <summary>
    /// Runs every job on <paramref name="workers"/> threads (the calling thread is one of them), the highest cost
    /// first (ties in the given order), and returns when all are done. The first failure is rethrown after every
    /// started job has ended; jobs not yet started are skipped once one has failed.
    /// </summary>
    internal static void Run(IReadOnlyList<Job> jobs, int workers)
    {
        Job[] ordered = [.. jobs.OrderByDescending(j => j.Cost)];
        int next = -1;
        ExceptionDispatchInfo? failure = null;
        void Work()
        {
            int j;
            while (Volatile.Read(ref failure) is null && (j = Interlocked.Increment(ref next)) < ordered.Length)
            {
                try
                {
                    ordered[j].Work();
                }
#pragma warning disable CA1031 // Rethrown below on the caller's thread.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                }
            }
        }

        var threads = new Thread[Math.Clamp(workers, 1, Math.Max(1, ordered.Length)) - 1];
        for (int t = 0; t < threads.Length; t++)
        {
            // Large stacks like the main thread's: the models recurse little, but a worker should not be the weaker one.
            threads[t] = new Thread(Work, 16 * 1024 * 1024) { IsBackground = true, Name = $"sample worker {t + 1}" };
            threads[t].Start();
        }

        Work();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        failure?.Throw();
    }
}

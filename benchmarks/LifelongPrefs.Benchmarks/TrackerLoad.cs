using System.Diagnostics;
using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// A load generator for the tracker's latency goals, which are percentiles of single calls (BenchmarkDotNet's
/// percentiles are over iterations, not calls): <c>-- --tracker-load [--users N] [--items N] [--rate R] [--seconds S] [--quantized]</c>
/// (<c>--quantized</c>: <see cref="ItemTablePrecision.Quantized"/>; <c>--overlap</c>: afterwards, untimed, the int8 pass's top-10
/// agreement with the fp32 one, <see cref="TopTenOverlap"/>).
/// </summary>
/// <remarks>
/// 1. Warm-up: registers the catalog and observes one purchase per user (then a second for a tenth of them) as fast as
///    the learner takes them, and reports the learner's throughput (events learned per second of the flush).
/// 2. Observe under a paced load of R events/s for S seconds: each call is timed alone (<see cref="Stopwatch"/>), and for
///    every 100th event the time until the learner has published a version containing it (freshness).
/// 3. Recommend top-10 through the facade (<see cref="PreferenceTracker.RecommendInto"/>) on one thread, then on two at
///    once, 4,000 calls per thread and round, timed apart for users with two or more purchases (the personalised path)
///    and users with one (the cold-start path).
/// Every random choice flows from seed 42.
/// </remarks>
internal static class TrackerLoad
{
    internal const string Switch = "--tracker-load";

    internal static int Run(string[] args)
    {
        int users = Arg(args, "--users", 1_000_000), items = Arg(args, "--items", 100_000);
        int rate = Arg(args, "--rate", 10_000), seconds = Arg(args, "--seconds", 10);
        var rng = new Random(42);
        DateTimeOffset start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Console.WriteLine($"tracker load: {users:N0} users, {items:N0} items, d = 64, default learner; {Environment.ProcessorCount} cores");

        ItemTablePrecision precision = args.Contains("--quantized") ? ItemTablePrecision.Quantized : ItemTablePrecision.Exact;
        Console.WriteLine($"item table: {precision}");

        // The writer's copy-on-write chunk copies live about one version, long enough to be promoted: the GC mode moves
        // the learner's throughput (README, "The garbage collector"). Service hosts (ASP.NET Core) default to the server GC.
        Console.WriteLine($"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, latency mode {System.Runtime.GCSettings.LatencyMode}"
            + " (DOTNET_gcServer=1 for the server GC)");
        using var tracker = new PreferenceTracker(new TrackerOptions { Dimensions = 64, Seed = 42, ItemTablePrecision = precision });
        var clock = Stopwatch.StartNew();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan? learnerBefore = ThreadCpu(LearnerThread);
        for (int i = 0; i < items; i++)
        {
            tracker.RegisterItem(Item(i));
        }

        long ticks = start.UtcTicks;
        var batch = new List<InteractionEvent>(4096);
        int warm = users + (users / 10);
        var repeat = new HashSet<int>(users / 5); // the users with a second purchase (warm-up or paced phase): the personalised readers
        for (int n = 0; n < warm; n++)
        {
            int u = n < users ? n : rng.Next(users);
            if (n >= users)
            {
                repeat.Add(u);
            }

            ticks += TimeSpan.TicksPerMillisecond;
            batch.Add(new InteractionEvent(User(u), Item(Popular(rng, items)), new DateTimeOffset(ticks, TimeSpan.Zero), EventKind.Purchase));
            if (batch.Count == batch.Capacity)
            {
                tracker.Observe(batch);
                batch.Clear();
            }
        }

        tracker.Observe(batch);
        double observed = clock.Elapsed.TotalSeconds;
        tracker.FlushAsync().GetAwaiter().GetResult();
        double learned = clock.Elapsed.TotalSeconds;

        // On shared cores the wall clock also counts other processes' time: the process's CPU time (producer, learner and
        // GC threads together) says what the work itself cost.
        // The learner is one thread: its own CPU time says what learning costs on one core (Linux only).
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        double? learnerCpu = (ThreadCpu(LearnerThread) - learnerBefore)?.TotalSeconds;
        string learnerLine = learnerCpu is double l ? $"; learner thread CPU {l:F1} s = {warm / l:N0} events per learner CPU-second" : "";
        Console.WriteLine($"warm-up: {warm:N0} events observed in {observed:F1} s, learned and published by {learned:F1} s "
            + $"({warm / learned:N0} events/s end to end; process CPU {cpu:F1} s = {warm / cpu:N0} events per CPU-second{learnerLine}); "
            + $"{tracker.ModelVersion:N0} versions; {GC.CollectionCount(0):N0}/{GC.CollectionCount(1):N0}/{GC.CollectionCount(2):N0} GCs (gen 0/1/2), "
            + $"{GC.GetTotalPauseDuration().TotalSeconds:F1} s paused; managed heap {GC.GetTotalMemory(true) / 1e6:N0} MB");

        // Paced Observe with freshness probes.
        int total = rate * seconds;
        var latency = new double[total];
        var probes = new List<(long Sequence, long ObservedAt)>();
        long baseLearned = tracker.Statistics.EventsObserved;
        var freshness = new List<double>();
        bool done = false;
        var watcher = new Thread(() =>
        {
            int next = 0;
            while (!Volatile.Read(ref done) || next < Volatile.Read(ref probeCount))
            {
                long learnedNow = tracker.Statistics.EventsLearned;
                lock (probes)
                {
                    while (next < probes.Count && probes[next].Sequence <= learnedNow)
                    {
                        freshness.Add(Stopwatch.GetElapsedTime(probes[next].ObservedAt).TotalMilliseconds);
                        next++;
                    }
                }

                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        watcher.Start();
        long t0 = Stopwatch.GetTimestamp();
        double interval = Stopwatch.Frequency / (double)rate;
        for (int n = 0; n < total; n++)
        {
            long due = t0 + (long)(n * interval);
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.SpinWait(20);
            }

            ticks += TimeSpan.TicksPerMillisecond;
            int paced = rng.Next(users);
            repeat.Add(paced);
            var evt = new InteractionEvent(User(paced), Item(Popular(rng, items)), new DateTimeOffset(ticks, TimeSpan.Zero), EventKind.Purchase);
            long before = Stopwatch.GetTimestamp();
            tracker.Observe(evt);
            long after = Stopwatch.GetTimestamp();
            latency[n] = (after - before) * 1e6 / Stopwatch.Frequency;
            if (n % 100 == 0)
            {
                lock (probes)
                {
                    probes.Add((baseLearned + n + 1, after));
                    probeCount = probes.Count;
                }
            }
        }

        double achieved = total / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        tracker.FlushAsync().GetAwaiter().GetResult();
        Volatile.Write(ref done, true);
        watcher.Join();
        Console.WriteLine($"Observe at {achieved:N0} events/s for {seconds} s: {Percentiles(latency, "µs")}");
        Console.WriteLine($"freshness (observed → learned and published), {freshness.Count} probes: {Percentiles([.. freshness], "ms")}");

        // Recommend through the facade, personalised and cold-start calls timed apart: the personalised readers are the
        // users with a second purchase, the cold ones those with one (a one-event user takes the cold-start path). Each thread count runs twice: the first round includes the JIT's tier-up of the read path (a
        // service's first seconds), the second is the steady state. The learner is idle here (everything is flushed), so
        // every call reads the one published version.
        int[] personalised = [.. repeat.Order()], single = [.. Enumerable.Range(0, users).Where(u => !repeat.Contains(u))];
        foreach ((int threads, string round) in new[] { (1, "first"), (1, "second"), (2, "first"), (2, "second") })
        {
            ReadPhase(tracker, items, threads, round, "personalised", r => User(personalised[r.Next(personalised.Length)]), expectCold: false);
            ReadPhase(tracker, items, threads, round, "cold start", r => User(single[r.Next(single.Length)]), expectCold: true);
        }

        if (args.Contains("--overlap") && tracker.CurrentVersion.Scorer is Models.RepeatExploreScorer scorer)
        {
            TopTenOverlap.Print(scorer, Sample(tracker, personalised), [25, 50, 100, 200]);
        }

        return 0;
    }

    /// <summary>
    /// Times <c>threads × 4,000</c> <see cref="PreferenceTracker.RecommendInto"/> calls (top-10) for the users
    /// <paramref name="draw"/> picks, and checks afterwards, untimed, that each took the path the phase is named for.
    /// </summary>
    private static void ReadPhase(PreferenceTracker tracker, int items, int threads, string round, string path, Func<Random, string> draw, bool expectCold)
    {
        const int callsPerThread = 4000;
        var per = new double[threads * callsPerThread];
        var asked = new string[per.Length];
        var runners = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var r = new Random(100 + t + (round == "first" ? 0 : 1_000) + (expectCold ? 10_000 : 0)); // other users in each round
            var buffer = new Recommendation[10];
            for (int c = 0; c < callsPerThread; c++)
            {
                string user = draw(r);
                long b = Stopwatch.GetTimestamp();
                tracker.RecommendInto(user, buffer, null);
                per[(t * callsPerThread) + c] = (Stopwatch.GetTimestamp() - b) * 1e3 / Stopwatch.Frequency;
                asked[(t * callsPerThread) + c] = user;
            }
        })).ToList();
        int collections = GC.CollectionCount(0);
        runners.ForEach(r => r.Start());
        runners.ForEach(r => r.Join());
        collections = GC.CollectionCount(0) - collections; // a tail source or not: the collections (any generation) during the timed calls

        // Throughput from the timed calls only: the busiest thread's time.
        double wall = Enumerable.Range(0, threads).Max(t => per.Skip(t * callsPerThread).Take(callsPerThread).Sum()) / 1e3;
        int otherPath = asked.Distinct().Count(u => tracker.Recommend(u, 1).IsColdStart != expectCold);
        Console.WriteLine($"Recommend top-10 of {items:N0}, {path}, {threads} thread(s), {round} round: {per.Length / wall:N0} calls/s; "
            + $"{Percentiles(per, "ms")}; {collections} GCs{(otherPath > 0 ? $"; {otherPath} users took the other path" : "")}");
    }

    /// <summary>4,000 of the personalised users (seed 7) with the history the tracker passes, for <see cref="TopTenOverlap"/>.</summary>
    private static IEnumerable<(int User, Interaction[] History)> Sample(PreferenceTracker tracker, int[] personalised)
    {
        var r = new Random(7);
        for (int c = 0; c < 4000; c++)
        {
            (int user, UserLog? log) = tracker.Find(User(personalised[r.Next(personalised.Length)]));
            yield return (user, log!.Recent(tracker.Options.MaxHistoryPerUser).ToArray());
        }
    }

    private static int probeCount;

    private static string User(int u) => "c" + u.ToString(CultureInfo.InvariantCulture);

    private static string Item(int i) => "p" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>A skewed item draw: half the purchases from the first 1% of the catalog.</summary>
    private static int Popular(Random rng, int items) => rng.Next(2) == 0 ? rng.Next(Math.Max(1, items / 100)) : rng.Next(items);

    /// <summary>The integer after <paramref name="name"/> on the command line, or <paramref name="fallback"/>.</summary>
    internal static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Percentiles(double[] values, string unit)
    {
        double[] sorted = [.. values.Order()];
        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"p50 {At(0.50):F3} {unit}, p99 {At(0.99):F3} {unit}, p99.9 {At(0.999):F3} {unit}, max {sorted[^1]:F3} {unit} ({sorted.Length:N0} calls)");
    }

    /// <summary>The name the tracker gives its learner thread (Linux shows its first 15 characters).</summary>
    private const string LearnerThread = "LifelongPrefs learner";

    /// <summary>
    /// The CPU time (user + system) of this process's thread named <paramref name="name"/>, from
    /// <c>/proc/self/task/*/stat</c>; <see langword="null"/> where there is no such file or thread.
    /// </summary>
    private static TimeSpan? ThreadCpu(string name)
    {
        const string Tasks = "/proc/self/task";
        string shown = name.Length > 15 ? name[..15] : name;
        if (!Directory.Exists(Tasks))
        {
            return null;
        }

        foreach (string task in Directory.GetDirectories(Tasks))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != shown)
                {
                    continue;
                }

                // After "pid (comm) ", field 3 (state) comes first; utime and stime are fields 14 and 15, in USER_HZ (100/s).
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                return TimeSpan.FromSeconds(ticks / 100.0);
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return null;
    }
}

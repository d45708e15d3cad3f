using System.Globalization;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The child process of the crash test: the test assembly started again with <c>--crash-host</c> (so no extra project
/// is built). It runs a persisted tracker over an events file with flush-every-record, checkpoints every K events,
/// prints each acknowledged event's number, and stalls (for the parent to kill it) at a named crash point; the last
/// argument names the learner (<see cref="CrashRecoveryTests.Learner"/>).
/// </summary>
internal static class CrashHost
{
    internal const string Flag = "--crash-host";
    internal const string Stalled = "stalled";
    internal const string Done = "done";

    /// <summary>The assembly's entry point; as a test library it does nothing unless started with <see cref="Flag"/>.</summary>
    public static int Main(string[] args)
    {
        if (args.Length != 6 || args[0] != Flag)
        {
            Console.Error.WriteLine($"usage: {Flag} <events file> <directory> <checkpoint every> <crash point:occurrence or none> <learner: default or continual>");
            return 2;
        }

        List<InteractionEvent> events = ReadEvents(args[1]);
        int every = int.Parse(args[3], CultureInfo.InvariantCulture);
        string[] spec = args[4].Split(':');
        if (spec[0] != "none")
        {
            int target = int.Parse(spec[1], CultureInfo.InvariantCulture), seen = 0;
            EventJournal.CrashPoint = name =>
            {
                if (name == spec[0] && Interlocked.Increment(ref seen) == target)
                {
                    Console.Out.WriteLine(Stalled);
                    Console.Out.Flush();
                    Thread.Sleep(Timeout.Infinite);
                }
            };
        }

        using var tracker = new PreferenceTracker(CrashRecoveryTests.Options(args[2], JournalFlushPolicy.EveryRecord), CrashRecoveryTests.Learner(args[5]), null);
        for (int i = 0; i < events.Count; i++)
        {
            tracker.Observe(events[i]);
            Console.Out.WriteLine((i + 1).ToString(CultureInfo.InvariantCulture));
            if ((i + 1) % every == 0)
            {
                tracker.CheckpointAsync().GetAwaiter().GetResult();
            }
        }

        Console.Out.WriteLine(Done);
        return 0;
    }

    /// <summary>Writes events as tab-separated lines (user, item, UTC ticks, kind, quantity, value, basket).</summary>
    internal static void WriteEvents(string path, IEnumerable<InteractionEvent> events) =>
        File.WriteAllLines(path, events.Select(e => string.Join('\t', e.UserId, e.ItemId, e.Timestamp.UtcTicks.ToString(CultureInfo.InvariantCulture),
            ((int)e.Kind).ToString(CultureInfo.InvariantCulture), e.Quantity.ToString("R", CultureInfo.InvariantCulture),
            e.Value.ToString("R", CultureInfo.InvariantCulture), e.BasketId ?? "")));

    internal static List<InteractionEvent> ReadEvents(string path) =>
        [.. File.ReadLines(path).Select(line =>
        {
            string[] f = line.Split('\t');
            return new InteractionEvent(f[0], f[1], new DateTimeOffset(long.Parse(f[2], CultureInfo.InvariantCulture), TimeSpan.Zero),
                (EventKind)int.Parse(f[3], CultureInfo.InvariantCulture), float.Parse(f[4], CultureInfo.InvariantCulture),
                float.Parse(f[5], CultureInfo.InvariantCulture), f[6].Length == 0 ? null : f[6]);
        })];
}

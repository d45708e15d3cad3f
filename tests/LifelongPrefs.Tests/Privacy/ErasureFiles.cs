using System.Text;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using LifelongPrefs.Privacy;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>Erasure from the persistence directory: the scenario's options with persistence on, and byte scans of every file there.</summary>
internal static class ErasureFiles
{
    /// <summary>A fixed 32-byte test key (the pseudonymized runs).</summary>
    internal static PseudonymizationOptions Pseudonyms() => new([.. Enumerable.Range(1, 32).Select(i => (byte)(7 * i))]);

    /// <summary><see cref="PrivacyScenario.Options"/> with persistence in <paramref name="directory"/> (or none for the in-memory oracle).</summary>
    internal static TrackerOptions PersistedOptions(string? directory, PseudonymizationOptions? pseudonyms = null, JournalFlushPolicy flush = JournalFlushPolicy.EveryRecord)
    {
        TrackerOptions options = PrivacyScenario.Options(pseudonyms);
        options.Persistence = directory is null ? null : new PersistenceOptions { Directory = directory, JournalFlush = flush, SegmentBytes = 16 << 10 };
        return options;
    }

    /// <summary>The byte sequences that identify a user in files: their kept id (the raw id, or its pseudonym) in UTF-8 and UTF-16, and the raw id too.</summary>
    internal static List<byte[]> Identifiers(string userId, PseudonymizationOptions? pseudonyms)
    {
        var needles = new List<byte[]> { Encoding.UTF8.GetBytes(userId), Encoding.Unicode.GetBytes(userId) };
        if (pseudonyms is not null)
        {
            string pseudonym = pseudonyms.Pseudonymize(userId);
            needles.Add(Encoding.UTF8.GetBytes(pseudonym));
            needles.Add(Encoding.Unicode.GetBytes(pseudonym));
        }

        return needles;
    }

    /// <summary>The names of the files in the directory that contain <paramref name="needle"/>.</summary>
    internal static List<string> FilesContaining(string directory, byte[] needle) =>
        [.. Directory.GetFiles(directory).Where(f => PrivacyScenario.Contains(File.ReadAllBytes(f), needle)).Select(f => Path.GetFileName(f))];

    /// <summary>Whether any file in the directory contains any of <paramref name="needles"/>.</summary>
    internal static bool AnyFileContains(string directory, IEnumerable<byte[]> needles) => needles.Any(n => FilesContaining(directory, n).Count > 0);

    /// <summary>Every file's name and bytes, to prove a call wrote nothing.</summary>
    internal static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    /// <summary>The tracker's user index of a shop id (−1 when unknown).</summary>
    internal static int IndexOf(PreferenceTracker tracker, string userId) => tracker.Find(userId).User;

    /// <summary>The scenario's events without those of the given customers.</summary>
    internal static List<InteractionEvent> Without(IEnumerable<InteractionEvent> events, params int[] customers) =>
        [.. events.Where(e => !customers.Any(c => e.UserId == PrivacyScenario.Customer(c)))];
}

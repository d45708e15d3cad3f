using System.Buffers.Binary;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using static LifelongPrefs.Tests.Persistence.TrackerPersistenceHarness;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// Damaged files: a torn last journal record is cut off and reported (at every byte offset inside it), while a flipped
/// or truncated checkpoint and a corrupt record in the middle of the journal are refused with
/// <see cref="TrackerStateException"/> — never silently skipped, never another exception type.
/// </summary>
public sealed class TrackerCorruptionTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_torn_last_record_is_dropped_and_reported_at_every_offset_inside_it()
    {
        // The first run length whose journal ends with a call (not a batch boundary), so the torn record is a call.
        string source = Path.Combine(_directory, "source");
        int total = 84;
        List<Action<PreferenceTracker>> calls;
        (long First, string Path) segment;
        byte[] bytes;
        long lastStart;
        do
        {
            total++;
            calls = Calls(total);
            if (Directory.Exists(source))
            {
                Directory.Delete(source, recursive: true);
            }

            using (PreferenceTracker t = PreferenceTracker.Open(Options(source)))
            {
                Feed(t, calls, 0, total);
            }

            segment = JournalFormat.Segments(source)[^1];
            bytes = File.ReadAllBytes(segment.Path);
            lastStart = LastRecordStart(bytes);
        }
        while (bytes[lastStart + JournalFormat.RecordPrefix] == 4);
        byte[] withoutLast = Reference(calls, total - 1).State;
        for (long cut = lastStart; cut < bytes.Length; cut++)
        {
            string copy = Path.Combine(_directory, $"cut{cut}");
            CopyDirectory(source, copy);
            using (var file = new FileStream(Path.Combine(copy, Path.GetFileName(segment.Path)), FileMode.Open))
            {
                file.SetLength(cut);
            }

            using PreferenceTracker recovered = PreferenceTracker.Open(Options(copy));
            Assert.Equal(cut - lastStart, recovered.Recovery!.TornBytesDropped);
            Assert.Equal(total - 1 - Enumerable.Range(0, total - 1).Count(n => n % 37 == 36), recovered.Recovery.EventsReplayed);
            if (cut == lastStart || cut == bytes.Length - 1 || cut % 7 == 0)
            {
                Assert.Equal(withoutLast, State(recovered));
            }

            recovered.Dispose();
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void A_torn_tail_is_cut_off_so_the_next_recovery_sees_a_clean_journal()
    {
        List<Action<PreferenceTracker>> calls = Calls(40);
        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory)))
        {
            Feed(t, calls, 0, 40);
        }

        string segment = JournalFormat.Segments(_directory)[^1].Path;
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 3);
        }

        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory)))
        {
            Assert.True(t.Recovery!.TornBytesDropped > 0);
            calls[39](t); // the lost call again
        }

        using PreferenceTracker again = PreferenceTracker.Open(Options(_directory));
        Assert.Equal(0, again.Recovery!.TornBytesDropped);
        Assert.Equal(Reference(calls, 40).State, State(again));
    }

    [Fact]
    public async Task A_flipped_or_truncated_checkpoint_is_refused_with_TrackerStateException()
    {
        List<Action<PreferenceTracker>> calls = Calls(120);
        string source = Path.Combine(_directory, "source");
        using (PreferenceTracker t = PreferenceTracker.Open(Options(source)))
        {
            Feed(t, calls, 0, 120);
            await t.CheckpointAsync();
        }

        // Early trials hit the headers, later ones anywhere.
        TrackerFileChecks.AssertDamageRefused(source, Path.Combine(_directory, "copy"), d => PreferenceTracker.Open(Options(d)), 20261202, 120,
            (rng, trial, length) => trial < 30 ? rng.Next(Math.Min(600, length)) : rng.Next(length));
    }

    [Fact]
    public async Task A_checkpoint_with_a_crafted_huge_section_length_is_refused_before_allocating_it()
    {
        List<Action<PreferenceTracker>> calls = Calls(60);
        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory)))
        {
            Feed(t, calls, 0, 60);
            await t.CheckpointAsync();
        }

        string path = Path.Combine(_directory, PreferenceTracker.CheckpointFile);
        byte[] bytes = File.ReadAllBytes(path);
        // Declare a total length of 2^40 bytes and re-seal the prologue's CRC, so only the length check can catch it.
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(24), 1L << 40);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, 40)));
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(Options(_directory)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
    }

    [Fact]
    public void A_corrupt_record_in_the_middle_of_the_journal_is_refused_not_skipped()
    {
        List<Action<PreferenceTracker>> calls = Calls(80);
        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory)))
        {
            Feed(t, calls, 0, 80);
        }

        string segment = JournalFormat.Segments(_directory)[^1].Path;
        byte[] bytes = File.ReadAllBytes(segment);
        bytes[JournalFormat.HeaderLength + ((bytes.Length - JournalFormat.HeaderLength) / 2)] ^= 0x10;
        File.WriteAllBytes(segment, bytes);
        TrackerStateException error = Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(Options(_directory)));
        Assert.Contains("journal", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_missing_segment_is_a_gap_not_a_shorter_history()
    {
        List<Action<PreferenceTracker>> calls = Calls(300);
        using (PreferenceTracker t = PreferenceTracker.Open(Options(_directory, segmentBytes: 4096)))
        {
            Feed(t, calls, 0, 300);
        }

        List<(long First, string Path)> segments = JournalFormat.Segments(_directory);
        Assert.True(segments.Count >= 3);
        File.Delete(segments[1].Path);
        Assert.Throws<TrackerStateException>(() => PreferenceTracker.Open(Options(_directory, segmentBytes: 4096)));
    }

    /// <summary>The offset of the last record of a segment, walking the length prefixes from the header.</summary>
    private static long LastRecordStart(byte[] segment)
    {
        long at = JournalFormat.HeaderLength, last = at;
        while (at < segment.Length)
        {
            last = at;
            at += JournalFormat.RecordPrefix + BinaryPrimitives.ReadUInt32LittleEndian(segment.AsSpan((int)at));
        }

        return last;
    }
}

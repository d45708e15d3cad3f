using System.Buffers.Binary;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// Erasure with persistence on: the journal's tombstone record, its replay at recovery, and the checkpoint that takes
/// the erased users out of the files. The design and its promises: <c>src/LifelongPrefs/Persistence/README.md</c>.
/// </summary>
/// <remarks>
/// A tombstone is record type 5, five bytes: the type and the user's dense index (<c>int32</c>). The index means
/// nothing outside the tracker's state, and the state it points into is the one being erased, so the record itself
/// identifies nobody. It is appended under the write lock and the learner's queue lock, so it lies among the event
/// records exactly where the call happened and among the batch boundaries exactly where the learner ran the erasure;
/// a replay of it therefore lands at the same place.
/// </remarks>
public sealed partial class PreferenceTracker
{
    private long _erasures;              // erasures requested so far (write lock): the ticket of the newest
    private long _erasuresCheckpointed;  // the tickets the newest durable checkpoint covers (checkpoint gate)
    private long _erasuresReplayed;      // tombstones the recovery re-applied

    /// <summary>Journals a tombstone for <paramref name="user"/>, flushed to the device whatever the flush policy (under the learner's queue lock).</summary>
    private void JournalForget(int user)
    {
        Span<byte> payload = stackalloc byte[5];
        payload[0] = ForgetRecord;
        BinaryPrimitives.WriteInt32LittleEndian(payload[1..], user);
        _journal!.Append(payload, durable: true);
    }

    /// <summary>Re-applies a journalled erasure during recovery and waits until the learner has run it, before the next record.</summary>
    private void ReplayForget(ReadOnlySpan<byte> payload, long sequence)
    {
        if (payload.Length != 5)
        {
            throw new TrackerStateException($"Journal record {sequence} is an erasure of {payload.Length} bytes, not 5.");
        }

        int user = BinaryPrimitives.ReadInt32LittleEndian(payload[1..]);
        string? key = (uint)user < (uint)_users.Count ? _users.FindId(user) : null;
        if (key is null)
        {
            throw new TrackerStateException($"Journal record {sequence} erases user index {user}, which is no known user at that point of the journal.");
        }

        // The live erasure voided only the entries the learner had not taken yet: let the replay take the same ones first.
        _learner.AwaitReplayedCuts();
        Task learned;
        lock (_write)
        {
            learned = EraseUser(key, user);
        }

        // Waiting here keeps the order: the learner runs the erasure after the boundaries replayed so far and before any later one.
        learned.GetAwaiter().GetResult();
        _erasuresReplayed++;
    }

    /// <summary>
    /// At the end of a recovery: deletes the journal segments the checkpoint covers (a crash may have left them between
    /// its rename and their deletion, and they may hold an erased user), and, when the journal held tombstones, writes the
    /// checkpoint that takes the erased users out of the files (the crash came before the erasure's own checkpoint).
    /// </summary>
    private void FinishErasures(PersistenceOptions persistence, long covered)
    {
        _journal!.DeleteBefore(covered);
        if (_erasuresReplayed > 0)
        {
            WriteCheckpoint(persistence);
        }
    }

    /// <summary>Writes a checkpoint unless one written since covers the erasure <paramref name="ticket"/> (many erasures at once share one).</summary>
    private void CompactErasure(PersistenceOptions persistence, long ticket)
    {
        _checkpointGate.Wait();
        try
        {
            if (_erasuresCheckpointed < ticket)
            {
                WriteCheckpoint(persistence);
            }
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    private async Task CompactErasureAsync(PersistenceOptions persistence, (Task Learned, long Ticket) erasure)
    {
        await erasure.Learned.ConfigureAwait(false);
        await Task.Run(() => CompactErasure(persistence, erasure.Ticket), CancellationToken.None).ConfigureAwait(false);
    }
}

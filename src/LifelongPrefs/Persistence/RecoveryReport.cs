namespace LifelongPrefs.Persistence;

/// <summary>What a tracker found and did when it opened its persistence directory.</summary>
/// <param name="CheckpointUsed">Whether a checkpoint was loaded (false: the tracker started empty and replayed the whole journal).</param>
/// <param name="CheckpointSequence">The journal sequence number the checkpoint covers up to (records before it are in the checkpoint); 0 without one.</param>
/// <param name="RecordsReplayed">Journal records applied after the checkpoint (events, feedback, registrations, batch boundaries and erasures; a recovery that re-applied an erasure then writes a checkpoint without the user).</param>
/// <param name="EventsReplayed">Of those, the events and feedback calls.</param>
/// <param name="TornBytesDropped">Bytes of an incompletely written last record that were detected and cut off (0 when the journal ended cleanly).</param>
public sealed record RecoveryReport(bool CheckpointUsed, long CheckpointSequence, long RecordsReplayed, long EventsReplayed, long TornBytesDropped);

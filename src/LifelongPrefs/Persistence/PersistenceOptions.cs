namespace LifelongPrefs.Persistence;

/// <summary>
/// Where and how a tracker keeps its state on disk: checkpoints (<c>PreferenceTracker.CheckpointAsync</c>) and the event
/// journal between them. Set on <c>TrackerOptions.Persistence</c>; the file formats and promises are in
/// <c>src/LifelongPrefs/Persistence/README.md</c>.
/// </summary>
public sealed class PersistenceOptions
{
    /// <summary>A copy (the tracker keeps its own).</summary>
    internal PersistenceOptions Copy() => (PersistenceOptions)MemberwiseClone();

    /// <summary>Gets or sets the directory that holds the checkpoint and the journal segments (created when missing).</summary>
    /// <value>No default: required.</value>
    public string Directory { get; set; } = string.Empty;

    /// <summary>Gets or sets when journal records reach the disk, and so what an acknowledged call promises (see <see cref="JournalFlushPolicy"/>).</summary>
    /// <value>Default <see cref="JournalFlushPolicy.EveryRecord"/>.</value>
    public JournalFlushPolicy JournalFlush { get; set; } = JournalFlushPolicy.EveryRecord;

    /// <summary>Gets or sets how often the journal is flushed to disk under <see cref="JournalFlushPolicy.Interval"/>.</summary>
    /// <value>Default 100 ms; 1 ms to 1 hour.</value>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the size at which the journal starts a new segment file.</summary>
    /// <value>Default 64 MiB; 4 KiB to 1 GiB.</value>
    public long SegmentBytes { get; set; } = 64L << 20;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException($"PersistenceOptions.Directory is '{Directory}'; it must name a directory.", nameof(Directory));
        }

        if (!Enum.IsDefined(JournalFlush))
        {
            throw new ArgumentOutOfRangeException(nameof(JournalFlush), JournalFlush, $"PersistenceOptions.JournalFlush is {(int)JournalFlush}; it must be a defined {nameof(JournalFlushPolicy)}.");
        }

        if (FlushInterval < TimeSpan.FromMilliseconds(1) || FlushInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(FlushInterval), FlushInterval, $"PersistenceOptions.FlushInterval is {FlushInterval}; it must be 1 ms to 1 hour.");
        }

        if (SegmentBytes < 4096 || SegmentBytes > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentBytes), SegmentBytes, $"PersistenceOptions.SegmentBytes is {SegmentBytes}; it must be 4,096 to 1,073,741,824.");
        }
    }
}

/// <summary>When the event journal's records are forced to disk, and what an acknowledged write then promises.</summary>
public enum JournalFlushPolicy
{
    /// <summary>
    /// Every record is written and flushed to the device (<c>fsync</c>) before the call that made it returns: an
    /// acknowledged call is durable, against a killed process and against power loss alike. The slowest policy.
    /// </summary>
    EveryRecord = 0,

    /// <summary>
    /// Records are buffered in the process and flushed to the device every <see cref="PersistenceOptions.FlushInterval"/>:
    /// a crash loses at most the acknowledged calls of the last interval.
    /// </summary>
    Interval = 1,

    /// <summary>
    /// Records are buffered in the process and flushed only when the buffer fills, at a checkpoint and at disposal: a
    /// crash may lose everything acknowledged since the last checkpoint (the checkpoint itself is always durable).
    /// </summary>
    OnCheckpoint = 2,
}

using System.Buffers.Binary;

namespace LifelongPrefs.Persistence;

/// <summary>
/// The append side of the event journal: one open segment, records appended with their length and CRC-32C, flushed
/// as <see cref="JournalFlushPolicy"/> says, a new segment at <see cref="PersistenceOptions.SegmentBytes"/>.
/// </summary>
/// <remarks>
/// Thread safety: every member may be called from any thread; appends are serialised by one lock (the tracker's
/// producers append under its write lock, the learner appends batch boundaries under its queue lock, and neither
/// holds this lock while taking another, so the lock order cannot cycle).
/// </remarks>
internal sealed class EventJournal : IDisposable
{
    private const int BufferBytes = 64 << 10;
    private readonly object _gate = new();
    private readonly string _directory;
    private readonly PersistenceOptions _options;
    private readonly ITimer? _timer;
    private readonly byte[] _prefix = new byte[JournalFormat.RecordPrefix];
    private FileStream? _segment;
    private long _segmentLength;
    private long _next;
    private bool _dirty;
    private bool _disposed;

    /// <summary>Opens the journal for appending, starting a new segment whose first record gets <paramref name="nextSequence"/>.</summary>
    internal EventJournal(PersistenceOptions options, long nextSequence, TimeProvider time)
    {
        _options = options;
        _directory = options.Directory;
        _next = nextSequence;
        StartSegment();
        if (options.JournalFlush == JournalFlushPolicy.Interval)
        {
            _timer = time.CreateTimer(_ => Flush(), null, options.FlushInterval, options.FlushInterval);
        }
    }

    /// <summary>A hook the crash test uses to stop the process in the middle of an append (null in production).</summary>
    internal static Action<string>? CrashPoint { get; set; }

    /// <summary>Gets the sequence number the next record gets (every record before it is in the journal).</summary>
    internal long NextSequence
    {
        get
        {
            lock (_gate)
            {
                return _next;
            }
        }
    }

    /// <summary>
    /// Appends one record and returns its sequence number; under <see cref="JournalFlushPolicy.EveryRecord"/>, or when
    /// <paramref name="durable"/> (an erasure's tombstone, whatever the policy), it and every record before it are on disk
    /// when this returns.
    /// </summary>
    /// <exception cref="IOException">The disk write failed; the record may or may not be in the journal.</exception>
    internal long Append(ReadOnlySpan<byte> payload, bool durable = false)
    {
        if (payload.IsEmpty || payload.Length > JournalFormat.MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"A journal record holds 1 to {JournalFormat.MaxPayload} bytes, not {payload.Length}.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_segmentLength + JournalFormat.RecordPrefix + payload.Length > _options.SegmentBytes && _segmentLength > JournalFormat.HeaderLength)
            {
                CloseSegment();
                StartSegment();
            }

            BinaryPrimitives.WriteUInt32LittleEndian(_prefix, (uint)payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(_prefix.AsSpan(4), JournalFormat.RecordCrc(_prefix.AsSpan(0, 4), payload));
            FileStream segment = _segment!;
            segment.Write(_prefix);
            if (CrashPoint is { } crash)
            {
                // The crash test's point "inside an append": the prefix is out, the payload is not.
                segment.Flush(false);
                crash("journal-append");
            }

            segment.Write(payload);
            _segmentLength += JournalFormat.RecordPrefix + payload.Length;
            if (_options.JournalFlush == JournalFlushPolicy.EveryRecord || durable)
            {
                segment.Flush(true);
                _dirty = false;
            }
            else
            {
                _dirty = true;
            }

            return _next++;
        }
    }

    /// <summary>Forces every appended record to disk.</summary>
    internal void Flush()
    {
        lock (_gate)
        {
            if (!_disposed && _dirty)
            {
                _segment!.Flush(true);
                _dirty = false;
            }
        }
    }

    /// <summary>
    /// Flushes, closes the segment and starts a new one at the current sequence number, which it returns: the point a
    /// checkpoint taken now covers. Every older segment then holds only records below it.
    /// </summary>
    internal long Roll()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            CloseSegment();
            StartSegment();
            return _next;
        }
    }

    /// <summary>Deletes the segments whose records all lie before <paramref name="covered"/> (a durable checkpoint holds them).</summary>
    internal void DeleteBefore(long covered)
    {
        lock (_gate)
        {
            List<(long First, string Path)> segments = JournalFormat.Segments(_directory);
            for (int i = 0; i + 1 < segments.Count; i++)
            {
                if (segments[i + 1].First <= covered)
                {
                    File.Delete(segments[i].Path);
                }
            }

            // Make the deletions durable too: an erased user's events must not come back with a segment after a power loss.
            DirectorySync.Flush(_directory);
        }
    }

    /// <summary>Flushes and closes the journal.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _timer?.Dispose();
            CloseSegment();
            _disposed = true;
        }
    }

    private void StartSegment()
    {
        System.IO.Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, JournalFormat.SegmentName(_next));
        var segment = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, _options.JournalFlush == JournalFlushPolicy.EveryRecord ? 0 : BufferBytes);
        Span<byte> header = stackalloc byte[JournalFormat.HeaderLength];
        JournalFormat.WriteHeader(header, _next);
        segment.Write(header);
        segment.Flush(true);
        DirectorySync.Flush(_directory);
        (_segment, _segmentLength, _dirty) = (segment, JournalFormat.HeaderLength, false);
    }

    private void CloseSegment()
    {
        if (_segment is null)
        {
            return;
        }

        _segment.Flush(true);
        _segment.Dispose();
        _segment = null;
    }
}

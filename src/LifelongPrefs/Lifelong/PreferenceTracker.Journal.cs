using System.Buffers.Binary;
using System.Text;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The journal side of the write path: each accepted call becomes one record (appended under the write lock, after
/// every check and before anything changes), the learner's batch boundaries and erasures (<c>PreferenceTracker.Erasure.cs</c>)
/// become records too, and recovery feeds the records back through the same public methods.
/// </summary>
public sealed partial class PreferenceTracker
{
    private const byte EventRecord = 1;
    private const byte FeedbackRecord = 2;
    private const byte RegisterRecord = 3;
    private const byte BatchRecord = 4;
    private const byte ForgetRecord = 5; // PreferenceTracker.Erasure.cs
    private readonly MemoryStream _record = new();
    private BinaryWriter? _recordWriter;
    private EventJournal? _journal;

    private void JournalEvent(InteractionEvent evt)
    {
        if (_journal is null)
        {
            return;
        }

        BinaryWriter w = StartRecord(EventRecord);
        WriteString(w, evt.UserId);
        WriteString(w, evt.ItemId);
        WriteTime(w, evt.Timestamp);
        w.Write((int)evt.Kind);
        w.Write(evt.Quantity);
        w.Write(evt.Value);
        WriteString(w, evt.BasketId);
        w.Write(evt.Attributes is not null);
        if (evt.Attributes is { } a)
        {
            WriteString(w, a.Category);
            w.Write(a.Price.HasValue);
            w.Write(a.Price ?? 0f);
            WriteString(w, a.Text);
        }

        Append(w);
    }

    private void JournalFeedback(string userId, string itemId, FeedbackOutcome outcome, DateTimeOffset at)
    {
        if (_journal is null)
        {
            return;
        }

        BinaryWriter w = StartRecord(FeedbackRecord);
        WriteString(w, userId);
        WriteString(w, itemId);
        w.Write((int)outcome);
        WriteTime(w, at);
        Append(w);
    }

    private void JournalRegister(string itemId, string? category, string? description)
    {
        if (_journal is null)
        {
            return;
        }

        BinaryWriter w = StartRecord(RegisterRecord);
        WriteString(w, itemId);
        WriteString(w, category);
        WriteString(w, description);
        Append(w);
    }

    /// <summary>The learner's hook: one record per batch taken (under the learner's queue lock; the journal has its own).</summary>
    private void JournalBatch(long start, long end)
    {
        Span<byte> payload = stackalloc byte[17];
        payload[0] = BatchRecord;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], start);
        BinaryPrimitives.WriteInt64LittleEndian(payload[9..], end);
        _journal?.Append(payload);
    }

    /// <summary>Applies one journal record through the public write methods (the journal is detached meanwhile); returns whether it was an event or feedback (not a registration or a boundary).</summary>
    private bool ApplyRecord(ReadOnlySpan<byte> payload, long sequence)
    {
        try
        {
            if (payload[0] == BatchRecord)
            {
                if (payload.Length != 17)
                {
                    throw new TrackerStateException($"Journal record {sequence} is a batch boundary of {payload.Length} bytes, not 17.");
                }

                _learner.ReplayCut(BinaryPrimitives.ReadInt64LittleEndian(payload[1..]), BinaryPrimitives.ReadInt64LittleEndian(payload[9..]));
                return false;
            }

            if (payload[0] == ForgetRecord)
            {
                ReplayForget(payload, sequence);
                return false;
            }

            using var r = new BinaryReader(new MemoryStream(payload.ToArray(), writable: false), Encoding.UTF8);
            switch (payload[0])
            {
                case EventRecord:
                    r.ReadByte();
                    string user = ReadId(r), item = ReadId(r);
                    DateTimeOffset at = ReadTime(r);
                    var kind = (EventKind)r.ReadInt32();
                    float quantity = r.ReadSingle(), value = r.ReadSingle();
                    string? basket = ReadString(r);
                    ItemAttributes? attributes = null;
                    if (r.ReadBoolean())
                    {
                        string? category = ReadString(r);
                        bool hasPrice = r.ReadBoolean();
                        float price = r.ReadSingle();
                        attributes = new ItemAttributes(category, hasPrice ? price : null, ReadString(r));
                    }

                    Observe(new InteractionEvent(user, item, at, kind, quantity, value, basket, attributes));
                    break;
                case FeedbackRecord:
                    r.ReadByte();
                    string fu = ReadId(r), fi = ReadId(r);
                    var outcome = (FeedbackOutcome)r.ReadInt32();
                    Feedback(fu, fi, outcome, ReadTime(r));
                    break;
                case RegisterRecord:
                    r.ReadByte();
                    RegisterItem(ReadId(r), ReadString(r), ReadString(r));
                    break;
                default:
                    throw new TrackerStateException($"Journal record {sequence} has unknown type {payload[0]}.");
            }

            if (r.BaseStream.Position != payload.Length)
            {
                throw new TrackerStateException($"Journal record {sequence} has {payload.Length - r.BaseStream.Position} bytes after its fields.");
            }

            return payload[0] != RegisterRecord;
        }
        catch (Exception ex) when (ex is EndOfStreamException or ArgumentException or FormatException or DecoderFallbackException or InvalidOperationException)
        {
            throw new TrackerStateException($"Journal record {sequence} cannot be replayed: {ex.Message}", ex);
        }
    }

    private BinaryWriter StartRecord(byte type)
    {
        _record.SetLength(0);
        BinaryWriter w = _recordWriter ??= new BinaryWriter(_record, Encoding.UTF8, leaveOpen: true);
        w.Write(type);
        return w;
    }

    private void Append(BinaryWriter w)
    {
        w.Flush();
        _journal!.Append(_record.GetBuffer().AsSpan(0, (int)_record.Length));
    }

    private static void WriteString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static void WriteTime(BinaryWriter w, DateTimeOffset at)
    {
        w.Write(at.UtcTicks);
        w.Write((short)at.Offset.TotalMinutes);
    }

    private static string? ReadString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static string ReadId(BinaryReader r) => ReadString(r) ?? throw new FormatException("an id is null");

    private static DateTimeOffset ReadTime(BinaryReader r)
    {
        long ticks = r.ReadInt64();
        var offset = TimeSpan.FromMinutes(r.ReadInt16());
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks || offset.Duration() > TimeSpan.FromHours(14))
        {
            throw new FormatException($"time {ticks} (offset {offset}) is out of range");
        }

        return new DateTimeOffset(new DateTime(ticks, DateTimeKind.Utc)).ToOffset(offset);
    }
}

using System.Runtime.InteropServices;
using System.Text;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// One byte image of everything the tracker holds — the learner's model state, the continual-learning state, the
/// trending counts, the id maps, every user's log and dismissals, the catalog and the counters — for the erasure and
/// bad-input tests (is a user's trace anywhere? did a rejected call change anything?). Not a checkpoint format: it
/// is not versioned and cannot be loaded.
/// </summary>
public sealed partial class PreferenceTracker
{
    /// <summary>
    /// Captures the image: the learner's part on the learner thread between micro-batches, then the tracker's part
    /// under the write lock. Run it when no writer is active for a consistent image (tests flush first).
    /// </summary>
    internal async Task<byte[]> CaptureStateAsync()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        byte[] learner = [];
        await _learner.RunExclusive(() => learner = LearnerImage()).ConfigureAwait(false);
        writer.Write(learner);
        lock (_write)
        {
            WriteIds(writer, _users);
            WriteIds(writer, _items);
            WriteIds(writer, _categories);
            for (int u = 0; u < _users.Count; u++)
            {
                UserLog log = _logs[u];
                writer.Write(MemoryMarshal.AsBytes(log.Recent(int.MaxValue)));
                writer.Write(MemoryMarshal.AsBytes(log.Dismissals));
                writer.Write(log.LastTicks);
                writer.Write(log.LastBasketId ?? "");
                writer.Write(log.LastBasket);
            }

            writer.Write(MemoryMarshal.AsBytes(_itemCategory.AsSpan()));
            foreach (string? text in _itemText)
            {
                writer.Write(text ?? "");
            }

            writer.Write(_streamTicks);
            writer.Write(_observed);
            writer.Write(_feedback);
            writer.Write(_nextBasket);
            writer.Write(_learner.QueueDepth);
        }

        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>The learner thread's part: the model's saved state, the continual state and the trending counts.</summary>
    private byte[] LearnerImage()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        Recommender? savable = _model as Recommender ?? (_model as ContinualLearner)?.Model as Recommender;
        savable?.Save(stream);
        if (_model is ContinualLearner continual)
        {
            if (continual.Ewc is { } ewc)
            {
                (float[] fisher, float[] anchor) = ewc.UserTable;
                writer.Write(MemoryMarshal.AsBytes(fisher.AsSpan()));
                writer.Write(MemoryMarshal.AsBytes(anchor.AsSpan()));
            }

            if (continual.Replay is { } replay)
            {
                writer.Write(MemoryMarshal.AsBytes(replay.Reservoir.Items));
                foreach (Interaction[]? window in replay.RecentWindows)
                {
                    writer.Write(MemoryMarshal.AsBytes((window ?? []).AsSpan()));
                }
            }
        }

        (double[] scaled, long[] counts, long reference) = _learner.Trending.Raw;
        writer.Write(MemoryMarshal.AsBytes(scaled.AsSpan()));
        writer.Write(MemoryMarshal.AsBytes(counts.AsSpan()));
        writer.Write(reference);
        writer.Flush();
        return stream.ToArray();
    }

    private static void WriteIds(BinaryWriter writer, ConcurrentIdMap map)
    {
        writer.Write(map.Count);
        for (int i = 0; i < map.Count; i++)
        {
            writer.Write(map.FindId(i) ?? "");
        }
    }

    /// <summary>Gets the learner's copy of a user's embedding row (empty without one), on the learner thread. For erasure tests.</summary>
    internal async Task<float[]> UserRowAsync(int user)
    {
        float[] row = [];
        await _learner.RunExclusive(() => row = _model is IForgettingModel m ? m.UserRow(user) : []).ConfigureAwait(false);
        return row;
    }

    /// <summary>Runs <paramref name="read"/> on the learner thread between micro-batches with the model (for tests of its counts).</summary>
    internal Task ReadLearnerAsync(Action<IRecommender, TrendingCounts> read) => _learner.RunExclusive(() => read(_model, _learner.Trending));
}

using System.Text;

namespace LifelongPrefs.Lifelong;

/// <summary>The tracker's own state as sections of one container (its learner's container follows it in the same file).</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>The tracker's canonical options: its own properties plus the nested drift and continual options.</summary>
    private string CanonicalOptions() => BoundOptions() + OptionsFingerprint.Canonical(_options.Continual);

    /// <summary>The canonical options up to the continual ones, which bind a checkpoint only when the learner applies them.</summary>
    private string BoundOptions() => OptionsFingerprint.Canonical(_options) + "Drift:\n" + OptionsFingerprint.Canonical(_options.Drift) + "Continual:\n";

    /// <summary>
    /// The header a checkpoint must match: all the options with a <see cref="ContinualLearner"/>; without one, the
    /// continual options are not used, so a checkpoint saved under other values of them (another release's defaults) loads.
    /// </summary>
    private ModelStateHeader CheckpointHeader() => new(ModelTypeId.Tracker, 1, CanonicalOptions())
    {
        BindingPrefix = _model is ContinualLearner ? null : BoundOptions(),
    };

    /// <summary>
    /// The producer side of the tracker copied under its write lock (histories, id maps, queued entries), and a writer
    /// that streams it and then the learner's model straight from their memory.
    /// </summary>
    private sealed class TrackerSnapshot
    {
        private readonly ModelStateWriter _writer;

        private TrackerSnapshot(ModelStateWriter writer) => _writer = writer;

        /// <summary>Copies the producer-side state (write lock held, learner parked).</summary>
        internal static TrackerSnapshot Capture(PreferenceTracker t, long journalNext)
        {
            var w = new ModelStateWriter(t.CheckpointHeader());
            int users = t._users.Count, items = t._items.Count;
            w.AddLong("journal.next", journalNext);
            w.AddLongs("tracker.counters", [t._streamTicks, t._observed, t._feedback, t._nextBasket, t._catalogChanges, users, items]);
            AddStrings(w, "users", Enumerable.Range(0, users).Select(t._users.FindId)); // null: an erased user's reserved index
            AddStrings(w, "items", Enumerable.Range(0, items).Select(t._items.GetId));
            AddStrings(w, "categories", Enumerable.Range(0, t._categories.Count).Select(t._categories.GetId));
            w.AddInts("items.category", t._itemCategory.AsSpan(0, items).ToArray());
            AddStrings(w, "items.text", t._itemText.Take(items));

            var shape = new long[users * 4];
            var lastBasket = new int[users];
            var basketIds = new string?[users];
            var events = new List<Interaction>();
            var dismissals = new List<long>();
            var dismissalCounts = new int[users];
            for (int u = 0; u < users; u++)
            {
                UserLog log = t._logs[u];
                (Interaction[] array, int count, long start) = log.Buffer;
                (shape[4 * u], shape[(4 * u) + 1], shape[(4 * u) + 2], shape[(4 * u) + 3]) = (array.Length, count, start, log.LastTicks);
                (lastBasket[u], basketIds[u]) = (log.LastBasket, log.LastBasketId);
                events.AddRange(array.AsSpan(0, count));
                foreach (Dismissal d in log.Dismissals)
                {
                    dismissals.Add(d.Item);
                    dismissals.Add(d.UntilTicks);
                }

                dismissalCounts[u] = log.Dismissals.Length;
            }

            w.AddLongs("logs.shape", shape);
            w.AddInts("logs.lastBasket", lastBasket);
            AddStrings(w, "logs.lastBasketId", basketIds);
            AddEvents(w, "logs.events", events);
            w.AddInts("logs.dismissalCounts", dismissalCounts);
            w.AddLongs("logs.dismissals", [.. dismissals]);

            QueuedEvent[] pending = t._learner.Pending();
            AddEvents(w, "queue.events", [.. pending.Select(q => q.Event)]);
            w.AddLongs("queue.meta", [.. pending.SelectMany(q => new long[] { q.Users, q.Items, (q.Negative ? 1 : 0) | (q.Voided ? 2 : 0), q.Position })]);
            AddStrings(w, "queue.text", pending.Select(q => q.Text));
            t._learner.WriteState(w);
            return new TrackerSnapshot(w);
        }

        /// <summary>Reads a checkpoint into a fresh tracker (nothing observed yet); returns the journal position it covers.</summary>
        /// <exception cref="TrackerStateException">Anything in the file is wrong; the tracker is then unusable and is discarded by the caller.</exception>
        internal static long Restore(PreferenceTracker t, Stream stream, ISavableRecommender model)
        {
            try
            {
                ModelStateReader r = ModelStateReader.Read(stream, t.CheckpointHeader(), "tracker");
                long journalNext = r.Long("journal.next");
                r.Require(journalNext >= 0, $"journal position {journalNext}");
                long[] c = r.Longs("tracker.counters", 7);
                r.Require(c[5] >= 0 && c[5] <= t._options.MaxUsers && c[6] >= 0 && c[6] <= t._options.MaxItems, $"{c[5]} users and {c[6]} items exceed the options' limits");
                r.Require(c[1] >= 0 && c[2] >= 0 && c[3] >= 0 && c[3] <= int.MaxValue && c[4] >= 0 && c[4] <= int.MaxValue, "negative counters");
                int users = (int)c[5], items = (int)c[6];
                string?[] userIds = Strings(r, "users", users), itemIds = Strings(r, "items", items);
                string?[] categories = Strings(r, "categories", -1);
                int[] itemCategory = r.Ints("items.category", items);
                r.Require(itemCategory.All(x => x >= -1 && x < categories.Length), "an item category is out of range");
                string?[] texts = Strings(r, "items.text", items);
                r.Require(itemIds.All(x => x is not null) && categories.All(x => x is not null), "a null id"); // a null user id is an erased user

                long[] shape = r.Longs("logs.shape", 4L * users);
                int[] lastBasket = r.Ints("logs.lastBasket", users);
                string?[] basketIds = Strings(r, "logs.lastBasketId", users);
                long total = 0;
                for (int u = 0; u < users; u++)
                {
                    long capacity = shape[4 * u], count = shape[(4 * u) + 1];
                    r.Require(capacity >= 4 && capacity <= 2L * Math.Max(4, t._options.MaxHistoryPerUser) && count >= 0 && count <= capacity && shape[(4 * u) + 2] >= 0,
                        $"user {u}'s log shape ({capacity}, {count})");
                    total += count;
                }

                Interaction[] events = Events(r, "logs.events", total, users, items);
                int[] dismissalCounts = r.Ints("logs.dismissalCounts", users);
                r.Require(dismissalCounts.All(x => x >= 0), "a negative dismissal count");
                long[] dismissals = r.Longs("logs.dismissals", 2 * dismissalCounts.Sum(x => (long)x));
                Interaction[] queued = Events(r, "queue.events", -1, users, items);
                long[] meta = r.Longs("queue.meta", 4L * queued.Length);
                string?[] queueText = Strings(r, "queue.text", queued.Length);
                var pending = new QueuedEvent[queued.Length];
                for (int i = 0; i < pending.Length; i++)
                {
                    // Flags: 1 negative, 2 voided (its user was erased while it waited).
                    r.Require(meta[4 * i] >= 0 && meta[4 * i] <= users && meta[(4 * i) + 1] >= 0 && meta[(4 * i) + 1] <= items && (ulong)meta[(4 * i) + 2] <= 3 && meta[(4 * i) + 3] >= 0, $"queued entry {i}");
                    long flags = meta[(4 * i) + 2];
                    pending[i] = new QueuedEvent(queued[i], (int)meta[4 * i], (int)meta[(4 * i) + 1], (flags & 1) != 0, queueText[i], null, meta[(4 * i) + 3], Voided: (flags & 2) != 0);
                }

                Action learner = t._learner.ReadState(r, pending);
                r.EnsureAllConsumed();
                model.Load(stream); // validates everything before it changes the model

                // Everything is checked: apply.
                for (int i = 0; i < categories.Length; i++)
                {
                    t._categories.GetOrAdd(categories[i]!);
                }

                for (int i = 0; i < items; i++)
                {
                    r.Require(t.ItemIndex(itemIds[i]!) == i, $"item id '{itemIds[i]}' repeats");
                    (t._itemCategory[i], t._itemText[i]) = (itemCategory[i], texts[i]);
                }

                int at = 0, dismissedAt = 0;
                for (int u = 0; u < users; u++)
                {
                    r.Require((userIds[u] is { } id ? t.UserIndex(id) : t.ReserveUserIndex()) == u, $"user id '{userIds[u]}' repeats");
                    var array = new Interaction[shape[4 * u]];
                    int count = (int)shape[(4 * u) + 1];
                    events.AsSpan(at, count).CopyTo(array);
                    at += count;
                    var hidden = new Dismissal[dismissalCounts[u]];
                    for (int d = 0; d < hidden.Length; d++, dismissedAt += 2)
                    {
                        r.Require(dismissals[dismissedAt] >= 0 && dismissals[dismissedAt] < items, $"user {u}'s dismissal of item {dismissals[dismissedAt]}");
                        hidden[d] = new Dismissal((int)dismissals[dismissedAt], dismissals[dismissedAt + 1]);
                    }

                    t._logs[u] = UserLog.Restore(array, count, shape[(4 * u) + 2], shape[(4 * u) + 3], basketIds[u], lastBasket[u], hidden);
                }

                // A queued event of Observe carries its user's log, as it did when queued: the drift monitor tests it against the history before it.
                for (int i = 0; i < pending.Length; i++)
                {
                    if (!pending[i].Negative && pending[i].Text is null && pending[i].Event.User < users)
                    {
                        pending[i] = pending[i] with { Log = t._logs[pending[i].Event.User] };
                    }
                }

                learner();
                (t._streamTicks, t._observed, t._feedback, t._nextBasket, t._catalogChanges) = (c[0], c[1], c[2], (int)c[3], (int)c[4]);
                t._learner.PublishRestored();
                return journalNext;
            }
            catch (ModelStateException ex)
            {
                throw new TrackerStateException($"The checkpoint cannot be used: {ex.Message}", ex);
            }
        }

        /// <summary>Writes the tracker's container, then the model's, straight to <paramref name="stream"/>.</summary>
        internal void WriteTo(Stream stream, ISavableRecommender model)
        {
            _writer.WriteTo(stream);
            EventJournal.CrashPoint?.Invoke("checkpoint-write");
            model.Save(stream);
        }

        private static void AddStrings(ModelStateWriter w, string name, IEnumerable<string?> values)
        {
            var lengths = new List<int>();
            var bytes = new MemoryStream();
            foreach (string? value in values)
            {
                if (value is null)
                {
                    lengths.Add(-1);
                    continue;
                }

                byte[] encoded = Encoding.UTF8.GetBytes(value);
                lengths.Add(encoded.Length);
                bytes.Write(encoded);
            }

            w.AddInts(name + ".lengths", [.. lengths]);
            w.AddUtf8(name + ".utf8", bytes.ToArray());
        }

        private static string?[] Strings(ModelStateReader r, string name, long count)
        {
            int[] lengths = r.Ints(name + ".lengths", count);
            byte[] bytes = r.Utf8(name + ".utf8");
            var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
            var values = new string?[lengths.Length];
            long at = 0;
            for (int i = 0; i < lengths.Length; i++)
            {
                r.Require(lengths[i] >= -1 && at + Math.Max(0, lengths[i]) <= bytes.Length, $"section '{name}' string {i} overruns its bytes");
                if (lengths[i] >= 0)
                {
                    try
                    {
                        values[i] = strict.GetString(bytes, (int)at, lengths[i]);
                    }
                    catch (DecoderFallbackException ex)
                    {
                        throw new ModelStateException($"The saved tracker state's section '{name}' holds invalid UTF-8 at string {i}.", ex);
                    }

                    at += lengths[i];
                }
            }

            r.Require(at == bytes.Length, $"section '{name}' has {bytes.Length - at} bytes after its strings");
            return values;
        }

        private static void AddEvents(ModelStateWriter w, string name, IReadOnlyList<Interaction> events) => InteractionSections.Add(w, name, events);

        private static Interaction[] Events(ModelStateReader r, string name, long count, int users, int items) => InteractionSections.Read(r, name, count, users, items);
    }
}

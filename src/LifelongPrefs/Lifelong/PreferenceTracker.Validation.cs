namespace LifelongPrefs.Lifelong;

/// <summary>The tracker's argument checks: every one runs before anything is recorded, so a rejected call changes nothing.</summary>
public sealed partial class PreferenceTracker
{
    private void CheckId(string id, string name)
    {
        ArgumentNullException.ThrowIfNull(id, name);
        if (id.Length == 0)
        {
            throw new ArgumentException($"'{name}' is empty; ids must have at least one character.", name);
        }

        if (id.Length > _options.MaxIdLength)
        {
            throw new ArgumentException(
                $"'{name}' is {id.Length} characters long (starting '{id[..Math.Min(16, id.Length)]}…'); TrackerOptions.MaxIdLength is {_options.MaxIdLength}.", name);
        }
    }

    private void CheckText(string? text, string name)
    {
        if (text is not null && text.Length > _options.MaxTextLength)
        {
            throw new ArgumentException(
                $"'{name}' is {text.Length} characters long (starting '{text[..Math.Min(16, text.Length)]}…'); TrackerOptions.MaxTextLength is {_options.MaxTextLength}.", name);
        }
    }

    private void CheckK(int k, string name)
    {
        if (k < 1 || k > _options.MaxResults)
        {
            throw new ArgumentOutOfRangeException(name, k, $"'{name}' is {k}; it must lie in [1, {_options.MaxResults}] (TrackerOptions.MaxResults).");
        }
    }

    /// <summary>The checks that need no state: ids, kind, numbers, time.</summary>
    private void CheckEvent(InteractionEvent evt, string name)
    {
        ArgumentNullException.ThrowIfNull(evt, name);
        CheckId(evt.UserId, $"{name}.{nameof(InteractionEvent.UserId)}");
        CheckId(evt.ItemId, $"{name}.{nameof(InteractionEvent.ItemId)}");
        if (evt.BasketId is not null)
        {
            CheckId(evt.BasketId, $"{name}.{nameof(InteractionEvent.BasketId)}");
        }

        if (evt.Attributes?.Category is { } category)
        {
            CheckId(category, $"{name}.{nameof(InteractionEvent.Attributes)}.{nameof(ItemAttributes.Category)}");
        }

        CheckText(evt.Attributes?.Text, $"{name}.{nameof(InteractionEvent.Attributes)}.{nameof(ItemAttributes.Text)}");
        if (evt.Attributes?.Price is float price && !(float.IsFinite(price) && price >= 0f))
        {
            string field = $"{name}.{nameof(InteractionEvent.Attributes)}.{nameof(ItemAttributes.Price)}";
            throw new ArgumentException($"'{field}' is {price}; it must be finite and not negative.", field);
        }

        if (!Enum.IsDefined(evt.Kind))
        {
            throw new ArgumentException($"'{name}.Kind' is {(int)evt.Kind}, which is not a defined {nameof(EventKind)}.", name);
        }

        bool quantityOk = float.IsFinite(evt.Quantity) && (evt.Kind == EventKind.Return ? evt.Quantity != 0f : evt.Quantity > 0f);
        if (!quantityOk)
        {
            throw new ArgumentException(
                $"'{name}.Quantity' is {evt.Quantity}; it must be finite and {(evt.Kind == EventKind.Return ? "nonzero for a return" : "positive")}.", name);
        }

        if (!float.IsFinite(evt.Value) || evt.Value < 0f)
        {
            throw new ArgumentException($"'{name}.Value' is {evt.Value}; it must be finite and not negative.", name);
        }
    }

    /// <summary>The checks against the tracker's state (and, in a batch, against the batch's earlier events).</summary>
    private void CheckAgainstState(InteractionEvent evt, string name, BatchCheck? batch)
    {
        long ticks = evt.Timestamp.UtcTicks;
        bool knownUser = _users.TryGetIndex(evt.UserId, out int user);
        long last = knownUser ? _logs[user].LastTicks : long.MinValue, inBatch = long.MinValue;
        if (batch is not null && batch.LastTicks.TryGetValue(evt.UserId, out inBatch))
        {
            last = Math.Max(last, inBatch);
        }

        if (last != long.MinValue && last - ticks > _options.LateEventTolerance.Ticks)
        {
            throw new ArgumentException(
                $"'{name}' at {evt.Timestamp:O} is {TimeSpan.FromTicks(last - ticks)} older than user '{evt.UserId}''s latest event ({new DateTimeOffset(last, TimeSpan.Zero):O}); TrackerOptions.LateEventTolerance is {_options.LateEventTolerance}.",
                name);
        }

        int newUsers = knownUser ? 0 : 1, newItems = _items.TryGetIndex(evt.ItemId, out _) ? 0 : 1;
        if (batch is not null)
        {
            batch.LastTicks[evt.UserId] = Math.Max(ticks, inBatch);
            newUsers = knownUser || !batch.NewUsers.Add(evt.UserId) ? 0 : 1;
            newItems = newItems == 0 || !batch.NewItems.Add(evt.ItemId) ? 0 : 1;
            batch.UserCount += newUsers;
            batch.ItemCount += newItems;
            newUsers = batch.UserCount;
            newItems = batch.ItemCount;
        }

        CheckCapacity(_users.Count + newUsers, _options.MaxUsers, name, "users", "MaxUsers");
        CheckCapacity(_items.Count + newItems, _options.MaxItems, name, "items", "MaxItems");
    }

    private static void CheckCapacity(long count, int limit, string name, string what, string option)
    {
        if (count > limit)
        {
            throw new ArgumentOutOfRangeException(name, count, $"'{name}' would make {count} {what}; TrackerOptions.{option} is {limit}.");
        }
    }

    /// <summary>What a batch's earlier events would change, for checking its later ones.</summary>
    private sealed class BatchCheck
    {
        internal readonly Dictionary<string, long> LastTicks = new(StringComparer.Ordinal);
        internal readonly HashSet<string> NewUsers = new(StringComparer.Ordinal);
        internal readonly HashSet<string> NewItems = new(StringComparer.Ordinal);
        internal int UserCount;
        internal int ItemCount;
    }
}

namespace LifelongPrefs.Lifelong;

/// <summary>The catalog side of the write path: registering items, their categories and descriptions.</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>
    /// Registers an item of the shop's catalog (or updates its category and description): the category feeds
    /// category filters and interest profiles; the description names clusters and, with a learner that reads texts
    /// (the default one does), gives an item nobody has bought yet an embedding, so it can be recommended before its
    /// first sale. The item may never have been bought. A new or changed description is queued for the learner like
    /// an event (under <see cref="QueueFullPolicy.Throw"/> a full queue rejects the call before anything changes).
    /// </summary>
    /// <param name="itemId">The shop's item id.</param>
    /// <param name="category">The item's category; <see langword="null"/> keeps the current one.</param>
    /// <param name="description">The item's description; <see langword="null"/> keeps the current one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An id is empty or too long, or the description is longer than <see cref="TrackerOptions.MaxTextLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A new item would exceed <see cref="TrackerOptions.MaxItems"/>.</exception>
    /// <exception cref="InvalidOperationException">The description is new, the learning queue is full and the policy is <see cref="QueueFullPolicy.Throw"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tracker is disposed.</exception>
    public void RegisterItem(string itemId, string? category = null, string? description = null)
    {
        CheckId(itemId, nameof(itemId));
        if (category is not null)
        {
            CheckId(category, nameof(category));
        }

        CheckText(description, nameof(description));
        lock (_write)
        {
            ThrowIfDisposed();
            bool known = _items.TryGetIndex(itemId, out int existing);
            if (!known)
            {
                CheckCapacity(_items.Count + 1, _options.MaxItems, nameof(itemId), "items", "MaxItems");
            }

            if (description is not null && (!known || !string.Equals(_itemText[existing], description, StringComparison.Ordinal)))
            {
                _learner.EnsureRoom();
            }

            JournalRegister(itemId, category, description);
            int item = ItemIndex(itemId);
            Describe(item, category, description);
        }
    }

    private int ItemIndex(string itemId)
    {
        if (_items.TryGetIndex(itemId, out int item))
        {
            return item;
        }

        int next = _items.Count;
        if (next >= _itemCategory.Length)
        {
            int size = Math.Max(16, _itemCategory.Length * 2);
            int[] categories = new int[size];
            categories.AsSpan().Fill(-1);
            _itemCategory.AsSpan().CopyTo(categories);
            string?[] texts = new string?[size];
            _itemText.AsSpan().CopyTo(texts);
            Volatile.Write(ref _itemCategory, categories);
            Volatile.Write(ref _itemText, texts);
        }

        return _items.GetOrAdd(itemId);
    }

    private void Describe(int item, string? category, string? description)
    {
        if (category is not null)
        {
            int c = _categories.GetOrAdd(category);
            if (_itemCategory[item] != c)
            {
                _itemCategory[item] = c;
                Interlocked.Increment(ref _catalogChanges);
            }
        }

        if (description is not null && !string.Equals(_itemText[item], description, StringComparison.Ordinal))
        {
            // The learner reads a new description in the batch it arrives in (IItemTextLearner), as it reads events.
            _itemText[item] = description;
            var carrier = new Interaction(0, item, Interlocked.Read(ref _streamTicks), EventKind.View, 1f, 0f, -1);
            _learner.Enqueue(new QueuedEvent(carrier, _users.Count, _items.Count, Negative: false, Text: description));
        }
    }
}

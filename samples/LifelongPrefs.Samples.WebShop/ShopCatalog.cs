using System.Collections.Concurrent;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// The items the shop has seen (through the warm-up, <c>POST /events</c> or a click or purchase fed back), with the
/// first description each came with; answers show it beside the stock code. Any thread.
/// </summary>
internal sealed class ShopCatalog
{
    private readonly ConcurrentDictionary<string, string?> _items = new(StringComparer.Ordinal);

    /// <summary>Gets how many items are known.</summary>
    public int Count => _items.Count;

    /// <summary>Records an item; a description replaces none, never another one.</summary>
    public void Add(string itemId, string? description)
    {
        if (description is null)
        {
            _items.TryAdd(itemId, null);
        }
        else
        {
            _items.AddOrUpdate(itemId, description, (_, old) => old ?? description);
        }
    }

    /// <summary>Whether the item is known.</summary>
    public bool Contains(string itemId) => _items.ContainsKey(itemId);

    /// <summary>The item's description, or null.</summary>
    public string? DescriptionOf(string itemId) => _items.TryGetValue(itemId, out string? d) ? d : null;
}

namespace LifelongPrefs.Data;

/// <summary>
/// One raw shop event with external (string) ids, as a host or a loader produces it. <see cref="InteractionLog"/>
/// maps the ids to dense indices.
/// </summary>
/// <param name="UserId">The shopper's external id (e.g. a customer number).</param>
/// <param name="ItemId">The item's external id (e.g. a stock code).</param>
/// <param name="Timestamp">When it happened.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Quantity">How many units (1 for views and clicks; negative quantities are returns).</param>
/// <param name="Value">Unit price for purchases, the rating for ratings, else 0.</param>
/// <param name="BasketId">The basket, invoice or session the event belongs to, if any.</param>
/// <param name="Attributes">Optional item attributes seen with the event.</param>
public sealed record InteractionEvent(
    string UserId,
    string ItemId,
    DateTimeOffset Timestamp,
    EventKind Kind,
    float Quantity = 1f,
    float Value = 0f,
    string? BasketId = null,
    ItemAttributes? Attributes = null);

/// <summary>Optional descriptive attributes of an item.</summary>
/// <param name="Category">A category or department, if known.</param>
/// <param name="Price">A list price, if known: finite and not negative (the tracker rejects any other).</param>
/// <param name="Text">A free-text description, if known.</param>
public sealed record ItemAttributes(string? Category = null, float? Price = null, string? Text = null);

/// <summary>
/// One event with dense indices, as models consume it: 28 bytes, no references, so logs of millions of events
/// stay compact and cache-friendly.
/// </summary>
/// <param name="User">Dense user index (see <see cref="InteractionLog.Users"/>).</param>
/// <param name="Item">Dense item index (see <see cref="InteractionLog.Items"/>).</param>
/// <param name="Ticks">UTC time stamp in ticks (<see cref="DateTimeOffset.UtcTicks"/>).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Quantity">Units.</param>
/// <param name="Value">Unit price or rating.</param>
/// <param name="Basket">
/// Dense basket index (see <see cref="InteractionLog.Baskets"/>), or -1 when the source had no basket id; such an
/// event still belongs to a basket: the one of its user's events at the same time stamp (see <see cref="BasketKey"/>).
/// </param>
public readonly record struct Interaction(int User, int Item, long Ticks, EventKind Kind, float Quantity, float Value, int Basket)
{
    /// <summary>
    /// Gets the key of the basket this event belongs to, within its user's events: the basket index when it has one;
    /// otherwise the time stamp, so a user's events without a basket id at one time stamp form one basket. This is
    /// the library's one basket rule: <see cref="UserHistories"/>, the splits, the protocols and the models all group
    /// by it.
    /// </summary>
    /// <value>
    /// <see cref="Basket"/> when it is non-negative, else <c>~</c><see cref="Ticks"/> (negative for every valid time
    /// stamp, ticks ≥ 0, so an explicit basket never shares a key with a time-stamp basket; and never
    /// <see cref="long.MinValue"/>, which callers may use as "no basket yet").
    /// </value>
    public long BasketKey => Basket >= 0 ? Basket : ~Ticks;
}

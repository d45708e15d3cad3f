namespace LifelongPrefs.Data;

/// <summary>
/// An append-only log of interactions with dense ids: the id maps for users, items and baskets, and the events
/// in the order they were added (loaders add them in time order, ties in file order).
/// </summary>
/// <remarks>Not synchronised: one writer, or readers only.</remarks>
public sealed class InteractionLog
{
    private readonly List<Interaction> _events = [];
    private readonly List<List<int>> _eventsByUser = [];

    /// <summary>Gets the user id map.</summary>
    public IdMap Users { get; } = new();

    /// <summary>Gets the item id map.</summary>
    public IdMap Items { get; } = new();

    /// <summary>Gets the basket (invoice, session) id map.</summary>
    public IdMap Baskets { get; } = new();

    /// <summary>Gets the events in insertion order.</summary>
    public IReadOnlyList<Interaction> Events => _events;

    /// <summary>Gets the number of events.</summary>
    public int Count => _events.Count;

    /// <summary>Maps the ids of <paramref name="evt"/> (growing the maps for new ones) and appends it.</summary>
    /// <param name="evt">The event.</param>
    /// <returns>The dense form that was appended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="evt"/> is null.</exception>
    /// <exception cref="ArgumentException">An id is empty, or the quantity or value is NaN or infinite.</exception>
    public Interaction Add(InteractionEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (!float.IsFinite(evt.Quantity))
        {
            throw new ArgumentException($"Event quantity must be finite but was {evt.Quantity}.", nameof(evt));
        }

        if (!float.IsFinite(evt.Value))
        {
            throw new ArgumentException($"Event value must be finite but was {evt.Value}.", nameof(evt));
        }

        // Validate both ids before growing either map, so a rejected event changes nothing.
        ArgumentException.ThrowIfNullOrEmpty(evt.UserId, nameof(evt));
        ArgumentException.ThrowIfNullOrEmpty(evt.ItemId, nameof(evt));
        int user = Users.GetOrAdd(evt.UserId);
        int item = Items.GetOrAdd(evt.ItemId);
        int basket = string.IsNullOrEmpty(evt.BasketId) ? -1 : Baskets.GetOrAdd(evt.BasketId);
        var interaction = new Interaction(user, item, evt.Timestamp.UtcTicks, evt.Kind, evt.Quantity, evt.Value, basket);
        Append(interaction);
        return interaction;
    }

    /// <summary>Appends an already-mapped interaction (its indices must come from this log's maps).</summary>
    /// <param name="interaction">The interaction.</param>
    /// <exception cref="ArgumentOutOfRangeException">A user, item or basket index is not mapped by this log, or the
    /// time stamp is outside [0, <see cref="DateTime.MaxValue"/>'s ticks] (what every <see cref="DateTimeOffset"/>
    /// gives, and what <see cref="Interaction.BasketKey"/> relies on).</exception>
    public void Append(Interaction interaction)
    {
        if ((ulong)interaction.Ticks > (ulong)DateTime.MaxValue.Ticks)
        {
            throw new ArgumentOutOfRangeException(nameof(interaction), interaction.Ticks, $"Time stamp {interaction.Ticks} ticks is not in [0, {DateTime.MaxValue.Ticks}].");
        }

        if ((uint)interaction.User >= (uint)Users.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interaction), interaction.User, $"User index {interaction.User} is not in [0, {Users.Count}).");
        }

        if ((uint)interaction.Item >= (uint)Items.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interaction), interaction.Item, $"Item index {interaction.Item} is not in [0, {Items.Count}).");
        }

        if (interaction.Basket < -1 || interaction.Basket >= Baskets.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interaction), interaction.Basket, $"Basket index {interaction.Basket} is not -1 or in [0, {Baskets.Count}).");
        }

        while (_eventsByUser.Count <= interaction.User)
        {
            _eventsByUser.Add([]);
        }

        _eventsByUser[interaction.User].Add(_events.Count);
        _events.Add(interaction);
    }

    /// <summary>Gets the positions in <see cref="Events"/> of one user's events, in insertion order.</summary>
    /// <param name="user">A user index.</param>
    /// <returns>Event positions (empty for a user without events).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not mapped.</exception>
    public IReadOnlyList<int> EventsOf(int user)
    {
        if ((uint)user >= (uint)Users.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(user), user, $"'{nameof(user)}' must be in [0, {Users.Count}) but was {user}.");
        }

        return user < _eventsByUser.Count ? _eventsByUser[user] : [];
    }
}

namespace LifelongPrefs.Data;

/// <summary>What a shopper did with an item.</summary>
public enum EventKind
{
    /// <summary>Looked at the item's page.</summary>
    View = 0,

    /// <summary>Clicked the item in a list or recommendation.</summary>
    Click = 1,

    /// <summary>Put the item in the basket.</summary>
    AddToCart = 2,

    /// <summary>Bought the item.</summary>
    Purchase = 3,

    /// <summary>Gave the item an explicit rating (the rating is in <see cref="InteractionEvent.Value"/>).</summary>
    Rating = 4,

    /// <summary>Returned or cancelled a purchase (a negative signal).</summary>
    Return = 5,
}

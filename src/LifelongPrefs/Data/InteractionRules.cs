namespace LifelongPrefs.Data;

/// <summary>
/// The one rule for what a valid dense <see cref="Interaction"/> is, shared by <see cref="InteractionLog"/> and
/// every model entry point, so that a value one layer rejects can never reach another through a side door.
/// </summary>
internal static class InteractionRules
{
    /// <summary>The largest valid tick count (<see cref="DateTime.MaxValue"/>).</summary>
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;

    /// <summary>
    /// Returns why <paramref name="e"/> is invalid, or null when it is valid: the kind must be a defined
    /// <see cref="EventKind"/>, the ticks a valid UTC time, quantity and value finite, the basket -1 or an index.
    /// Index ranges (user, item, basket) are the caller's to check, since only it knows the map sizes.
    /// </summary>
    internal static string? Problem(in Interaction e)
    {
        if ((uint)e.Kind > (uint)EventKind.Return)
        {
            return $"kind {(int)e.Kind} is not a defined {nameof(EventKind)}";
        }

        if ((ulong)e.Ticks > (ulong)MaxTicks)
        {
            return $"ticks {e.Ticks} are not a valid time (0 to {MaxTicks})";
        }

        if (!float.IsFinite(e.Quantity))
        {
            return $"quantity {e.Quantity} is not finite";
        }

        if (!float.IsFinite(e.Value))
        {
            return $"value {e.Value} is not finite";
        }

        if (e.Basket < -1)
        {
            return $"basket {e.Basket} is neither -1 nor an index";
        }

        return null;
    }
}

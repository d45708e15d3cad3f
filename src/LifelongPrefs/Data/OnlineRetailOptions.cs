namespace LifelongPrefs.Data;

/// <summary>Cleaning choices for <see cref="OnlineRetail.Load(string, OnlineRetailOptions?)"/>. Immutable.</summary>
public sealed record OnlineRetailOptions
{
    /// <summary>Gets the default options: drop returns, non-product codes and duplicate lines; strict CSV.</summary>
    public static OnlineRetailOptions Default { get; } = new();

    /// <summary>
    /// Gets whether cancellation lines (invoice numbers starting with <c>C</c>) and other negative-quantity lines are kept
    /// as <see cref="EventKind.Return"/> events (with their negative quantity) instead of being dropped.
    /// </summary>
    /// <value><see langword="false"/> (drop) by default.</value>
    public bool KeepReturns { get; init; }

    /// <summary>
    /// Gets whether lines with non-product stock codes (postage, fees, manual adjustments, samples, gift vouchers; see
    /// <see cref="OnlineRetail.IsNonProductCode"/>) are kept.
    /// </summary>
    /// <value><see langword="false"/> (drop) by default.</value>
    public bool KeepNonProductCodes { get; init; }

    /// <summary>Gets whether exact duplicate lines (all eight fields equal to an earlier kept line) are dropped.</summary>
    /// <value><see langword="true"/> by default.</value>
    public bool DropDuplicates { get; init; } = true;

    /// <summary>Gets whether malformed lines are skipped and counted instead of failing the load.</summary>
    /// <value><see langword="false"/> (strict) by default.</value>
    public bool Lenient { get; init; }
}

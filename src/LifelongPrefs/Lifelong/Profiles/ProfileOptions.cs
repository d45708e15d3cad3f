namespace LifelongPrefs.Lifelong;

/// <summary>
/// How interest profiles weigh and forget events: one weight per event kind, a log-scaled quantity, and the two
/// half-lives of the long-term and the recent profile (see <c>Profiles/README.md</c>).
/// </summary>
internal sealed record ProfileOptions
{
    /// <summary>Gets the defaults.</summary>
    internal static ProfileOptions Default { get; } = new();

    /// <summary>Gets the half-life of the long-term profile. <value>Default 365 days.</value></summary>
    internal TimeSpan LongTermHalfLife { get; init; } = TimeSpan.FromDays(365);

    /// <summary>Gets the half-life of the recent profile. <value>Default 30 days.</value></summary>
    internal TimeSpan RecentHalfLife { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Gets the weight of a purchase. <value>Default 1.</value></summary>
    internal float PurchaseWeight { get; init; } = 1f;

    /// <summary>Gets the weight of an add-to-cart. <value>Default 0.5.</value></summary>
    internal float AddToCartWeight { get; init; } = 0.5f;

    /// <summary>Gets the weight of a click. <value>Default 0.25.</value></summary>
    internal float ClickWeight { get; init; } = 0.25f;

    /// <summary>Gets the weight of a view. <value>Default 0.1.</value></summary>
    internal float ViewWeight { get; init; } = 0.1f;

    /// <summary>Gets the weight of a rating (any value: rating an item is engagement with its category). <value>Default 0.5.</value></summary>
    internal float RatingWeight { get; init; } = 0.5f;

    /// <summary>
    /// Gets the largest quantity that still adds weight; larger ones count as this much (a wholesaler's 1,000 units
    /// say little more about taste than 100). <value>Default 100.</value>
    /// </summary>
    internal float MaxQuantity { get; init; } = 100f;

    /// <summary>Gets how many calendar months a trajectory keeps at most (the latest ones). <value>Default 24.</value></summary>
    internal int TrajectoryMonths { get; init; } = 24;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A half-life is not positive, a weight is negative or not finite,
    /// <see cref="MaxQuantity"/> is below 1 or not finite, or <see cref="TrajectoryMonths"/> is below 1.</exception>
    internal void Validate()
    {
        Positive(LongTermHalfLife, nameof(LongTermHalfLife));
        Positive(RecentHalfLife, nameof(RecentHalfLife));
        Weight(PurchaseWeight, nameof(PurchaseWeight));
        Weight(AddToCartWeight, nameof(AddToCartWeight));
        Weight(ClickWeight, nameof(ClickWeight));
        Weight(ViewWeight, nameof(ViewWeight));
        Weight(RatingWeight, nameof(RatingWeight));
        if (!float.IsFinite(MaxQuantity) || MaxQuantity < 1f)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQuantity), MaxQuantity, $"'{nameof(MaxQuantity)}' must be finite and at least 1 but was {MaxQuantity}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(TrajectoryMonths, 1, nameof(TrajectoryMonths));
    }

    /// <summary>
    /// The undecayed weight of one event: its kind's weight times <c>1 + ln(min(max(quantity, 1), MaxQuantity))</c>.
    /// Returns get weight 0 (they are ignored): a return says "not this item", not "not this category", and a negative
    /// weight could drive a category's mass below zero.
    /// </summary>
    /// <param name="e">The event.</param>
    /// <returns>A finite weight ≥ 0.</returns>
    internal float Weigh(in Interaction e)
    {
        float kind = KindWeight(e.Kind);

        // Non-finite or sub-unit quantities (views usually carry 1 or 0) count as one unit.
        float quantity = float.IsFinite(e.Quantity) ? Math.Clamp(e.Quantity, 1f, MaxQuantity) : 1f;
        return kind * (1f + MathF.Log(quantity));
    }

    /// <summary>The weight of one event of this kind, before its quantity (a return weighs 0).</summary>
    /// <param name="kind">The event kind.</param>
    /// <returns>The kind's weight.</returns>
    internal float KindWeight(EventKind kind) => kind switch
    {
        EventKind.Purchase => PurchaseWeight,
        EventKind.AddToCart => AddToCartWeight,
        EventKind.Click => ClickWeight,
        EventKind.View => ViewWeight,
        EventKind.Rating => RatingWeight,
        _ => 0f,
    };

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be positive but was {value}.");
        }
    }

    private static void Weight(float value, string name)
    {
        if (!float.IsFinite(value) || value < 0f)
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be finite and non-negative but was {value}.");
        }
    }
}

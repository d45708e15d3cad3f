namespace LifelongPrefs.Lifelong;

/// <summary>One category's share of a user's interest.</summary>
/// <param name="Category">The category's name (registered by the shop, or a cluster named by its items' most telling words).</param>
/// <param name="Weight">Its share; the weights of one distribution sum to 1.</param>
public readonly record struct CategoryWeight(string Category, float Weight);

/// <summary>An interpretable picture of one user's interests (see <see cref="PreferenceTracker.GetProfile"/>).</summary>
/// <param name="UserId">The user.</param>
/// <param name="AsOf">The stream time the decay is measured to.</param>
/// <param name="LongTerm">The long-term interest over categories (<see cref="TrackerOptions.LongTermHalfLife"/>), largest first.</param>
/// <param name="Recent">The recent interest (<see cref="TrackerOptions.RecentHalfLife"/>), largest first.</param>
/// <param name="Drift">How far recent interest has moved from long-term interest: the Jensen–Shannon divergence in bits, 0 (same) to 1 (disjoint).</param>
/// <param name="TopItems">The user's items by decayed weight, strongest first.</param>
/// <param name="Embedding">The user's vector in the learner's space (empty when the learner has none).</param>
/// <param name="Events">How many of the user's events counted.</param>
/// <param name="ModelVersion">The model version whose categories and vector were used.</param>
public sealed record InterestProfile(
    string UserId,
    DateTimeOffset AsOf,
    IReadOnlyList<CategoryWeight> LongTerm,
    IReadOnlyList<CategoryWeight> Recent,
    double Drift,
    IReadOnlyList<string> TopItems,
    IReadOnlyList<float> Embedding,
    int Events,
    long ModelVersion);

/// <summary>The user's interest in one calendar month of the past (a point of the trajectory).</summary>
/// <param name="Month">The month's first day, UTC.</param>
/// <param name="Events">The user's events in the month.</param>
/// <param name="Categories">The month's interest over categories, largest first (empty for a month without events).</param>
public sealed record MonthlyInterest(DateTimeOffset Month, int Events, IReadOnlyList<CategoryWeight> Categories);

/// <summary>Where a user's interests are heading (see <see cref="PreferenceTracker.PredictInterests"/>).</summary>
/// <param name="UserId">The user.</param>
/// <param name="From">The stream time the forecast starts at.</param>
/// <param name="Horizon">How far ahead it looks.</param>
/// <param name="Categories">The expected distribution of the user's engagement over categories in the horizon, largest first (no zero).</param>
/// <param name="TopItems">The items the user is most likely to engage with next (the personalised ranking, re-buys included).</param>
/// <param name="Trajectory">The user's past, one profile per calendar month, oldest first.</param>
/// <param name="ModelVersion">The model version that answered.</param>
public sealed record InterestForecast(
    string UserId,
    DateTimeOffset From,
    TimeSpan Horizon,
    IReadOnlyList<CategoryWeight> Categories,
    IReadOnlyList<string> TopItems,
    IReadOnlyList<MonthlyInterest> Trajectory,
    long ModelVersion);

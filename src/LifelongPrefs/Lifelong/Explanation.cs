namespace LifelongPrefs.Lifelong;

/// <summary>Why the tracker scores an item as it does for one user (see <see cref="PreferenceTracker.Explain"/>).</summary>
/// <param name="UserId">The user.</param>
/// <param name="ItemId">The item explained.</param>
/// <param name="Score">The item's score in that user's recommendations (same model version).</param>
/// <param name="Reason">Repeat (the user bought it before), personalised exploration, or cold start.</param>
/// <param name="Category">The item's category (registered or clustered), or <see langword="null"/> when it has none.</param>
/// <param name="Evidence">The user's past items that contributed most, largest contribution first.</param>
/// <param name="Unattributed">The part of the score no past item explains (biases, the user's own vector).</param>
/// <param name="ModelVersion">The model version that answered.</param>
public sealed record Explanation(
    string UserId,
    string ItemId,
    float Score,
    RecommendationReason Reason,
    string? Category,
    IReadOnlyList<Evidence> Evidence,
    float Unattributed,
    long ModelVersion);

/// <summary>One past item's part in an explanation.</summary>
/// <param name="ItemId">The past item.</param>
/// <param name="Events">How many of the user's kept events involve it.</param>
/// <param name="LastSeen">The time of the user's latest event with it.</param>
/// <param name="Contribution">Its share of the explained score (the sum over its events).</param>
public readonly record struct Evidence(string ItemId, int Events, DateTimeOffset LastSeen, float Contribution);

/// <summary>A user in an audience (see <see cref="PreferenceTracker.FindAudience"/>).</summary>
/// <param name="UserId">The shop's user id.</param>
/// <param name="Score">How strongly the model expects the user to buy (comparable only within one audience).</param>
public readonly record struct AudienceMember(string UserId, float Score);

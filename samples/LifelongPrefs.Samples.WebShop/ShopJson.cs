using System.Text.Json;
using System.Text.Json.Serialization;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>One event as the shop posts it to <c>POST /events</c> (alone, or in a JSON array).</summary>
/// <param name="UserId">The shopper's id (required).</param>
/// <param name="ItemId">The item's id (required).</param>
/// <param name="Timestamp">When it happened, ISO 8601 (required).</param>
/// <param name="Kind">view, click, addToCart, purchase, rating or return (required; any letter case).</param>
/// <param name="Quantity">Units (default 1).</param>
/// <param name="Value">Unit price, or the rating (default 0).</param>
/// <param name="BasketId">The basket or invoice, if any.</param>
/// <param name="Category">The item's category, if the shop has one.</param>
/// <param name="Description">The item's description, if known (the catalog keeps the first).</param>
internal sealed record EventDto(
    string? UserId,
    string? ItemId,
    DateTimeOffset? Timestamp,
    string? Kind,
    float? Quantity = null,
    float? Value = null,
    string? BasketId = null,
    string? Category = null,
    string? Description = null);

/// <summary>The body of <c>POST /feedback</c>.</summary>
/// <param name="UserId">The shopper's id.</param>
/// <param name="ItemId">The recommended item.</param>
/// <param name="Outcome">shown, clicked, bought or dismissed.</param>
/// <param name="Timestamp">When; null for the tracker's stream time.</param>
internal sealed record FeedbackDto(string? UserId, string? ItemId, string? Outcome, DateTimeOffset? Timestamp = null);

/// <summary>The answer to an accepted <c>POST /events</c>.</summary>
internal sealed record EventsAccepted(int Accepted, long EventsObserved);

/// <summary>The answer to an accepted <c>POST /feedback</c>.</summary>
internal sealed record FeedbackAccepted(string Outcome, long FeedbackReceived);

/// <summary>One recommended item.</summary>
internal sealed record RecommendedItem(string ItemId, float Score, string Reason, string? Description);

/// <summary>The answer of <c>GET /users/{id}/recommendations</c>.</summary>
internal sealed record RecommendationsResponse(string UserId, long ModelVersion, bool ColdStart, int HistoryLength, IReadOnlyList<RecommendedItem> Items);

/// <summary>One category's share of an interest.</summary>
internal sealed record CategoryShare(string Category, float Weight);

/// <summary>The answer of <c>GET /users/{id}/profile</c>.</summary>
internal sealed record ProfileResponse(string UserId, DateTimeOffset AsOf, int Events, double Drift, IReadOnlyList<CategoryShare> LongTerm,
    IReadOnlyList<CategoryShare> Recent, IReadOnlyList<string> TopItems, int EmbeddingDimensions, long ModelVersion);

/// <summary>One past item's part in an explanation.</summary>
internal sealed record EvidenceItem(string ItemId, string? Description, int Events, DateTimeOffset LastSeen, float Contribution);

/// <summary>The answer of <c>GET /users/{id}/explain/{item}</c>.</summary>
internal sealed record ExplainResponse(string UserId, string ItemId, string? Description, float Score, string Reason, string? Category,
    IReadOnlyList<EvidenceItem> Evidence, float Unattributed, long ModelVersion);

/// <summary>The warm-up's progress.</summary>
internal sealed record WarmUpReport(string State, int Replayed, int Total, int Skipped, string? Error);

/// <summary>The answer of <c>GET /healthz</c>.</summary>
internal sealed record HealthResponse(string Status, long ModelVersion, long LagEvents, int QueueDepth, int QueueCapacity, DateTimeOffset? StreamTime,
    WarmUpReport WarmUp);

/// <summary>The answer of <c>GET /metrics</c> and <c>POST /flush</c>: the tracker's counters and the shop's own.</summary>
internal sealed record MetricsResponse(long EventsObserved, long EventsLearned, int QueueDepth, long EventsDroppedFromLearning, long ModelVersion,
    int Users, int Items, long FeedbackReceived, long SkippedSteps, long DriftTests, long DriftsDetected, long RejectedRequests, WarmUpReport WarmUp);

/// <summary>
/// The source-generated JSON contracts of every request and response body (camelCase; unknown request fields are an
/// error, so a misspelt field is a 400 naming it instead of a silent default).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(EventDto))]
[JsonSerializable(typeof(EventDto[]))]
[JsonSerializable(typeof(FeedbackDto))]
[JsonSerializable(typeof(EventsAccepted))]
[JsonSerializable(typeof(FeedbackAccepted))]
[JsonSerializable(typeof(RecommendationsResponse))]
[JsonSerializable(typeof(ProfileResponse))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(MetricsResponse))]
internal sealed partial class ShopJson : JsonSerializerContext;

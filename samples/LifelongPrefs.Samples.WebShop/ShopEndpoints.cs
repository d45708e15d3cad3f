using System.Text.Json;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using Microsoft.Extensions.Options;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// The shop's HTTP surface. Every handler runs on any number of request threads at once: the tracker's writes are
/// serialised inside it and its reads take no lock; an answer reports the model version that computed it.
/// </summary>
internal static class ShopEndpoints
{
    /// <summary>The most events one <c>POST /events</c> may carry.</summary>
    internal const int MaxBatch = 10_000;

    internal static void Map(WebApplication app)
    {
        app.MapPost("/events", PostEvents);
        app.MapGet("/users/{id}/recommendations", Recommendations);
        app.MapPost("/feedback", PostFeedback);
        app.MapGet("/users/{id}/profile", Profile);
        app.MapGet("/users/{id}/explain/{item}", Explain);
        app.MapGet("/healthz", (ShopHealth health) => TypedResults.Ok(health.Check()));
        app.MapGet("/metrics", (IPreferenceTracker tracker, ShopCounters counters, WarmUp warmUp) => TypedResults.Ok(Metrics(tracker, counters, warmUp)));
        app.MapPost("/flush", Flush);
    }

    /// <summary>One event (a JSON object) or a batch (an array), all or nothing: a rejected batch records none of its events.</summary>
    private static async Task<IResult> PostEvents(HttpRequest request, IPreferenceTracker tracker, ShopCatalog catalog, ShopCounters counters)
    {
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, ShopJson.Default.JsonElement, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return counters.Reject(RequestErrors.FromJson(e, null));
        }

        bool single = body.ValueKind == JsonValueKind.Object;
        if (!single && body.ValueKind != JsonValueKind.Array)
        {
            return counters.Reject(RequestErrors.BadRequest("$", $"'$' is {(body.ValueKind == JsonValueKind.Null ? "null" : "a " + body.ValueKind.ToString().ToLowerInvariant())}; it must be an event object or an array of events."));
        }

        if (!single && body.GetArrayLength() is var n and (0 or > MaxBatch))
        {
            return counters.Reject(RequestErrors.BadRequest("$", $"'$' has {n} events; a batch must have 1 to {MaxBatch}."));
        }

        EventDto[] dtos;
        try
        {
            dtos = single ? [body.Deserialize(ShopJson.Default.EventDto)!] : body.Deserialize(ShopJson.Default.EventDtoArray)!;
        }
        catch (JsonException e)
        {
            return counters.Reject(RequestErrors.FromJson(e, body));
        }

        var events = new InteractionEvent[dtos.Length];
        for (int i = 0; i < dtos.Length; i++)
        {
            string at = single ? "$" : $"$[{i}]";
            if (dtos[i] is not { } dto)
            {
                return counters.Reject(RequestErrors.BadRequest(at, $"'{at}' is null; it must be an event object."));
            }

            if (ToEvent(dto, at, out InteractionEvent? evt) is { } problem)
            {
                return counters.Reject(problem);
            }

            events[i] = evt!;
        }

        try
        {
            if (single)
            {
                tracker.Observe(events[0]);
            }
            else
            {
                tracker.Observe(events);
            }
        }
        catch (ArgumentException e)
        {
            return counters.Reject(RequestErrors.FromTracker(e, n => RequestErrors.ToJsonPath(n, single ? "evt" : "events")));
        }

        foreach (InteractionEvent evt in events)
        {
            catalog.Add(evt.ItemId, evt.Attributes?.Text);
        }

        return TypedResults.Ok(new EventsAccepted(events.Length, tracker.Statistics.EventsObserved));
    }

    /// <summary>The checks the tracker cannot make on a JSON body (required fields, the kind's name); null when it passes.</summary>
    private static IResult? ToEvent(EventDto dto, string at, out InteractionEvent? evt)
    {
        evt = null;
        if (dto.Timestamp is not { } time)
        {
            return RequestErrors.BadRequest($"{at}.timestamp", $"'{at}.timestamp' is missing; it must be an ISO 8601 time.");
        }

        if (dto.Kind is null || ParseName<EventKind>(dto.Kind) is not { } kind)
        {
            return RequestErrors.BadRequest($"{at}.kind",
                $"'{at}.kind' is {Quote(dto.Kind)}; it must be one of {string.Join(", ", Enum.GetNames<EventKind>().Select(Camel))}.");
        }

        ItemAttributes? attributes = dto.Category is null && dto.Description is null ? null : new ItemAttributes(dto.Category, Text: dto.Description);

        // A null id goes on to the tracker, whose check names the field ("is missing").
        evt = new InteractionEvent(dto.UserId!, dto.ItemId!, time, kind, dto.Quantity ?? 1f, dto.Value ?? 0f, dto.BasketId, attributes);
        return null;
    }

    private static IResult Recommendations(string id, string? k, IPreferenceTracker tracker, IOptions<TrackerOptions> options, ShopCatalog catalog, ShopCounters counters)
    {
        int count = 10;
        if (k is not null && !int.TryParse(k, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out count))
        {
            return counters.Reject(RequestErrors.BadRequest("k", $"'k' is '{k}'; it must be an integer in [1, {options.Value.MaxResults}]."));
        }

        RecommendationList list;
        try
        {
            list = tracker.Recommend(id, count);
        }
        catch (ArgumentException e)
        {
            return counters.Reject(RequestErrors.FromTracker(e, RouteName));
        }

        RecommendedItem[] items = [.. list.Select(r => new RecommendedItem(r.ItemId, r.Score, Camel(r.Reason.ToString()), catalog.DescriptionOf(r.ItemId)))];
        return TypedResults.Ok(new RecommendationsResponse(id, list.ModelVersion, list.IsColdStart, list.HistoryLength, items));
    }

    private static async Task<IResult> PostFeedback(HttpRequest request, IPreferenceTracker tracker, ShopCatalog catalog, ShopCounters counters)
    {
        FeedbackDto? dto;
        JsonElement body = default;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, ShopJson.Default.JsonElement, request.HttpContext.RequestAborted).ConfigureAwait(false);
            dto = body.Deserialize(ShopJson.Default.FeedbackDto);
        }
        catch (JsonException e)
        {
            return counters.Reject(RequestErrors.FromJson(e, body.ValueKind == JsonValueKind.Undefined ? null : body));
        }

        if (dto is null)
        {
            return counters.Reject(RequestErrors.BadRequest("$", "'$' is null; it must be a feedback object."));
        }

        if (dto.Outcome is null || ParseName<FeedbackOutcome>(dto.Outcome) is not { } outcome)
        {
            return counters.Reject(RequestErrors.BadRequest("$.outcome",
                $"'$.outcome' is {Quote(dto.Outcome)}; it must be one of {string.Join(", ", Enum.GetNames<FeedbackOutcome>().Select(Camel))}."));
        }

        try
        {
            tracker.Feedback(dto.UserId!, dto.ItemId!, outcome, dto.Timestamp);
        }
        catch (ArgumentException e)
        {
            return counters.Reject(RequestErrors.FromTracker(e, n => "$." + n));
        }

        if (outcome is FeedbackOutcome.Clicked or FeedbackOutcome.Bought)
        {
            catalog.Add(dto.ItemId!, null);
        }

        return TypedResults.Ok(new FeedbackAccepted(Camel(outcome.ToString()), tracker.Statistics.FeedbackReceived));
    }

    private static IResult Profile(string id, IPreferenceTracker tracker, ShopCounters counters)
    {
        InterestProfile p;
        try
        {
            p = tracker.GetProfile(id);
        }
        catch (ArgumentException e)
        {
            return counters.Reject(RequestErrors.FromTracker(e, RouteName));
        }

        static CategoryShare[] Shares(IReadOnlyList<CategoryWeight> w) => [.. w.Select(c => new CategoryShare(c.Category, c.Weight))];
        return TypedResults.Ok(new ProfileResponse(p.UserId, p.AsOf, p.Events, p.Drift, Shares(p.LongTerm), Shares(p.Recent), p.TopItems,
            p.Embedding.Count, p.ModelVersion));
    }

    private static IResult Explain(string id, string item, IPreferenceTracker tracker, ShopCatalog catalog, ShopCounters counters)
    {
        if (!catalog.Contains(item))
        {
            return counters.Reject(TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown item.",
                detail: $"Item '{item}' is not in the catalog; post an event with it first."));
        }

        Explanation x;
        try
        {
            x = tracker.Explain(id, item);
        }
        catch (ArgumentException e)
        {
            return counters.Reject(RequestErrors.FromTracker(e, RouteName));
        }

        EvidenceItem[] evidence = [.. x.Evidence.Select(e => new EvidenceItem(e.ItemId, catalog.DescriptionOf(e.ItemId), e.Events, e.LastSeen, e.Contribution))];
        return TypedResults.Ok(new ExplainResponse(x.UserId, x.ItemId, catalog.DescriptionOf(x.ItemId), x.Score, Camel(x.Reason.ToString()), x.Category,
            evidence, x.Unattributed, x.ModelVersion));
    }

    /// <summary>Waits until the learner has learned and published everything observed so far, then answers the counters.</summary>
    private static async Task<IResult> Flush(IPreferenceTracker tracker, ShopCounters counters, WarmUp warmUp, HttpContext context)
    {
        await tracker.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(Metrics(tracker, counters, warmUp));
    }

    private static MetricsResponse Metrics(IPreferenceTracker tracker, ShopCounters counters, WarmUp warmUp)
    {
        TrackerStatistics s = tracker.Statistics;
        return new MetricsResponse(s.EventsObserved, s.EventsLearned, s.QueueDepth, s.EventsDroppedFromLearning, s.ModelVersion, s.Users, s.Items,
            s.FeedbackReceived, s.SkippedSteps, s.DriftTests, s.DriftsDetected, counters.Rejected, warmUp.Report);
    }

    /// <summary>An enum member by its name in any letter case (numbers and combinations are not names).</summary>
    private static T? ParseName<T>(string text)
        where T : struct, Enum
    {
        foreach (T value in Enum.GetValues<T>())
        {
            if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The tracker's parameter names as the routes and the query call them.</summary>
    private static string RouteName(string name) => name switch { "userId" => "id", "itemId" => "item", _ => name };

    private static string Quote(string? text) => text is null ? "missing" : $"'{text}'";

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

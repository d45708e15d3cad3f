using System.Text.Json;
using System.Text.RegularExpressions;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// Turns every way a request can be wrong into one RFC 7807 answer (400, <c>application/problem+json</c>) whose
/// <c>errors</c> map names the bad field as a JSON path (<c>$[2].quantity</c>, <c>k</c>) and whose detail quotes the value.
/// The tracker's own argument checks are the authority: their messages name the bad field and value in C# terms
/// (<c>events[2].Quantity</c>), which this class translates to the JSON the client sent.
/// </summary>
internal static partial class RequestErrors
{
    private const string EventFields = "userId, itemId, timestamp, kind, quantity, value, basketId, category, description";

    /// <summary>A 400 problem naming <paramref name="field"/>.</summary>
    internal static IResult BadRequest(string field, string detail) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [detail] }, detail: detail,
            title: "The request is invalid.");

    /// <summary>A 400 problem from a body that is not JSON or does not fit the contract (a wrong type, an unknown field).</summary>
    internal static IResult FromJson(JsonException e, JsonElement? body)
    {
        string field = e.Path ?? "$";
        string? raw = body is { } root ? Find(root, field) : null;
        string last = field[(field.LastIndexOf('.') + 1)..];
        string reason = e.Message.Contains("could not be mapped", StringComparison.Ordinal)
            ? $"'{field}' is not a field; an event has {EventFields} and feedback has userId, itemId, outcome, timestamp."
            : e.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? $"'{field}' is {raw ?? "of the wrong type"}; it must be {last switch { "timestamp" => "an ISO 8601 time", "quantity" or "value" => "a number", _ => "a string" }}."
                : $"'{field}': {e.Message.Split(" Path:", 2)[0]}";
        return BadRequest(field, reason);
    }

    /// <summary>
    /// A 400 problem from the tracker's <see cref="ArgumentException"/>: the field is the quoted name the message starts
    /// with (else the parameter name), translated by <paramref name="field"/> from the tracker's C# names to what the
    /// client sent (a JSON path, a query or route parameter).
    /// </summary>
    internal static IResult FromTracker(ArgumentException e, Func<string, string> field)
    {
        Match quoted = QuotedName().Match(e.Message);
        return FromTracker(e, field(quoted.Success ? quoted.Groups[1].Value : e.ParamName ?? "$"), quoted);
    }

    private static IResult FromTracker(ArgumentException e, string field, Match quoted)
    {
        // Without the "(Parameter 'x')" suffix and ArgumentOutOfRangeException's "Actual value was" line.
        string message = (e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", string.Empty, StringComparison.Ordinal) : e.Message)
            .Split('\n', 2)[0].TrimEnd();
        if (e is ArgumentNullException)
        {
            message = $"'{field}' is missing.";
        }
        else if (quoted.Success)
        {
            message = string.Concat($"'{field}'", message.AsSpan(quoted.Length));
        }

        return BadRequest(field, message);
    }

    /// <summary><c>events[2].Attributes.Text</c> → <c>$[2].description</c>; <c>evt.UserId</c> → <c>$.userId</c>; <c>userId</c> → <c>$.userId</c>.</summary>
    internal static string ToJsonPath(string name, string root)
    {
        string rest = name.StartsWith(root, StringComparison.Ordinal) ? name[root.Length..] : "." + name;
        rest = rest.Replace(".Attributes.Text", ".description", StringComparison.Ordinal)
            .Replace(".Attributes.Category", ".category", StringComparison.Ordinal);
        string path = MemberName().Replace(rest, m => "." + char.ToLowerInvariant(m.Groups[1].Value[0]) + m.Groups[1].Value[1..]);
        return "$" + path;
    }

    /// <summary>The raw JSON at a simple path (<c>$</c>, <c>[n]</c>, <c>.name</c>, <c>['name']</c>), or null when it is not there.</summary>
    internal static string? Find(JsonElement root, string path)
    {
        JsonElement at = root;
        foreach (Match step in PathStep().Matches(path))
        {
            if (step.Groups["index"].Success)
            {
                int i = int.Parse(step.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (at.ValueKind != JsonValueKind.Array || i >= at.GetArrayLength())
                {
                    return null;
                }

                at = at[i];
            }
            else
            {
                string key = step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value;
                if (at.ValueKind != JsonValueKind.Object || !TryGetIgnoreCase(at, key, out at))
                {
                    return null;
                }
            }
        }

        string raw = at.GetRawText();
        return raw.Length > 80 ? raw[..80] + "…" : raw;
    }

    private static bool TryGetIgnoreCase(JsonElement obj, string key, out JsonElement value)
    {
        foreach (JsonProperty p in obj.EnumerateObject())
        {
            if (string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))
            {
                value = p.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    [GeneratedRegex(@"^'([^']+)'")]
    private static partial Regex QuotedName();

    [GeneratedRegex(@"\.([A-Za-z]\w*)")]
    private static partial Regex MemberName();

    [GeneratedRegex(@"\[(?<index>\d+)\]|\.(?<name>[^.\[]+)|\['(?<quoted>[^']*)'\]")]
    private static partial Regex PathStep();
}

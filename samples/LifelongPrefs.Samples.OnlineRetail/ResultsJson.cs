using System.Text.Json;
using LifelongPrefs.Evaluation.Protocols;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>The <c>--json</c> line: dataset, sizes and every metric of every protocol and model.</summary>
internal static class ResultsJson
{
    /// <summary>
    /// Writes one JSON object on one line. A metric that has no value (NaN or infinite, e.g. when no user could be
    /// evaluated) is written as <c>null</c>, never as a number it is not.
    /// </summary>
    /// <param name="dataset">The data file's name.</param>
    /// <param name="users">The log's users.</param>
    /// <param name="items">The log's items.</param>
    /// <param name="results">Every protocol's rows (the interest forecast's means among them).</param>
    /// <param name="forecast">The interest forecast, whose months go to <c>"interest-forecast-months"</c>; null when it did not run.</param>
    internal static string Write(string dataset, int users, int items, IEnumerable<ProtocolResult> results, InterestForecastResult? forecast = null)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("dataset", dataset);
            json.WriteNumber("users", users);
            json.WriteNumber("items", items);
            json.WriteStartObject("protocols");
            foreach (var group in results.GroupBy(r => r.Protocol))
            {
                json.WriteStartObject(group.Key);
                foreach (ProtocolResult result in group)
                {
                    json.WriteStartObject(result.Model);
                    foreach (var (metric, value) in result.Metrics)
                    {
                        WriteNumberOrNull(json, metric, value);
                    }

                    WriteNumberOrNull(json, "train_seconds", result.TrainSeconds);
                    json.WriteNumber("users", result.Users);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            if (forecast is not null)
            {
                WriteForecastMonths(json, forecast);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Each month of the interest forecast: its users and categories, and all three forecasts' scores.</summary>
    private static void WriteForecastMonths(Utf8JsonWriter json, InterestForecastResult forecast)
    {
        json.WriteStartArray("interest-forecast-months");
        foreach (InterestForecastMonthResult month in forecast.Months)
        {
            json.WriteStartObject();
            json.WriteString("month", month.Month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("users", month.Users);
            json.WriteNumber("categories", month.Categories);
            foreach (var (name, scores) in new[] { ("Tracker", month.Tracker), ("LongTerm", month.LongTerm), ("Last30Days", month.Last30Days) })
            {
                json.WriteStartObject(name);
                WriteNumberOrNull(json, "log_loss", scores.LogLoss);
                WriteNumberOrNull(json, "NDCG@5", scores.Ndcg);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

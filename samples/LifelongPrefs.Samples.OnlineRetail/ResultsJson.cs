using System.Text.Json;
using LifelongPrefs.Evaluation.Protocols;

namespace LifelongPrefs.Samples.OnlineRetail;

/// <summary>The <c>--json</c> line: dataset, sizes and every metric of every protocol and model.</summary>
internal static class ResultsJson
{
    /// <summary>
    /// Writes one JSON object on one line. A metric that has no value (NaN or infinite, e.g. when no user could be
    /// evaluated) is written as <c>null</c>, never as a number it is not.
    /// </summary>
    internal static string Write(string dataset, int users, int items, IEnumerable<ProtocolResult> results)
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
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
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

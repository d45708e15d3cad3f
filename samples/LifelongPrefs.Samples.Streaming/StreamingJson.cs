using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LifelongPrefs.Evaluation.Protocols;

namespace LifelongPrefs.Samples.Streaming;

/// <summary>The <c>--json</c> line: every strategy's continual metrics, the stream's latency and rate, drift alarms, chart paths.</summary>
internal static class StreamingJson
{
    /// <summary>
    /// Writes one JSON object on one line. A number that has no value (NaN or infinite, e.g. when no probe user could be
    /// evaluated) is written as <c>null</c>, never as a number it is not.
    /// </summary>
    internal static string Write(string dataset, IReadOnlyList<(Strategy Strategy, ContinualResult Result)> rows, StreamResult stream, double trackerEventsPerSecond, IReadOnlyList<string> charts)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps "+" and "≤" readable; the line is printed, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("dataset", dataset);
            json.WriteNumber("events", stream.Events);
            json.WriteStartObject("strategies");
            foreach ((Strategy strategy, ContinualResult r) in rows)
            {
                json.WriteStartObject(strategy.Name);
                Number(json, "ndcg20_forward", r.ForwardNdcg);
                Number(json, "recall20_forward", r.ForwardRecall);
                Number(json, "bwt", r.Bwt);
                Number(json, "bwt_no_rebuy", r.BwtNoRebuy);
                Number(json, "forgetting", r.Forgetting);
                Number(json, "newest_ndcg20", r.NewestNdcg);
                Number(json, "compute_seconds", r.TrainSeconds);
                json.WriteString("settings", strategy.Settings);
                json.WriteStartArray("months");
                foreach (ContinualMonth m in r.Months)
                {
                    json.WriteStartObject();
                    json.WriteString("month", m.Month.ToString("yyyy-MM", CultureInfo.InvariantCulture));
                    Number(json, "ndcg20_forward", m.ForwardNdcg);
                    Number(json, "recall20_forward", m.ForwardRecall);
                    json.WriteNumber("users", m.ForwardUsers);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteStartObject("update_latency_us");
            Number(json, "p50", stream.UpdatePercentile(0.50));
            Number(json, "p99", stream.UpdatePercentile(0.99));
            json.WriteNumber("updates", stream.UpdateMicroseconds.Count);
            json.WriteEndObject();
            Number(json, "events_per_second", stream.EventsPerSecond);
            Number(json, "tracker_events_per_second", trackerEventsPerSecond);
            Number(json, "prequential_hit_rate20", stream.HitRate);
            json.WriteNumber("prequential_baskets", stream.Baskets);
            json.WriteStartArray("drift");
            foreach (DriftAlarm alarm in stream.Alarms)
            {
                json.WriteStartObject();
                json.WriteString("date", StreamPass.Day(alarm.Time));
                json.WriteString("detector", alarm.Detector);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("profile_customer", stream.Customer);
            json.WriteStartArray("charts");
            foreach (string chart in charts)
            {
                json.WriteStringValue(chart);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
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

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using LifelongPrefs.Data;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>The bounded load test's sizes: a fixed number of events and requests, and a time limit.</summary>
/// <param name="Events">Events replayed through <c>POST /events</c>.</param>
/// <param name="BatchSize">Events per POST.</param>
/// <param name="Requests">Recommendation requests in all, spread evenly over the clients.</param>
/// <param name="Clients">Concurrent recommendation clients.</param>
/// <param name="TimeLimit">When the load stops, done or not (the flushes before and after it have their own limit, 2 minutes).</param>
/// <param name="Seed">Seeds which known user each client asks for.</param>
internal sealed record LoadSettings(int Events = 10_000, int BatchSize = 250, int Requests = 1_000, int Clients = 8, TimeSpan TimeLimit = default, int Seed = 42)
{
    /// <summary>Gets the time limit (20 s unless set).</summary>
    public TimeSpan TimeLimit { get; init; } = TimeLimit == default ? TimeSpan.FromSeconds(20) : TimeLimit;
}

/// <summary>One endpoint's requests: counts and latencies (nearest-rank percentiles of the sorted per-request times).</summary>
internal sealed record EndpointReport(string Endpoint, int Requests, int Errors, double P50Ms, double P99Ms, double MaxMs, double RequestsPerSecond);

/// <summary>What the load test saw.</summary>
/// <param name="Seconds">Wall time of the load (the flush after it excluded).</param>
/// <param name="TimedOut">Whether the time limit stopped it before every request was made.</param>
/// <param name="RequestsPerSecond">All requests over <paramref name="Seconds"/>.</param>
/// <param name="Endpoints">Per endpoint.</param>
/// <param name="Errors">Failed requests (a status other than 2xx, or no answer).</param>
/// <param name="EventsSent">Events in the POSTs the shop accepted.</param>
/// <param name="EventsObserved">The growth of the tracker's <c>eventsObserved</c> over the run, read from /metrics after a flush.</param>
/// <param name="EventsLearned">The growth of <c>eventsLearned</c> over the run, after the flush.</param>
/// <param name="FlushSeconds">How long the learner took to catch up after the load.</param>
internal sealed record LoadReport(double Seconds, bool TimedOut, double RequestsPerSecond, IReadOnlyList<EndpointReport> Endpoints, int Errors,
    long EventsSent, long EventsObserved, long EventsLearned, double FlushSeconds)
{
    /// <summary>Gets whether the run passed: every request made and answered, and no event lost.</summary>
    public bool Passed => !TimedOut && Errors == 0 && EventsObserved == EventsSent && EventsLearned == EventsSent;
}

/// <summary>
/// The bounded load test: replays events through <c>POST /events</c> in batches (one writer, in time order, as a
/// shop's event pipe would) while the clients call <c>GET /users/{id}/recommendations</c> for users seen so far. Only
/// a loopback address is ever a target; every loop is bounded by a count and by the time limit.
/// </summary>
internal static class LoadTest
{
    private const string EventsEndpoint = "POST /events";

    // The learner catches up at its own pace (a loaded machine, a long warm-up queue); bounded all the same.
    private static readonly TimeSpan FlushLimit = TimeSpan.FromMinutes(2);
    private const string RecommendEndpoint = "GET /users/{id}/recommendations";

    /// <summary>Runs the load against <paramref name="baseAddress"/>, which must be a loopback address.</summary>
    /// <param name="baseAddress">The shop.</param>
    /// <param name="events">The events to replay (the count is the settings' cap already applied).</param>
    /// <param name="knownUsers">Users the shop knows before the load (the warm-up's), asked for from the start.</param>
    /// <param name="settings">Sizes and limits.</param>
    /// <exception cref="ArgumentException">The address is not loopback.</exception>
    internal static async Task<LoadReport> RunAsync(Uri baseAddress, IReadOnlyList<InteractionEvent> events, IEnumerable<string> knownUsers, LoadSettings settings)
    {
        if (!baseAddress.IsLoopback)
        {
            throw new ArgumentException($"The load test only targets loopback addresses; '{baseAddress}' is not one.", nameof(baseAddress));
        }

        // Serialised up front, so the clock measures the shop rather than this process's JSON writer.
        var batches = new List<(byte[] Body, InteractionEvent[] Events)>();
        for (int start = 0; start < events.Count; start += settings.BatchSize)
        {
            InteractionEvent[] batch = [.. events.Skip(start).Take(settings.BatchSize)];
            EventDto[] dtos = [.. batch.Select(e => new EventDto(e.UserId, e.ItemId, e.Timestamp, e.Kind.ToString(), e.Quantity, e.Value, e.BasketId,
                e.Attributes?.Category, e.Attributes?.Text))];
            batches.Add((JsonSerializer.SerializeToUtf8Bytes(dtos, ShopJson.Default.EventDtoArray), batch));
        }

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Clients + 2 };
        using var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = settings.TimeLimit + TimeSpan.FromSeconds(30) };
        // Flushed before and after, so the counters' growth is exactly this run's events, learned or not.
        MetricsResponse before = await FlushAsync(http, FlushLimit).ConfigureAwait(false);

        var users = new UserPool(knownUsers);
        using var limit = new CancellationTokenSource(settings.TimeLimit);
        var clock = Stopwatch.StartNew();
        Task<Timings> feeder = Task.Run(() => FeedAsync(http, batches, users, limit.Token));
        Task<Timings>[] clients = [.. Enumerable.Range(0, settings.Clients).Select(c =>
            Task.Run(() => AskAsync(http, users, (settings.Requests / settings.Clients) + (c < settings.Requests % settings.Clients ? 1 : 0), settings.Seed + c, limit.Token)))];
        Timings fed = await feeder.ConfigureAwait(false);
        Timings[] asked = await Task.WhenAll(clients).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;

        // The flush waits until every observed event is learned; /metrics after it has the final counts.
        var flushClock = Stopwatch.StartNew();
        MetricsResponse after = await FlushAsync(http, FlushLimit).ConfigureAwait(false);
        double flushSeconds = flushClock.Elapsed.TotalSeconds;

        Timings recommend = Timings.Merge(asked);
        bool timedOut = limit.IsCancellationRequested && (fed.Made < batches.Count || recommend.Made < settings.Requests);
        EndpointReport[] endpoints = [fed.Report(EventsEndpoint, seconds), recommend.Report(RecommendEndpoint, seconds)];
        int errors = fed.Errors + recommend.Errors;
        return new LoadReport(seconds, timedOut, (fed.Made + recommend.Made) / seconds, endpoints, errors, fed.EventsAccepted,
            after.EventsObserved - before.EventsObserved, after.EventsLearned - before.EventsLearned, flushSeconds);
    }

    /// <summary>Prints the report as a small table.</summary>
    internal static void Print(LoadReport r, TextWriter output)
    {
        output.WriteLine(FormattableString.Invariant($"load: {r.Seconds:F2} s, {r.RequestsPerSecond:F0} requests/s, {r.Errors} errors{(r.TimedOut ? ", STOPPED BY THE TIME LIMIT" : "")}"));
        output.WriteLine($"{"endpoint",-34} {"requests",9} {"errors",7} {"req/s",8} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
        foreach (EndpointReport e in r.Endpoints)
        {
            output.WriteLine(FormattableString.Invariant($"{e.Endpoint,-34} {e.Requests,9} {e.Errors,7} {e.RequestsPerSecond,8:F0} {e.P50Ms,8:F2} {e.P99Ms,8:F2} {e.MaxMs,8:F2}"));
        }

        output.WriteLine(FormattableString.Invariant($"events sent {r.EventsSent}, observed {r.EventsObserved}, learned {r.EventsLearned} (flush {r.FlushSeconds:F2} s): {(r.EventsObserved == r.EventsSent && r.EventsLearned == r.EventsSent ? "none lost" : "EVENTS LOST")}"));
    }

    /// <summary>POST /flush: waits (at most <paramref name="limit"/>) until the learner has caught up; answers the counters.</summary>
    /// <exception cref="HttpRequestException">The shop did not answer 200.</exception>
    private static async Task<MetricsResponse> FlushAsync(HttpClient http, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        using HttpResponseMessage response = await http.PostAsync(new Uri("/flush", UriKind.Relative), null, timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ShopJson.Default.MetricsResponse, timeout.Token).ConfigureAwait(false))!;
    }

    private static async Task<Timings> FeedAsync(HttpClient http, List<(byte[] Body, InteractionEvent[] Events)> batches, UserPool users, CancellationToken stop)
    {
        var timings = new Timings(batches.Count);
        foreach ((byte[] body, InteractionEvent[] batch) in batches)
        {
            if (stop.IsCancellationRequested)
            {
                break;
            }

            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            bool ok = await timings.TimeAsync(() => http.PostAsync(new Uri("/events", UriKind.Relative), content, stop)).ConfigureAwait(false);
            if (ok)
            {
                timings.EventsAccepted += batch.Length;
                users.AddRange(batch.Select(e => e.UserId));
            }
        }

        return timings;
    }

    private static async Task<Timings> AskAsync(HttpClient http, UserPool users, int count, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var timings = new Timings(count);
        for (int i = 0; i < count && !stop.IsCancellationRequested; i++)
        {
            string user = users.Pick(random);
            await timings.TimeAsync(() => http.GetAsync(new Uri($"/users/{Uri.EscapeDataString(user)}/recommendations?k=10", UriKind.Relative), stop)).ConfigureAwait(false);
        }

        return timings;
    }

    /// <summary>The users seen so far, which the clients draw from. Any thread.</summary>
    private sealed class UserPool
    {
        private readonly List<string> _users = [];
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        internal UserPool(IEnumerable<string> initial) => AddRange(initial);

        internal void AddRange(IEnumerable<string> users)
        {
            lock (_users)
            {
                foreach (string u in users)
                {
                    if (_seen.Add(u))
                    {
                        _users.Add(u);
                    }
                }
            }
        }

        internal string Pick(Random random)
        {
            lock (_users)
            {
                // Before any user is known the shop answers a new visitor (cold start), which is a request all the same.
                return _users.Count == 0 ? "visitor" : _users[random.Next(_users.Count)];
            }
        }
    }

    /// <summary>One task's per-request wall times and outcomes.</summary>
    private sealed class Timings(int capacity)
    {
        private readonly List<double> _ms = new(capacity);

        internal int Made => _ms.Count;

        internal int Errors { get; private set; }

        internal long EventsAccepted { get; set; }

        /// <summary>Times one request; a cancelled one (the time limit) is not counted, any other failure is an error.</summary>
        internal async Task<bool> TimeAsync(Func<Task<HttpResponseMessage>> send)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                using HttpResponseMessage response = await send().ConfigureAwait(false);
                _ = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                _ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Errors += response.IsSuccessStatusCode ? 0 : 1;
                return response.IsSuccessStatusCode;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            catch (HttpRequestException)
            {
                _ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Errors++;
                return false;
            }
        }

        internal static Timings Merge(Timings[] parts)
        {
            var all = new Timings(parts.Sum(p => p.Made));
            foreach (Timings p in parts)
            {
                all._ms.AddRange(p._ms);
                all.Errors += p.Errors;
            }

            return all;
        }

        internal EndpointReport Report(string endpoint, double seconds)
        {
            double[] sorted = [.. _ms];
            Array.Sort(sorted);
            return new EndpointReport(endpoint, sorted.Length, Errors, Percentile(sorted, 0.50), Percentile(sorted, 0.99),
                sorted.Length == 0 ? double.NaN : sorted[^1], sorted.Length / seconds);
        }
    }

    /// <summary>The nearest-rank percentile of a sorted array: the smallest value with at least <paramref name="q"/> of the values at or below it.</summary>
    internal static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}

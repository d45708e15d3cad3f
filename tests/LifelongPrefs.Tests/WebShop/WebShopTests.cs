using System.Net;
using System.Text.Json;
using LifelongPrefs.Data;
using LifelongPrefs.Samples.WebShop;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.WebShop;

/// <summary>
/// The web-shop sample started in-process on Kestrel (127.0.0.1, a free port) and driven with a real HttpClient:
/// every endpoint's happy path against what was posted, RFC 7807 problems naming the bad field for bad input with
/// nothing recorded, parallel reads against single-threaded answers, the warm-up, and the bounded load test.
/// </summary>
public sealed class WebShopTests
{
    private static readonly Lazy<ShopData> Bundled = new(() => ShopData.Load(Path.Combine(Repository.Root, OnlineRetail.SamplePath)));

    /// <summary>Starts an empty shop, posts the hand-made purchases and waits for the learner.</summary>
    private static async Task<(ShopHost Host, List<(string User, string Item, DateTimeOffset Time)> Purchases)> StartWithPurchasesAsync()
    {
        ShopHost host = await ShopHost.StartAsync();
        var purchases = ShopEvents.Purchases();
        JsonElement accepted = await host.PostOkAsync("/events", ShopEvents.Json(purchases));
        Assert.Equal(purchases.Count, accepted.GetProperty("accepted").GetInt32());
        await host.PostOkAsync("/flush", "");
        return (host, purchases);
    }

    private static HashSet<string> Bought(List<(string User, string Item, DateTimeOffset Time)> purchases, string user) =>
        [.. purchases.Where(p => p.User == user).Select(p => p.Item)];

    private static List<string> Items(JsonElement recommendations) =>
        [.. recommendations.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];

    [Fact]
    public async Task Recommendations_exclude_bought_items_and_come_from_the_catalog()
    {
        var (host, purchases) = await StartWithPurchasesAsync();
        await using (host)
        {
            long version = await host.MetricAsync("modelVersion");
            Assert.True(version > 0);
            var catalog = Enumerable.Range(0, ShopEvents.Items).Select(ShopEvents.Item).ToHashSet();
            for (int u = 0; u < 6; u++)
            {
                string user = ShopEvents.User(u);
                JsonElement r = await host.GetOkAsync($"/users/{user}/recommendations?k=10");
                Assert.Equal(user, r.GetProperty("userId").GetString());
                Assert.Equal(version, r.GetProperty("modelVersion").GetInt64());
                Assert.False(r.GetProperty("coldStart").GetBoolean());
                Assert.Equal(ShopEvents.PurchasesEach, r.GetProperty("historyLength").GetInt32());
                List<string> items = Items(r);
                Assert.Equal(10, items.Count);
                Assert.Equal(items.Count, items.Distinct().Count());
                Assert.All(items, i => Assert.Contains(i, catalog));
                Assert.Empty(items.Intersect(Bought(purchases, user)));
                float[] scores = [.. r.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("score").GetSingle())];
                Assert.True(scores.Zip(scores.Skip(1)).All(p => p.First >= p.Second), "scores are not descending");
                Assert.All(r.GetProperty("items").EnumerateArray(), i =>
                {
                    Assert.Equal("personalized", i.GetProperty("reason").GetString());
                    Assert.Equal(ShopEvents.Description(int.Parse(i.GetProperty("itemId").GetString()![1..], System.Globalization.CultureInfo.InvariantCulture)),
                        i.GetProperty("description").GetString());
                });
            }

            // A user the shop has never seen gets the cold-start answer, from the catalog too.
            JsonElement visitor = await host.GetOkAsync("/users/nobody/recommendations?k=5");
            Assert.True(visitor.GetProperty("coldStart").GetBoolean());
            Assert.Equal(5, Items(visitor).Count);
            Assert.All(Items(visitor), i => Assert.Contains(i, catalog));
        }
    }

    [Fact]
    public async Task A_single_event_is_recorded_and_the_next_answer_excludes_it()
    {
        var (host, _) = await StartWithPurchasesAsync();
        await using (host)
        {
            long before = await host.MetricAsync("eventsObserved");
            string top = Items(await host.GetOkAsync("/users/c00/recommendations?k=1"))[0];
            JsonElement accepted = await host.PostOkAsync("/events", ShopEvents.Event("c00", top, ShopEvents.Start.AddDays(30)));
            Assert.Equal(1, accepted.GetProperty("accepted").GetInt32());
            Assert.Equal(before + 1, accepted.GetProperty("eventsObserved").GetInt64());
            Assert.Equal(before + 1, await host.MetricAsync("eventsObserved"));

            // The user's history is live: the purchase counts before the learner has seen it.
            JsonElement r = await host.GetOkAsync("/users/c00/recommendations?k=10");
            Assert.Equal(ShopEvents.PurchasesEach + 1, r.GetProperty("historyLength").GetInt32());
            Assert.DoesNotContain(top, Items(r));
        }
    }

    public static TheoryData<string, string, string> BadEvents => new()
    {
        { """{"itemId":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"purchase"}""", "$.userId", "missing" },
        { """{"userId":"","itemId":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"purchase"}""", "$.userId", "empty" },
        { """{"userId":"u","itemId":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"purchase","quantity":-2}""", "$.quantity", "-2" },
        { """{"userId":"u","itemId":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"teleport"}""", "$.kind", "'teleport'" },
        { """{"userId":"u","itemId":"i1","timestamp":"yesterday","kind":"purchase"}""", "$.timestamp", "\"yesterday\"" },
        { """{"userId":"u","itemId":"i1","kind":"purchase"}""", "$.timestamp", "missing" },
        { """{"userId":"u","item":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"purchase"}""", "$.item", "not a field" },
        { "{\"userId\":\"u\",\"itemId\":\"i1\",\"timestamp\":\"2011-01-01T00:00:00Z\",\"kind\":\"purchase\",\"description\":\"" + new string('x', 5000) + "\"}", "$.description", "5000 characters" },
        { """[{"userId":"u","itemId":"i1","timestamp":"2011-01-01T00:00:00Z","kind":"view"},{"userId":"v","itemId":"i2","timestamp":"2011-01-01T00:00:00Z","kind":"view"},{"userId":"w","itemId":"i3","timestamp":"2011-01-01T00:00:00Z","kind":"purchase","value":-1}]""", "$[2].value", "-1" },
        { """[{"userId":"u","itemId":"i1","timestamp":"2011-01-05T00:00:00Z","kind":"view"},{"userId":"u","itemId":"i2","timestamp":"2011-01-01T00:00:00Z","kind":"view"}]""", "$[1]", "older" },
        { "42", "$", "number" },
        { "[]", "$", "0 events" },
        { """{"userId":""", "$", "" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task Bad_events_are_a_400_problem_naming_the_field_and_record_nothing(string body, string field, string quoted)
    {
        await using ShopHost host = await ShopHost.StartAsync();
        var (status, problem, mediaType) = await host.PostAsync("/events", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", mediaType);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out JsonElement messages), $"no error for '{field}': {problem}");
        Assert.Contains(quoted, messages[0].GetString(), StringComparison.Ordinal);
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        JsonElement metrics = await host.GetOkAsync("/metrics");
        Assert.Equal(0, metrics.GetProperty("eventsObserved").GetInt64());
        Assert.Equal(0, metrics.GetProperty("users").GetInt32());
        Assert.Equal(0, metrics.GetProperty("items").GetInt32());
        Assert.Equal(1, metrics.GetProperty("rejectedRequests").GetInt64());
    }

    [Theory]
    [InlineData("/users/c00/recommendations?k=0", "k", "0")]
    [InlineData("/users/c00/recommendations?k=5000", "k", "5000")]
    [InlineData("/users/c00/recommendations?k=ten", "k", "'ten'")]
    [InlineData("/users/c00/explain/nothing", null, "'nothing'")]
    public async Task Bad_reads_are_problems_naming_the_parameter(string path, string? field, string quoted)
    {
        var (host, _) = await StartWithPurchasesAsync();
        await using (host)
        {
            var (status, problem, mediaType) = await host.GetAsync(path);
            Assert.Equal("application/problem+json", mediaType);
            Assert.Contains(quoted, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            if (field is null)
            {
                Assert.Equal(HttpStatusCode.NotFound, status);
            }
            else
            {
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
            }
        }
    }

    [Fact]
    public async Task A_rejected_batch_records_none_of_its_events()
    {
        var (host, _) = await StartWithPurchasesAsync();
        await using (host)
        {
            string before = (await host.GetOkAsync("/metrics")).ToString();
            DateTimeOffset t = ShopEvents.Start.AddDays(40);
            string batch = "[" + ShopEvents.Event("ghost", "i01", t) + "," + ShopEvents.Event("c00", "new-item", t) + ","
                + ShopEvents.Event("c01", "i02", t).Replace("\"quantity\":2", "\"quantity\":0", StringComparison.Ordinal) + "]";
            var (status, problem, _) = await host.PostAsync("/events", batch);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.True(problem.GetProperty("errors").TryGetProperty("$[2].quantity", out _), problem.ToString());

            // Every tracker counter is as before; only the shop's rejection counter moved.
            JsonElement after = await host.GetOkAsync("/metrics");
            using JsonDocument old = JsonDocument.Parse(before);
            foreach (JsonProperty p in old.RootElement.EnumerateObject().Where(p => p.Name is not ("rejectedRequests" or "warmUp")))
            {
                Assert.Equal(p.Value.ToString(), after.GetProperty(p.Name).ToString());
            }

            Assert.Equal(old.RootElement.GetProperty("rejectedRequests").GetInt64() + 1, after.GetProperty("rejectedRequests").GetInt64());
            JsonElement ghost = await host.GetOkAsync("/users/ghost/recommendations");
            Assert.Equal(0, ghost.GetProperty("historyLength").GetInt32());
            Assert.Equal(ShopEvents.PurchasesEach, (await host.GetOkAsync("/users/c00/recommendations")).GetProperty("historyLength").GetInt32());
            Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/users/c00/explain/new-item")).Status);
        }
    }

    [Fact]
    public async Task Feedback_is_counted_a_dismissal_hides_the_item_and_a_purchase_is_observed()
    {
        var (host, _) = await StartWithPurchasesAsync();
        await using (host)
        {
            List<string> first = Items(await host.GetOkAsync("/users/c03/recommendations?k=5"));
            long observed = await host.MetricAsync("eventsObserved");

            JsonElement shown = await host.PostOkAsync("/feedback", $$"""{"userId":"c03","itemId":"{{first[1]}}","outcome":"shown"}""");
            Assert.Equal("shown", shown.GetProperty("outcome").GetString());
            Assert.Equal(1, shown.GetProperty("feedbackReceived").GetInt64());
            Assert.Equal(observed, await host.MetricAsync("eventsObserved"));

            await host.PostOkAsync("/feedback", $$"""{"userId":"c03","itemId":"{{first[0]}}","outcome":"Dismissed"}""");
            Assert.DoesNotContain(first[0], Items(await host.GetOkAsync("/users/c03/recommendations?k=10")));

            await host.PostOkAsync("/feedback", $$"""{"userId":"c03","itemId":"{{first[1]}}","outcome":"bought"}""");
            Assert.Equal(observed + 1, await host.MetricAsync("eventsObserved"));
            Assert.Equal(3, await host.MetricAsync("feedbackReceived"));
            Assert.DoesNotContain(first[1], Items(await host.GetOkAsync("/users/c03/recommendations?k=10")));

            var (status, problem, _) = await host.PostAsync("/feedback", """{"userId":"c03","itemId":"i01","outcome":"liked"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("'liked'", problem.GetProperty("errors").GetProperty("$.outcome")[0].GetString(), StringComparison.Ordinal);
            (status, problem, _) = await host.PostAsync("/feedback", """{"userId":"c03","itemId":"no-such-item","outcome":"dismissed"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("no-such-item", problem.GetProperty("errors").GetProperty("$.itemId")[0].GetString(), StringComparison.Ordinal);
            Assert.Equal(3, await host.MetricAsync("feedbackReceived"));
        }
    }

    [Fact]
    public async Task Profile_and_explain_describe_the_posted_purchases()
    {
        var (host, purchases) = await StartWithPurchasesAsync();
        await using (host)
        {
            HashSet<string> bought = Bought(purchases, "c05");
            JsonElement profile = await host.GetOkAsync("/users/c05/profile");
            Assert.Equal("c05", profile.GetProperty("userId").GetString());
            Assert.Equal(ShopEvents.PurchasesEach, profile.GetProperty("events").GetInt32());
            Assert.NotEmpty(profile.GetProperty("topItems").EnumerateArray());
            Assert.All(profile.GetProperty("topItems").EnumerateArray(), i => Assert.Contains(i.GetString()!, bought));
            double share = profile.GetProperty("longTerm").EnumerateArray().Sum(c => c.GetProperty("weight").GetDouble());
            Assert.InRange(share, 0.999, 1.001);
            Assert.Equal(ShopEvents.Start.AddDays(ShopEvents.PurchasesEach - 1).AddMinutes(29), profile.GetProperty("asOf").GetDateTimeOffset());

            string item = Items(await host.GetOkAsync("/users/c05/recommendations?k=1"))[0];
            JsonElement x = await host.GetOkAsync($"/users/c05/explain/{item}");
            Assert.Equal(item, x.GetProperty("itemId").GetString());
            Assert.Equal("personalized", x.GetProperty("reason").GetString());
            Assert.Equal(await host.MetricAsync("modelVersion"), x.GetProperty("modelVersion").GetInt64());
            JsonElement[] evidence = [.. x.GetProperty("evidence").EnumerateArray()];
            Assert.NotEmpty(evidence);
            Assert.All(evidence, e =>
            {
                Assert.Contains(e.GetProperty("itemId").GetString()!, bought);
                DateTimeOffset seen = e.GetProperty("lastSeen").GetDateTimeOffset();
                Assert.Contains(purchases, p => p.User == "c05" && p.Item == e.GetProperty("itemId").GetString() && p.Time == seen);
            });
        }
    }

    [Fact]
    public async Task Parallel_recommendations_equal_single_threaded_answers()
    {
        var (host, _) = await StartWithPurchasesAsync();
        await using (host)
        {
            string[] users = [.. Enumerable.Range(0, 10).Select(ShopEvents.User), "nobody"];
            var expected = new Dictionary<string, string>();
            foreach (string user in users)
            {
                expected[user] = await host.Client.GetStringAsync(new Uri($"/users/{user}/recommendations?k=20", UriKind.Relative));
            }

            var calls = Enumerable.Range(0, 240).Select(i => users[i % users.Length]).ToArray();
            var answers = new string[calls.Length];
            await Parallel.ForAsync(0, calls.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
                answers[i] = await host.Client.GetStringAsync(new Uri($"/users/{calls[i]}/recommendations?k=20", UriKind.Relative), ct));
            for (int i = 0; i < calls.Length; i++)
            {
                Assert.Equal(expected[calls[i]], answers[i]);
            }

            Assert.Contains("\"modelVersion\":" + await host.MetricAsync("modelVersion"), expected["c00"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Healthz_says_warming_up_while_the_bundled_log_replays_then_ok()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ShopHost host = await ShopHost.StartAsync(new ShopSettings { Data = Bundled.Value, WarmUpLimit = 1_500, WarmUpGate = gate.Task });
        JsonElement health = await host.GetOkAsync("/healthz");
        Assert.Equal("warming-up", health.GetProperty("status").GetString());

        // Already serving: an empty tracker answers with an empty cold-start list.
        JsonElement r = await host.GetOkAsync("/users/17850/recommendations");
        Assert.True(r.GetProperty("coldStart").GetBoolean());

        gate.SetResult();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((health = await host.GetOkAsync("/healthz")).GetProperty("status").GetString() == "warming-up" && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        Assert.Equal("ok", health.GetProperty("status").GetString());
        JsonElement warm = health.GetProperty("warmUp");
        Assert.Equal("done", warm.GetProperty("state").GetString());
        Assert.Equal(1_500, warm.GetProperty("replayed").GetInt32());
        Assert.Equal(0, warm.GetProperty("skipped").GetInt32());
        JsonElement flushed = await host.PostOkAsync("/flush", "");
        Assert.Equal(1_500, flushed.GetProperty("eventsObserved").GetInt64());
        Assert.Equal(1_500, flushed.GetProperty("eventsLearned").GetInt64());
        Assert.Equal(0, (await host.GetOkAsync("/healthz")).GetProperty("lagEvents").GetInt64());

        // The first 1,500 events of the log: their customers are known, with the descriptions of their items.
        InteractionEvent first = Bundled.Value.Events[0];
        r = await host.GetOkAsync($"/users/{first.UserId}/recommendations?k=3");
        Assert.Equal(Bundled.Value.Events.Take(1_500).Count(e => e.UserId == first.UserId), r.GetProperty("historyLength").GetInt32());
    }

    [Fact]
    public async Task The_bounded_load_test_at_a_small_size_has_no_errors_and_loses_no_event()
    {
        ShopData data = Bundled.Value;
        var settings = new ShopSettings { Data = data, WarmUpLimit = 2_000 };
        await using ShopHost host = await ShopHost.StartAsync(settings);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await host.GetOkAsync("/healthz")).GetProperty("status").GetString() == "warming-up" && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        ArraySegment<InteractionEvent> events = data.From(settings.WarmUpUntil, 3_000);
        var load = new LoadSettings(Events: 3_000, BatchSize: 200, Requests: 400, Clients: 8, TimeLimit: TimeSpan.FromSeconds(40));
        LoadReport report = await LoadTest.RunAsync(host.Address, events, data.Before(settings.WarmUpUntil, 2_000).Select(e => e.UserId), load);

        Assert.False(report.TimedOut);
        Assert.Equal(0, report.Errors);
        Assert.Equal(3_000, report.EventsSent);
        Assert.Equal(report.EventsSent, report.EventsObserved);
        Assert.Equal(report.EventsSent, report.EventsLearned);
        Assert.True(report.Passed);
        Assert.Equal(15, report.Endpoints[0].Requests);
        Assert.Equal(400, report.Endpoints[1].Requests);
        Assert.All(report.Endpoints, e => Assert.True(e.P50Ms > 0 && e.P50Ms <= e.P99Ms && e.P99Ms <= e.MaxMs, $"{e}"));
        Assert.Equal(2_000 + 3_000, await host.MetricAsync("eventsObserved"));
        Assert.Equal(0, await host.MetricAsync("rejectedRequests"));
    }

    [Fact]
    public async Task The_load_test_only_targets_loopback()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => LoadTest.RunAsync(new Uri("http://192.0.2.1:5080"), [], [], new LoadSettings()));
        Assert.Contains("192.0.2.1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new double[] { 5 }, 5, 5)]
    [InlineData(new double[] { 1, 2 }, 1, 2)]
    [InlineData(new double[] { 1, 2, 3, 4 }, 2, 4)]
    public void Percentiles_are_nearest_rank_over_the_sorted_times(double[] sorted, double p50, double p99)
    {
        Assert.Equal(p50, LoadTest.Percentile(sorted, 0.50));
        Assert.Equal(p99, LoadTest.Percentile(sorted, 0.99));
        double[] hundred = [.. Enumerable.Range(1, 100).Select(i => (double)i)];
        Assert.Equal(50, LoadTest.Percentile(hundred, 0.50));
        Assert.Equal(99, LoadTest.Percentile(hundred, 0.99));
    }
}

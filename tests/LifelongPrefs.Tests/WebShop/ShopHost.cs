using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LifelongPrefs.Samples.WebShop;
using Microsoft.AspNetCore.Builder;

namespace LifelongPrefs.Tests.WebShop;

/// <summary>The web shop started in-process on Kestrel at 127.0.0.1 on a free port, and a real HttpClient to it.</summary>
internal sealed class ShopHost : IAsyncDisposable
{
    private ShopHost(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    internal WebApplication App { get; }

    internal Uri Address { get; }

    internal HttpClient Client { get; }

    /// <summary>Starts a shop; without settings it starts empty (no warm-up).</summary>
    internal static async Task<ShopHost> StartAsync(ShopSettings? settings = null)
    {
        settings = (settings ?? new ShopSettings { NoWarmUp = true }) with { Urls = "http://127.0.0.1:0", Quiet = true };
        WebApplication app = ShopApp.Build(settings);
        await app.StartAsync();
        return new ShopHost(app, ShopApp.Address(app));
    }

    /// <summary>GETs a path: the status and the parsed body.</summary>
    internal async Task<(HttpStatusCode Status, JsonElement Body, string? MediaType)> GetAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(new Uri(path, UriKind.Relative));
        return await ReadAsync(response);
    }

    /// <summary>POSTs a JSON text: the status and the parsed body.</summary>
    internal async Task<(HttpStatusCode Status, JsonElement Body, string? MediaType)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Client.PostAsync(new Uri(path, UriKind.Relative), content);
        return await ReadAsync(response);
    }

    /// <summary>GETs a path and asserts 200.</summary>
    internal async Task<JsonElement> GetOkAsync(string path)
    {
        var (status, body, _) = await GetAsync(path);
        Assert.True(status == HttpStatusCode.OK, $"GET {path}: {status} {body}");
        return body;
    }

    /// <summary>POSTs a JSON text and asserts 200.</summary>
    internal async Task<JsonElement> PostOkAsync(string path, string json)
    {
        var (status, body, _) = await PostAsync(path, json);
        Assert.True(status == HttpStatusCode.OK, $"POST {path}: {status} {body}");
        return body;
    }

    /// <summary>The tracker's counter <paramref name="name"/> from /metrics.</summary>
    internal async Task<long> MetricAsync(string name) => (await GetOkAsync("/metrics")).GetProperty(name).GetInt64();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static async Task<(HttpStatusCode, JsonElement, string?)> ReadAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        JsonElement body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>A small hand-made shop: 30 customers buying from 40 items, each from its group's window, one basket a day.</summary>
internal static class ShopEvents
{
    internal const int Customers = 30, Items = 40, PurchasesEach = 12;

    internal static readonly DateTimeOffset Start = new(2011, 1, 3, 9, 0, 0, TimeSpan.Zero);

    internal static string User(int u) => $"c{u:D2}";

    internal static string Item(int i) => $"i{i:D2}";

    internal static string Description(int i) => $"ITEM {i} MUG";

    /// <summary>Each customer's purchases in posting order (seeded; no item twice for one customer).</summary>
    internal static List<(string User, string Item, DateTimeOffset Time)> Purchases()
    {
        var random = new Random(11);
        var events = new List<(string, string, DateTimeOffset)>();
        for (int day = 0; day < PurchasesEach; day++)
        {
            for (int u = 0; u < Customers; u++)
            {
                events.Add((User(u), "", Start.AddDays(day).AddMinutes(u)));
            }
        }

        // Fill the items: customer u draws without repetition from the 24 items of its group (u % 3).
        var drawn = new Dictionary<string, List<int>>();
        for (int u = 0; u < Customers; u++)
        {
            drawn[User(u)] = [.. Enumerable.Range((u % 3) * 8, 24).OrderBy(_ => random.Next()).Take(PurchasesEach)];
        }

        var next = new Dictionary<string, int>();
        for (int i = 0; i < events.Count; i++)
        {
            (string user, _, DateTimeOffset time) = events[i];
            int k = next.GetValueOrDefault(user);
            next[user] = k + 1;
            events[i] = (user, Item(drawn[user][k] % Items), time);
        }

        return events;
    }

    /// <summary>The purchases as one JSON batch, each item's description on every event.</summary>
    internal static string Json(IEnumerable<(string User, string Item, DateTimeOffset Time)> events) =>
        "[" + string.Join(",", events.Select(e => Event(e.User, e.Item, e.Time, $"\"description\":\"{Description(int.Parse(e.Item[1..], CultureInfo.InvariantCulture))}\""))) + "]";

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>One purchase event as JSON, with extra fields.</summary>
    internal static string Event(string user, string item, DateTimeOffset time, string extra = "") =>
        $"{{\"userId\":\"{user}\",\"itemId\":\"{item}\",\"timestamp\":\"{Iso(time)}\",\"kind\":\"purchase\",\"quantity\":2,\"value\":1.25{(extra.Length > 0 ? "," + extra : "")}}}";
}

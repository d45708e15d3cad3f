using System.Diagnostics;
using System.Globalization;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// Serves the web shop (<see cref="ShopApp"/>), or with <c>--load</c> runs the bounded load test against an in-process
/// copy on a loopback port (<see cref="LoadTest"/>); <c>--help</c> lists the options.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromMinutes(10);

    private static async Task<int> Main(string[] args)
    {
        ShopSettings settings;
        try
        {
            settings = ShopSettings.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {SampleConsole.OneLine(e)} (--help prints the usage)").ConfigureAwait(false);
            return SampleConsole.BadInput;
        }

        if (settings.Help)
        {
            Console.WriteLine(ShopSettings.Usage);
            return 0;
        }

        try
        {
            if (settings.Load)
            {
                return await RunLoadAsync(settings, Console.Out).ConfigureAwait(false);
            }

            await using WebApplication app = ShopApp.Build(settings);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or IOException or Data.CsvFormatException)
        {
            await Console.Error.WriteLineAsync($"error: {SampleConsole.OneLine(e)}").ConfigureAwait(false);
            return SampleConsole.BadInput;
        }
    }

    /// <summary>
    /// Starts the shop on 127.0.0.1 at a free port, waits for its warm-up, replays the log from the warm-up day on
    /// while the clients ask for recommendations, and prints the report. Exit code 0 when nothing failed or was lost.
    /// </summary>
    internal static async Task<int> RunLoadAsync(ShopSettings settings, TextWriter output)
    {
        ShopData data = settings.Data ?? ShopData.Load(settings.DataPath);
        ShopSettings shop = settings with { Urls = "http://127.0.0.1:0", Quiet = true, Data = data };
        await using WebApplication app = ShopApp.Build(shop);
        await app.StartAsync().ConfigureAwait(false);
        Uri address = ShopApp.Address(app);

        var clock = Stopwatch.StartNew();
        WarmUp warmUp = app.Services.GetRequiredService<WarmUp>();
        while (warmUp.InProgress && clock.Elapsed < WarmUpLimit)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }

        WarmUpReport warm = warmUp.Report;
        if (warm.State is not ("done" or "off"))
        {
            throw new IOException($"The warm-up did not finish ({warm.State}{(warm.Error is null ? "" : ": " + warm.Error)}).");
        }

        ArraySegment<Data.InteractionEvent> replayed = settings.NoWarmUp ? default : data.Before(shop.WarmUpUntil, shop.WarmUpLimit);
        ArraySegment<Data.InteractionEvent> events = data.From(shop.WarmUpUntil, settings.LoadSettings.Events);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shop on {address}: warm-up {warm.Replayed} events before {shop.WarmUpUntil:yyyy-MM-dd} in {clock.Elapsed.TotalSeconds:F1} s; load: {events.Count} events in batches of {settings.LoadSettings.BatchSize}, {settings.LoadSettings.Requests} recommendation requests by {settings.LoadSettings.Clients} clients, limit {settings.LoadSettings.TimeLimit.TotalSeconds:F0} s"));

        LoadReport report = await LoadTest.RunAsync(address, events, replayed.Select(e => e.UserId), settings.LoadSettings).ConfigureAwait(false);
        LoadTest.Print(report, output);
        await app.StopAsync().ConfigureAwait(false);
        return report.Passed ? 0 : 1;
    }
}

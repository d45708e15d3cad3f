using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>
/// AddLifelongPrefs in a real host: one tracker for the application, options from code or configuration, and bad
/// options failing the host's start with a message that names the option and its value.
/// </summary>
public class HostRegistrationTests
{
    [Fact]
    public async Task A_host_resolves_one_tracker_that_observes_learns_and_recommends()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small));
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        Assert.Same(tracker, host.Services.GetRequiredService<PreferenceTracker>());

        tracker.Observe(HostKit.Events(12));
        await tracker.FlushAsync();

        // 12 events in micro-batches of 4: three versions. u0 (four events) gets the personalised answer; a stranger
        // the cold-start one, which ranks all five bought items as trending.
        Assert.Equal(3, tracker.ModelVersion);
        Assert.Equal(12, tracker.Statistics.EventsLearned);
        RecommendationList mine = tracker.Recommend("u0", 2);
        Assert.Equal(3, mine.ModelVersion);
        Assert.False(mine.IsColdStart);
        RecommendationList stranger = tracker.Recommend("nobody", 10);
        Assert.True(stranger.IsColdStart);
        Assert.Equal(["i0", "i1", "i2", "i3", "i4"], stranger.Select(r => r.ItemId).Order());
        Assert.All(stranger, r => Assert.Equal(RecommendationReason.Trending, r.Reason));
        await host.StopAsync();
    }

    [Fact]
    public async Task The_interface_resolves_to_the_one_tracker_the_host_runs()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small));
        await host.StartAsync();
        IPreferenceTracker shop = host.Services.GetRequiredService<IPreferenceTracker>();
        Assert.Same(host.Services.GetRequiredService<PreferenceTracker>(), shop);

        // What goes in through the interface is what the concrete tracker (and its hosted service) learns.
        shop.Observe(HostKit.Events(8));
        await shop.FlushAsync();
        Assert.Equal(8, host.Services.GetRequiredService<PreferenceTracker>().Statistics.EventsLearned);
        await host.StopAsync();
    }

    [Fact]
    public void An_interface_registered_before_AddLifelongPrefs_is_kept()
    {
        using var own = new PreferenceTracker(new TrackerOptions { Dimensions = 4 });
        var services = new ServiceCollection();
        services.AddSingleton<IPreferenceTracker>(own);
        services.AddLifelongPrefs(HostKit.Small);

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Same(own, provider.GetRequiredService<IPreferenceTracker>());
        Assert.NotSame(own, provider.GetRequiredService<PreferenceTracker>());
    }

    [Fact]
    public void Registering_twice_adds_one_tracker_one_validator_and_one_hosted_service()
    {
        var services = new ServiceCollection();
        services.AddLifelongPrefs(o => o.Dimensions = 8).AddLifelongPrefs(o => o.Seed = 7);

        Assert.Single(services, d => d.ServiceType == typeof(PreferenceTracker));
        Assert.Single(services, d => d.ServiceType == typeof(IPreferenceTracker));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<TrackerOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));

        // Both configure calls apply, in order.
        using ServiceProvider provider = services.BuildServiceProvider();
        TrackerOptions options = provider.GetRequiredService<IOptions<TrackerOptions>>().Value;
        Assert.Equal((8, 7), (options.Dimensions, options.Seed));
    }

    [Fact]
    public async Task A_bad_option_from_code_fails_the_start_naming_the_option_and_value()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(o => o.MicroBatchSize = 0));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("TrackerOptions.MicroBatchSize is 0", error.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(TrackerOptions), error.OptionsType);
    }

    [Theory]
    [InlineData("MicroBatchSize", "0", "TrackerOptions.MicroBatchSize is 0")]
    [InlineData("Dimensions", "5000", "TrackerOptions.Dimensions is 5000")]
    [InlineData("Drift:SampleEvery", "0", "TrackerOptions.Drift.SampleEvery is 0")]
    [InlineData("Continual:ReplayRatio", "-1", "ContinualOptions.ReplayRatio is -1")]
    [InlineData("TrendingHalfLife", "-00:00:01", "TrackerOptions.TrendingHalfLife is -00:00:01")]
    public async Task A_bad_option_from_configuration_fails_the_start_naming_the_option_and_value(string key, string value, string expected)
    {
        IConfiguration section = new ConfigurationBuilder().AddInMemoryCollection([new($"LifelongPrefs:{key}", value)]).Build()
            .GetSection("LifelongPrefs");
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(section));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_binding_sets_every_kind_of_value()
    {
        IConfiguration section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tracker:MicroBatchSize"] = "32",
            ["Tracker:Dimensions"] = "16",
            ["Tracker:FlushInterval"] = "00:00:02",
            ["Tracker:QueueFullPolicy"] = "DropOldest",
            ["Tracker:ItemTablePrecision"] = "Quantized",
            ["Tracker:Drift:Enabled"] = "true",
            ["Tracker:Drift:SampleEvery"] = "8",
            ["Tracker:Continual:ReplayRatio"] = "0.25",
        }).Build().GetSection("Tracker");
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(section));
        await host.StartAsync();
        TrackerOptions o = host.Services.GetRequiredService<PreferenceTracker>().Options;

        Assert.Equal(32, o.MicroBatchSize);
        Assert.Equal(16, o.Dimensions);
        Assert.Equal(TimeSpan.FromSeconds(2), o.FlushInterval);
        Assert.Equal(QueueFullPolicy.DropOldest, o.QueueFullPolicy);
        Assert.Equal(ItemTablePrecision.Quantized, o.ItemTablePrecision);
        Assert.True(o.Drift.Enabled);
        Assert.Equal(8, o.Drift.SampleEvery);
        Assert.Equal(0.25, o.Continual.ReplayRatio);
        Assert.Equal(new TrackerOptions().Seed, o.Seed); // unbound keys keep their defaults
        await host.StopAsync();
    }

    [Fact]
    public async Task The_tracker_keeps_a_copy_of_its_options_so_later_changes_change_nothing()
    {
        var options = new TrackerOptions { MicroBatchSize = 4, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8 };
        await using var tracker = new PreferenceTracker(options);
        options.MicroBatchSize = 0;
        options.MaxIdLength = 1;
        options.Drift.SampleEvery = 0;
        options.Continual.ReplayRatio = -1;
        tracker.Options.MaxIdLength = 1; // a copy too

        // Ids of two characters still pass the unchanged MaxIdLength (256); batches are still of four.
        tracker.Observe(HostKit.Events(8));
        await tracker.FlushAsync();
        Assert.Equal(2, tracker.ModelVersion);
        Assert.Equal((4, 256, 16, new ContinualOptions().ReplayRatio), (tracker.Options.MicroBatchSize, tracker.Options.MaxIdLength, tracker.Options.Drift.SampleEvery,
            tracker.Options.Continual.ReplayRatio));
        Assert.NotSame(tracker.Options, tracker.Options);
        Assert.NotSame(ContinualOptions.Naive, ContinualOptions.Naive);
    }

    [Fact]
    public void Validate_is_public_and_names_the_option_and_value()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TrackerOptions { MicroBatchSize = 0 }.Validate());
        Assert.Equal("MicroBatchSize", error.ParamName);
        Assert.StartsWith("TrackerOptions.MicroBatchSize is 0; it must lie in [1, 1000000].", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new TrackerOptions { Drift = null! }.Validate());
        new TrackerOptions().Validate(); // the defaults pass
    }

    [Fact]
    public async Task Stopping_the_host_flushes_what_is_still_queued()
    {
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small));
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(6)); // one full batch and two waiting for a count that never comes
        Assert.InRange(tracker.Statistics.EventsLearned, 0, 4);

        await host.StopAsync();
        Assert.Equal(6, tracker.Statistics.EventsLearned);
        Assert.Equal(2, tracker.ModelVersion);
    }

    [Fact]
    public async Task A_learner_registered_in_the_container_is_the_one_the_tracker_learns_with()
    {
        // Only the poisoned BPR-MF skips steps: the default learner, on these events, skips none.
        using IHost host = HostKit.Build(s => s.AddSingleton<IRecommender>(HostKit.PoisonedBpr())
            .AddLifelongPrefs(o => { HostKit.Small(o); o.Continual = ContinualOptions.Naive; }));
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(40));
        await tracker.FlushAsync();
        Assert.True(tracker.Statistics.SkippedSteps > 0, $"{tracker.Statistics.SkippedSteps} skipped steps");
        await host.StopAsync();
    }
}

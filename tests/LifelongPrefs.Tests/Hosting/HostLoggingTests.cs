using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>
/// What the tracker and the hosted service log, read back through the fake logger: event ids, levels and contents
/// after learning, a shutdown flush, a rejected input, skipped NaN steps and a learner that faulted.
/// </summary>
public class HostLoggingTests
{
    private static List<FakeLogRecord> Records(FakeLoggerProvider logs, int id) => [.. logs.Collector.GetSnapshot().Where(r => r.Id.Id == id)];

    [Fact]
    public async Task Each_micro_batch_logs_at_debug_and_the_shutdown_flush_at_information()
    {
        using var logs = new FakeLoggerProvider();
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small), logs);
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(12));
        await tracker.FlushAsync();
        tracker.Observe(HostKit.Events(2, offset: 12)); // waits for the stop's flush
        await host.StopAsync();

        FakeLogRecord started = Assert.Single(Records(logs, 1200));
        Assert.Equal(LogLevel.Information, started.Level);
        Assert.Contains("micro-batches of 4, 8 dimensions", started.Message, StringComparison.Ordinal);

        // Three full batches, then the stop's flush cuts a batch of two: versions 1 to 4.
        List<FakeLogRecord> batches = Records(logs, 1100);
        Assert.All(batches, r => Assert.Equal(LogLevel.Debug, r.Level));
        Assert.All(batches, r => Assert.Equal(typeof(PreferenceTracker).FullName, r.Category));
        Assert.Equal(["4", "4", "4", "2"], batches.Select(r => r.GetStructuredStateValue("EventCount")));
        Assert.Equal(["1", "2", "3", "4"], batches.Select(r => r.GetStructuredStateValue("ModelVersion")));
        Assert.Contains("Learned a micro-batch of 2 events", batches[3].Message, StringComparison.Ordinal);

        FakeLogRecord flushed = Assert.Single(Records(logs, 1201));
        Assert.Equal(LogLevel.Information, flushed.Level);
        Assert.Equal("2 queued events learned, model version 4", flushed.Message[(flushed.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
    }

    [Fact]
    public async Task A_rejected_input_is_logged_at_debug_only_and_never_names_the_user_above_it()
    {
        using var logs = new FakeLoggerProvider();
        using IHost host = HostKit.Build(s => s.AddLifelongPrefs(HostKit.Small), logs);
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(new InteractionEvent("secret-user-17", "i1", HostKit.Start.AddDays(10), EventKind.Purchase));

        // Far older than the user's latest event (tolerance one day): rejected, and named in the exception.
        var late = new InteractionEvent("secret-user-17", "i2", HostKit.Start, EventKind.Purchase);
        Assert.Throws<ArgumentException>(() => tracker.Observe(late));
        Assert.Throws<ArgumentException>(() => tracker.Feedback("", "i1", FeedbackOutcome.Clicked));
        await host.StopAsync();

        List<FakeLogRecord> rejected = Records(logs, 1103);
        Assert.Equal(2, rejected.Count);
        Assert.All(rejected, r => Assert.Equal(LogLevel.Debug, r.Level));
        Assert.StartsWith("Rejected Observe (ArgumentException): 'evt' at ", rejected[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("Rejected Feedback (ArgumentException): 'userId' is empty", rejected[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Collector.GetSnapshot(), r => r.Level >= LogLevel.Information && r.Message.Contains("secret-user-17", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Skipped_NaN_steps_are_logged_as_warnings_that_add_up_to_the_statistics()
    {
        using var logs = new FakeLoggerProvider();
        using IHost host = HostKit.Build(s => s.AddSingleton<IRecommender>(HostKit.PoisonedBpr())
            .AddLifelongPrefs(o => { HostKit.Small(o); o.Continual = ContinualOptions.Naive; }), logs);
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(40));
        await tracker.FlushAsync();
        await host.StopAsync();

        List<FakeLogRecord> skipped = Records(logs, 1101);
        Assert.NotEmpty(skipped);
        Assert.All(skipped, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Contains("because a gradient was NaN or infinite", skipped[0].Message, StringComparison.Ordinal);
        Assert.Equal(tracker.Statistics.SkippedSteps, skipped.Sum(r => long.Parse(r.GetStructuredStateValue("SkippedSteps")!, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(tracker.Statistics.SkippedSteps.ToString(System.Globalization.CultureInfo.InvariantCulture), skipped[^1].GetStructuredStateValue("TotalSkippedSteps"));
    }

    [Fact]
    public async Task A_faulted_learner_is_logged_as_an_error_with_its_exception()
    {
        using var logs = new FakeLoggerProvider();

        // The model accepts one user; the tracker's second user makes its update throw.
        var bpr = new BprMf(new BprMfOptions { Dimensions = 4, MaxUsers = 1 });
        using IHost host = HostKit.Build(s => s.AddSingleton<IRecommender>(bpr)
            .AddLifelongPrefs(o => { HostKit.Small(o); o.Continual = ContinualOptions.Naive; }), logs);
        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<PreferenceTracker>();
        tracker.Observe(HostKit.Events(4));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => tracker.FlushAsync());
        await host.StopAsync();

        FakeLogRecord faulted = Assert.Single(Records(logs, 1104));
        Assert.Equal(LogLevel.Error, faulted.Level);
        Assert.Same(error.InnerException, faulted.Exception);
        Assert.Contains("micro-batch of 4 events", faulted.Message, StringComparison.Ordinal);
        Assert.Equal(LearnerState.Faulted, tracker.LearnerStatus.State);
        FakeLogRecord flushFailed = Assert.Single(Records(logs, 1203));
        Assert.Equal(LogLevel.Error, flushFailed.Level);
    }
}

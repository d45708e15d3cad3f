using LifelongPrefs.Lifelong;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LifelongPrefs.Extensions.DependencyInjection;

/// <summary>
/// Ties the tracker's background learner to the host's lifetime: resolving the tracker at start starts the learner
/// (so the first request does not pay for it, and bad options have failed before), and a graceful stop waits, within
/// the host's shutdown timeout, until everything observed is learned and published. With
/// <see cref="TrackerOptions.Persistence"/> set, the tracker restores its checkpoint and journal when it is created
/// (at start; the recovery is logged), a checkpoint is written every <see cref="LifelongPrefsHostingOptions.CheckpointInterval"/>
/// of the host's <see cref="TimeProvider"/>, and the stop writes one after the flush.
/// </summary>
/// <remarks>Event ids 1200–1299 (the core library logs 1100–1199).</remarks>
internal sealed partial class LifelongPrefsHostedService(PreferenceTracker tracker, ILoggerFactory? loggers,
    LifelongPrefsHostingOptions hosting, TimeProvider time) : IHostedService, IDisposable
{
    private readonly ILogger _logger = loggers?.CreateLogger<LifelongPrefsHostedService>() ?? NullLogger<LifelongPrefsHostedService>.Instance;
    private readonly CancellationTokenSource _stopping = new();
    private Task _schedule = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        TrackerOptions options = tracker.Options;
        LogStarted(_logger, options.MicroBatchSize, options.Dimensions, tracker.ModelVersion);
        if (tracker.Recovery is { } recovery)
        {
            LogRecovered(_logger, recovery.CheckpointUsed, recovery.EventsReplayed, recovery.TornBytesDropped);
        }

        if (options.Persistence is not null && hosting.CheckpointInterval != Timeout.InfiniteTimeSpan)
        {
            _schedule = CheckpointOnScheduleAsync(hosting.CheckpointInterval, _stopping.Token);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _schedule.ConfigureAwait(false); // never throws: the loop logs its failures
        int waiting = tracker.LearnerStatus.QueueDepth;
        try
        {
            await tracker.FlushAsync(cancellationToken).ConfigureAwait(false);
            LogFlushed(_logger, waiting, tracker.ModelVersion);
            if (tracker.Options.Persistence is not null)
            {
                await tracker.CheckpointAsync(cancellationToken).ConfigureAwait(false);
                LogCheckpointed(_logger, tracker.ModelVersion, tracker.Options.Persistence.Directory);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogFlushCancelled(_logger, tracker.LearnerStatus.QueueDepth);
        }
        catch (ObjectDisposedException)
        {
            // The container disposed the tracker first: nothing is left to flush.
        }
        catch (InvalidOperationException ex)
        {
            LogFlushFailed(_logger, ex);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task CheckpointOnScheduleAsync(TimeSpan interval, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stopping).ConfigureAwait(false);
                await tracker.CheckpointAsync(stopping).ConfigureAwait(false);
                LogScheduledCheckpoint(_logger, tracker.ModelVersion);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                LogScheduledCheckpointFailed(_logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 1200, EventName = "TrackerStarted", Level = LogLevel.Information,
        Message = "LifelongPrefs tracker started (micro-batches of {MicroBatchSize}, {Dimensions} dimensions, model version {ModelVersion})")]
    private static partial void LogStarted(ILogger logger, int microBatchSize, int dimensions, long modelVersion);

    [LoggerMessage(EventId = 1201, EventName = "TrackerFlushed", Level = LogLevel.Information,
        Message = "LifelongPrefs learner flushed on shutdown: {Waiting} queued events learned, model version {ModelVersion}")]
    private static partial void LogFlushed(ILogger logger, int waiting, long modelVersion);

    [LoggerMessage(EventId = 1202, EventName = "TrackerFlushCancelled", Level = LogLevel.Warning,
        Message = "LifelongPrefs learner flush cut short by the shutdown timeout; {Waiting} events were still queued and are not learned")]
    private static partial void LogFlushCancelled(ILogger logger, int waiting);

    [LoggerMessage(EventId = 1203, EventName = "TrackerFlushFailed", Level = LogLevel.Error,
        Message = "LifelongPrefs learner could not flush on shutdown: it had stopped after an error")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1204, EventName = "TrackerRecovered", Level = LogLevel.Information,
        Message = "LifelongPrefs tracker restored (checkpoint used: {CheckpointUsed}, {EventsReplayed} journal events replayed, {TornBytes} torn bytes dropped)")]
    private static partial void LogRecovered(ILogger logger, bool checkpointUsed, long eventsReplayed, long tornBytes);

    [LoggerMessage(EventId = 1205, EventName = "TrackerCheckpointed", Level = LogLevel.Information,
        Message = "LifelongPrefs checkpoint written on shutdown: model version {ModelVersion} in {Directory}")]
    private static partial void LogCheckpointed(ILogger logger, long modelVersion, string directory);

    [LoggerMessage(EventId = 1206, EventName = "TrackerScheduledCheckpoint", Level = LogLevel.Debug,
        Message = "LifelongPrefs checkpoint written on schedule: model version {ModelVersion}")]
    private static partial void LogScheduledCheckpoint(ILogger logger, long modelVersion);

    [LoggerMessage(EventId = 1207, EventName = "TrackerScheduledCheckpointFailed", Level = LogLevel.Error,
        Message = "LifelongPrefs scheduled checkpoint failed; the journal still holds every accepted event and the next attempt follows")]
    private static partial void LogScheduledCheckpointFailed(ILogger logger, Exception exception);
}

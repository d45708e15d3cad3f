using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Samples.WebShop;

/// <summary>
/// Replays the first months of the log into the tracker in the background while the shop already serves. It keeps
/// the learner's queue at most a quarter full, so live events posted meanwhile never wait behind the replay (the
/// queue blocks writers only when full). A replayed batch the tracker rejects (a live event of the same customer
/// was newer) is replayed event by event and the rejected ones are counted as skipped.
/// </summary>
internal sealed class WarmUp(ShopSettings settings, PreferenceTracker tracker, ShopCatalog catalog) : BackgroundService
{
    private const int BatchSize = 512;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(10);

    private volatile string _state = settings.NoWarmUp ? "off" : "loading-data";
    private volatile string? _error;
    private int _replayed, _total, _skipped;

    /// <summary>Gets whether the replay is still going (loading the data counts).</summary>
    public bool InProgress => _state is "loading-data" or "replaying";

    /// <summary>Gets the progress. Any thread.</summary>
    public WarmUpReport Report => new(_state, Volatile.Read(ref _replayed), Volatile.Read(ref _total), Volatile.Read(ref _skipped), _error);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.NoWarmUp)
        {
            return;
        }

        // Start-up must not wait for the file: the host starts serving as soon as ExecuteAsync yields.
        await Task.Yield();
        try
        {
            if (settings.WarmUpGate is { } gate)
            {
                await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
            }

            ShopData data = settings.Data ?? await Task.Run(() => ShopData.Load(settings.DataPath), stoppingToken).ConfigureAwait(false);
            ArraySegment<InteractionEvent> events = data.Before(settings.WarmUpUntil, settings.WarmUpLimit);
            Volatile.Write(ref _total, events.Count);
            _state = "replaying";
            int quarter = tracker.Options.QueueCapacity / 4;
            for (int start = 0; start < events.Count; start += BatchSize)
            {
                while (tracker.Statistics.QueueDepth > quarter)
                {
                    await Task.Delay(Pause, stoppingToken).ConfigureAwait(false);
                }

                Replay(events.Slice(start, Math.Min(BatchSize, events.Count - start)));
            }

            _state = "done";
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _state = "stopped";
        }
#pragma warning disable CA1031 // A failed warm-up is reported by /healthz; the shop keeps serving what it has.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _error = SampleConsole.OneLine(e);
            _state = "failed";
        }
    }

    private void Replay(ArraySegment<InteractionEvent> batch)
    {
        try
        {
            tracker.Observe(batch);
        }
        catch (ArgumentException)
        {
            foreach (InteractionEvent evt in batch)
            {
                try
                {
                    tracker.Observe(evt);
                }
                catch (ArgumentException)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                Catalogue(evt);
            }

            Interlocked.Add(ref _replayed, batch.Count);
            return;
        }

        foreach (InteractionEvent evt in batch)
        {
            Catalogue(evt);
        }

        Interlocked.Add(ref _replayed, batch.Count);
    }

    private void Catalogue(InteractionEvent evt) => catalog.Add(evt.ItemId, evt.Attributes?.Text);
}

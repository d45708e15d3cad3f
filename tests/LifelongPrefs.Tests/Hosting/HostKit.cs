using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LifelongPrefs.Tests.Hosting;

/// <summary>A real host with LifelongPrefs registered, the fake logger attached, and small event streams.</summary>
internal static class HostKit
{
    internal static readonly DateTimeOffset Start = new(2011, 3, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Small, count-batched settings: every batch boundary depends only on the events.</summary>
    internal static void Small(TrackerOptions o)
    {
        o.Dimensions = 8;
        o.MicroBatchSize = 4;
        o.FlushInterval = Timeout.InfiniteTimeSpan;
    }

    /// <summary>Builds (not starts) a host; <paramref name="logs"/> receives every log record from Debug up.</summary>
    internal static IHost Build(Action<IServiceCollection> register, FakeLoggerProvider? logs = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        }

        builder.Services.AddMetrics();
        register(builder.Services);
        return builder.Build();
    }

    /// <summary><paramref name="count"/> purchases over three users and five items, a minute apart.</summary>
    internal static InteractionEvent[] Events(int count, int offset = 0) =>
        [.. Enumerable.Range(offset, count).Select(i => new InteractionEvent($"u{i % 3}", $"i{i % 5}", Start.AddMinutes(i), EventKind.Purchase))];

    /// <summary>A BPR-MF learner whose every optimizer step sees a NaN gradient (the trainer then skips it).</summary>
    internal static BprMf PoisonedBpr()
    {
        var bpr = new BprMf(new BprMfOptions { Dimensions = 4, Seed = 3 });
        ((ITrainableRecommender)bpr).Trainer.Hooks.Add(new NaNHook());
        return bpr;
    }

    /// <summary>Writes NaN into the first gradient element the optimizer will check (a dense one, or a touched row).</summary>
    private sealed class NaNHook : IGradientHook
    {
        public float Apply(IReadOnlyList<Parameter> parameters)
        {
            foreach (Parameter p in parameters)
            {
                if (!p.HasSparseRows)
                {
                    p.Gradient.Span[0] = float.NaN;
                    return 0f;
                }

                if (p.TouchedRows.Length > 0)
                {
                    p.Gradient.Span[p.TouchedRows[0] * p.Gradient.RowLength] = float.NaN;
                    return 0f;
                }
            }

            return 0f;
        }
    }
}

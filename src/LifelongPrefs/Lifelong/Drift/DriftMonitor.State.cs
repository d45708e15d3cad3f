using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The drift monitor's part of a tracker checkpoint: its counters, the reaction window, the recent detections and every
/// detector (the global one, then one per segment) with what its watch keeps to estimate the change point.
/// </summary>
internal sealed partial class DriftMonitor
{
    /// <summary>Adds the monitor's sections, <c>drift.*</c> (learner thread parked); <paramref name="latestTicks"/> is the learner's newest tested-stream time.</summary>
    internal void WriteState(ModelStateWriter writer, long latestTicks)
    {
        writer.AddLongs("drift.counters", [_purchases, Tested, Detections, _until, latestTicks]);
        DriftDetection[] recent = _recent;
        writer.AddLongs("drift.history.ticks", [.. recent.Select(d => d.StreamTime.UtcTicks)]);
        writer.AddLongs("drift.history.tested", [.. recent.Select(d => d.Tested)]);
        writer.AddInts("drift.history.codes", [.. recent.SelectMany(d => new[] { d.Segment.FrequencyTier, d.Segment.RecencyTier, (int)d.Detector, d.Reacted ? 1 : 0 })]);
        writer.AddDoubles("drift.history.rates", [.. recent.SelectMany(d => new[] { d.MissRateBefore, d.MissRateAfter })]);
        for (int i = -1; i < _segments.Length; i++)
        {
            (i < 0 ? _global : _segments[i]).WriteState(writer, WatchName(i));
        }
    }

    /// <summary>Takes and checks the monitor's sections; the returned action applies them and returns the learner's newest tested-stream time.</summary>
    /// <exception cref="ModelStateException">A section is missing or malformed, or the state is inconsistent.</exception>
    internal Func<long> ReadState(ModelStateReader reader)
    {
        long[] c = reader.Longs("drift.counters", 5);
        reader.Require(c[0] >= 0 && c[1] >= 0 && c[1] <= c[0] && c[2] >= 0, "the drift counters are negative or out of order");
        long[] ticks = reader.Longs("drift.history.ticks");
        reader.Require(ticks.Length <= _options.HistoryCapacity && ticks.Length <= c[2], $"{ticks.Length} recent detections for a history of {_options.HistoryCapacity} and {c[2]} detections");
        long[] tested = reader.Longs("drift.history.tested", ticks.Length);
        int[] codes = reader.Ints("drift.history.codes", 4L * ticks.Length);
        double[] rates = reader.Doubles("drift.history.rates", 2L * ticks.Length);
        var recent = new DriftDetection[ticks.Length];
        for (int i = 0; i < recent.Length; i++)
        {
            int frequency = codes[4 * i], recency = codes[(4 * i) + 1], kind = codes[(4 * i) + 2], reacted = codes[(4 * i) + 3];
            bool segment = (frequency == -1 && recency == -1) || ((uint)frequency < DriftSegment.Tiers && (uint)recency < DriftSegment.Tiers);
            reader.Require(segment && Enum.IsDefined((DriftDetectorKind)kind) && (uint)reacted <= 1 && ticks[i] >= DateTimeOffset.MinValue.UtcTicks
                && ticks[i] <= DateTimeOffset.MaxValue.UtcTicks && tested[i] > 0 && tested[i] <= c[1],
                $"recent detection {i}");
            recent[i] = new DriftDetection(new DateTimeOffset(ticks[i], TimeSpan.Zero), new DriftSegment(frequency, recency), (DriftDetectorKind)kind,
                rates[2 * i], rates[(2 * i) + 1], tested[i], reacted == 1);
        }

        var watches = new Action[_segments.Length + 1];
        for (int i = -1; i < _segments.Length; i++)
        {
            watches[i + 1] = (i < 0 ? _global : _segments[i]).ReadState(reader, WatchName(i), c[1]);
        }

        return () =>
        {
            foreach (Action watch in watches)
            {
                watch();
            }

            (_purchases, _tested, _detections, _until, _recent) = (c[0], c[1], c[2], c[3], recent);
            Volatile.Write(ref _history, new System.Collections.ObjectModel.ReadOnlyCollection<DriftDetection>(recent));
            return c[4];
        };
    }

    private static string WatchName(int segment) => segment < 0 ? "drift.global" : $"drift.segment.{segment}";

    private sealed partial class Watch
    {
        internal void WriteState(ModelStateWriter writer, string prefix)
        {
            writer.AddLongs(prefix + ".watch", [_run, _atMinimum, Tested]);
            writer.AddDoubles(prefix + ".watchSums", [_runSum, _minimumSum]);
            ((IPersistentDetector)Detector).WriteState(writer, prefix);
        }

        internal Action ReadState(ModelStateReader reader, string prefix, long totalTested)
        {
            long[] c = reader.Longs(prefix + ".watch", 3);
            double[] sums = reader.Doubles(prefix + ".watchSums", 2);
            reader.Require(c[0] >= 0 && c[1] >= 0 && c[1] <= c[0] && c[2] >= c[0] && c[2] <= totalTested && sums[0] >= 0 && sums[1] >= 0 && sums[1] <= sums[0] && sums[0] <= c[0],
                $"{prefix}'s watch counters are inconsistent");
            Action detector = ((IPersistentDetector)Detector).ReadState(reader, prefix);
            return () =>
            {
                detector();
                (_run, _atMinimum, Tested, _runSum, _minimumSum) = (c[0], c[1], c[2], sums[0], sums[1]);
            };
        }
    }
}

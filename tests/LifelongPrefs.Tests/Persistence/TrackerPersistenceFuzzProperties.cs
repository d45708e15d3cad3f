using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Persistence;
using LifelongPrefs.Tests.Lifelong;
using LifelongPrefs.Tests.Privacy;
using Xunit.Abstractions;
using static LifelongPrefs.Tests.Privacy.TrackerFuzzCalls;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The API fuzz with persistence on: the random valid and invalid calls of <see cref="TrackerFuzzCalls"/> interleaved
/// with checkpoints and recoveries (a crash-like stop — disposal without a checkpoint, or a copy of the directory taken
/// while the tracker runs — or an orderly one, then <see cref="PreferenceTracker.Open"/> and on with the recovered
/// tracker). The oracle is an uninterrupted in-memory tracker with the same options that gets every call that could
/// change state, so it makes the same micro-batch cuts (count-only batching; every flush is applied to both).
/// Each call succeeds or throws an <see cref="ArgumentException"/>-family exception (the oracle throws the same kind);
/// sampled rejected calls leave the state image unchanged; each recovery replays exactly the events and feedback
/// accepted since the last checkpoint; after each recovery (at once or at the next flush) and at the end the
/// recovered tracker's saved state and state image equal the oracle's byte for byte, its recommendations are the
/// oracle's, and no parameter is NaN or infinite.
/// 20 runs × 700 calls = 14,000 calls (seeds drawn by FsCheck from a fixed replay seed).
/// </summary>
public sealed class TrackerPersistenceFuzzProperties(ITestOutputHelper output)
{
    /// <summary>
    /// Whether Forget is applied with persistence on (it is: erasure reaches the journal and checkpoint, and a Forget
    /// ends with a checkpoint). Off, the generator still draws Forget calls and each must be refused, leaving the
    /// tracker as it was — the behaviour of builds before erasure from files.
    /// </summary>
    internal const bool ForgetUnderPersistence = true;

    private const int Runs = 20;
    private const int CallsPerRun = 700;

    [Property(MaxTest = Runs, Replay = "2718281828,1414213563")]
    public Property Calls_checkpoints_and_recoveries_keep_the_tracker_equal_to_the_uninterrupted_run() =>
        Prop.ForAll(Arb.From(Gen.Choose(1, int.MaxValue)), seed =>
        {
            var clock = Stopwatch.StartNew();
            using var run = new Run(seed);
            run.Drive(CallsPerRun);
            output.WriteLine($"seed {seed}, journal {run.Policy}: {CallsPerRun} calls ({run.Succeeded} succeeded, {run.Rejected} rejected, "
                + $"{run.CheckedRejections} rejections compared), {run.Checkpoints} checkpoints, {run.Recoveries} recoveries "
                + $"({run.Copies} from a copy taken while running), {run.Comparisons} comparisons with the oracle, {clock.ElapsedMilliseconds} ms");
        });

    /// <summary>One run: the persisted tracker, its directory, the oracle and the tallies the assertions need.</summary>
    private sealed class Run : IDisposable
    {
        private readonly Random _rng;
        private readonly int _seed;
        private readonly PreferenceTracker _oracle;
        private PreferenceTracker _subject;
        private string _directory = TrackerPersistenceHarness.TempDirectory();
        private DateTimeOffset _clock = Start;
        private bool _checkpointWritten;
        private long _recordsSinceCheckpoint; // the events and feedback a recovery must replay
        private bool _comparePending;

        internal Run(int seed)
        {
            _seed = seed;
            _rng = new Random(seed);
            Policy = (JournalFlushPolicy)(seed % 3); // each policy in about a third of the runs
            _oracle = new PreferenceTracker(Options(seed));
            _subject = PreferenceTracker.Open(Options(seed, PersistenceFor(_directory)));
            Assert.Equal(new RecoveryReport(false, 0, 0, 0, 0), _subject.Recovery);
        }

        internal JournalFlushPolicy Policy { get; }

        internal int Succeeded { get; private set; }

        internal int Rejected { get; private set; }

        internal int CheckedRejections { get; private set; }

        internal int Checkpoints { get; private set; }

        internal int Recoveries { get; private set; }

        internal int Copies { get; private set; }

        internal int Comparisons { get; private set; }

        internal void Drive(int calls)
        {
            for (int call = 0; call < calls; call++)
            {
                _clock = _clock.AddMinutes(_rng.Next(0, 20));
                int roll = _rng.Next(100);
                if (roll == 0)
                {
                    Recover();
                }
                else if (roll < 4)
                {
                    Checkpoint();
                }
                else
                {
                    Call(call);
                }
            }

            Compare();
            Assert.True(Recoveries > 0 && Checkpoints > 0, $"{Recoveries} recoveries, {Checkpoints} checkpoints: the run exercised no persistence");
            Assert.True(Rejected > calls / 10 && Succeeded > calls / 3, $"{Rejected} rejected, {Succeeded} succeeded: the generator is unbalanced");

            // Recommendations still work for a user the run never saw, once they have a history.
            _subject.Observe(new InteractionEvent("fresh", "i1", _clock, EventKind.Purchase));
            _subject.Observe(new InteractionEvent("fresh", "i2", _clock, EventKind.Purchase));
            _subject.FlushAsync().GetAwaiter().GetResult();
            RecommendationList list = _subject.Recommend("fresh", 5, new RecommendOptions { ExcludePurchased = false });
            Assert.NotEmpty(list);
            Assert.All(list, r => Assert.True(float.IsFinite(r.Score)));
        }

        public void Dispose()
        {
            _subject.Dispose();
            _oracle.Dispose();
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }

        private PersistenceOptions PersistenceFor(string directory) => new() { Directory = directory, SegmentBytes = 4096, JournalFlush = Policy };

        private void Call(int index)
        {
            int op = _rng.Next(Operations);
            bool check = op != FlushOp && _rng.Next(16) == 0; // compare whole state images around this call
            byte[]? before = null;
            if (check)
            {
                Flush(); // an idle learner, so only the call itself could change the image
                before = _subject.CaptureStateAsync().GetAwaiter().GetResult();
            }

            FuzzCall drawn = Draw(op, _rng, _clock);
            if (op == ForgetOp && ForgetUnderPersistence)
            {
                Flush(); // the erasure request then cannot overtake a full batch queued before it, in either tracker
            }

            (object? result, Exception? error) = Try(drawn, _subject);
            if (drawn.Writes && (op != ForgetOp || ForgetUnderPersistence))
            {
                (object? expectedResult, Exception? expected) = Try(drawn, _oracle);
                Assert.True(expected?.GetType() == error?.GetType() && Equals(expectedResult, result),
                    $"call {index} ({drawn}): the persisted tracker {Outcome(result, error)} but the uninterrupted one {Outcome(expectedResult, expected)}");
            }

            if (result is true && op == ForgetOp)
            {
                // With persistence on, an erasure returns once a checkpoint without the user is durable.
                _checkpointWritten = true;
                _recordsSinceCheckpoint = 0;
            }

            switch (error)
            {
                case null when op == ForgetOp && !ForgetUnderPersistence:
                    Assert.Fail($"call {index}: Forget succeeded with persistence on; erasure from files has landed, so turn {nameof(ForgetUnderPersistence)} on");
                    break;
                case null:
                    Succeeded++;
                    _recordsSinceCheckpoint += drawn.Records;
                    break;
                case ArgumentException e:
                    Rejected++;
                    Assert.False(string.IsNullOrEmpty(e.ParamName), $"'{e.Message}' names no argument");
                    break;
                case NotSupportedException when op == ForgetOp && !ForgetUnderPersistence:
                case not null when IsDocumentedRefusal(drawn, error, _subject):
                    break;
                default:
                    throw new InvalidOperationException($"call {index} ({drawn}) threw {error.GetType().Name}, which is neither an ArgumentException nor a documented refusal", error);
            }

            if (before is not null && error is not null)
            {
                CheckedRejections++;
                Assert.True(before.AsSpan().SequenceEqual(_subject.CaptureStateAsync().GetAwaiter().GetResult().AsSpan()),
                    $"call {index} ({drawn}) was refused with '{error.Message}' but changed the tracker's state");
            }

            if (op == FlushOp && error is null)
            {
                AssertParametersFinite(_subject);
                if (_comparePending)
                {
                    Compare();
                }
            }
        }

        private static (object? Result, Exception? Error) Try(FuzzCall call, PreferenceTracker tracker)
        {
            try
            {
                return (call.Apply(tracker), null);
            }
            catch (Exception e)
            {
                return (null, e);
            }
        }

        private static string Outcome(object? result, Exception? error) =>
            error is null ? $"accepted it (returning {result ?? "nothing"})" : $"threw {error.GetType().Name} ('{error.Message}')";

        /// <summary>Both trackers cut and learn what they have queued: the same cut, so their learners stay in step.</summary>
        private void Flush()
        {
            _subject.FlushAsync().GetAwaiter().GetResult();
            _oracle.FlushAsync().GetAwaiter().GetResult();
        }

        private void Checkpoint()
        {
            _subject.CheckpointAsync().GetAwaiter().GetResult();
            Checkpoints++;
            _checkpointWritten = true;
            _recordsSinceCheckpoint = 0;
        }

        /// <summary>Stops the persisted tracker one of three ways, reopens its directory (or a copy) and checks the report.</summary>
        private void Recover()
        {
            Recoveries++;
            if (_rng.Next(3) == 0)
            {
                Flush();
            }

            if (_rng.Next(4) == 0)
            {
                Checkpoint();
            }

            PreferenceTracker stopped = _subject;
            int mode = _rng.Next(3);
            bool copied = mode == 1 && Policy == JournalFlushPolicy.EveryRecord; // buffered policies promise nothing to a copy
            if (copied)
            {
                // A crash image: the files as they are while the tracker runs (the learner may be appending a batch boundary).
                string copy = TrackerPersistenceHarness.TempDirectory();
                TrackerPersistenceHarness.CopyDirectory(_directory, copy);
                stopped.Dispose();
                Directory.Delete(_directory, recursive: true);
                _directory = copy;
                Copies++;
            }
            else if (mode == 2)
            {
                // An orderly stop learns everything queued: the same cut as a flush.
                stopped.DisposeAsync().AsTask().GetAwaiter().GetResult();
                _oracle.FlushAsync().GetAwaiter().GetResult();
            }
            else
            {
                stopped.Dispose(); // a crash as far as the state goes: no checkpoint, queued events not learned
            }

            // Deliberate calls on the stopped tracker: these, and only these, may report that it is disposed.
            Assert.Throws<ObjectDisposedException>(() => stopped.Observe(new InteractionEvent("u1", "i1", _clock, EventKind.View)));
            Assert.Throws<ObjectDisposedException>(() => stopped.CheckpointAsync().GetAwaiter().GetResult());

            _subject = PreferenceTracker.Open(Options(_seed, PersistenceFor(_directory)));
            RecoveryReport report = _subject.Recovery!;
            Assert.Equal(_checkpointWritten, report.CheckpointUsed);
            Assert.True(_recordsSinceCheckpoint == report.EventsReplayed,
                $"recovery {Recoveries} replayed {report.EventsReplayed} events and feedback; {_recordsSinceCheckpoint} were accepted since the last checkpoint");
            if (!copied)
            {
                Assert.Equal(0, report.TornBytesDropped);
            }

            if (_rng.Next(2) == 0)
            {
                Compare();
            }
            else
            {
                _comparePending = true; // at the next flush: the queue the recovery rebuilt is first cut by count
            }
        }

        /// <summary>After a common flush: the saved state, the state image and the answers of the persisted tracker are the oracle's.</summary>
        private void Compare()
        {
            Flush();
            Comparisons++;
            _comparePending = false;
            Assert.True(TrackerPersistenceHarness.State(_oracle).AsSpan().SequenceEqual(TrackerPersistenceHarness.State(_subject)),
                $"after {Recoveries} recoveries the saved state differs from the uninterrupted run's");
            Assert.True(_oracle.CaptureStateAsync().GetAwaiter().GetResult().AsSpan().SequenceEqual(_subject.CaptureStateAsync().GetAwaiter().GetResult()),
                $"after {Recoveries} recoveries the state image differs from the uninterrupted run's");
            for (int u = 0; u < 8; u++)
            {
                string user = TrackerScenario.UserId(u);
                Assert.Equal(TrackerScenario.Render(_oracle.Recommend(user, 10)), TrackerScenario.Render(_subject.Recommend(user, 10)));
            }

            AssertParametersFinite(_subject);
        }
    }
}

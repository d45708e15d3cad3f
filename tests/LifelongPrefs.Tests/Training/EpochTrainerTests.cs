using LifelongPrefs.Nn;
using LifelongPrefs.Tests.Infrastructure;
using LifelongPrefs.Training;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Tests.Training;

/// <summary>
/// The shared training loop on a toy model whose validation curve is scripted: patience counting, best-epoch
/// restore (parameters and batch-norm running statistics, bit for bit), cancellation, skipped NaN steps, hooks,
/// batching and seeds. The oracle is the toy model's own record of what it saw at every epoch.
/// </summary>
public class EpochTrainerTests
{
    private const int Width = 4;

    [Fact]
    public void Patience_counts_stale_epochs_and_stops_after_that_many()
    {
        // Best at epoch 2; epochs 3, 4, 5 are stale (0.25 and 0.29 do not beat 0.3, nor does an equal 0.3).
        var model = new ToyModel(examples: 12, metrics: [0.1, 0.3, 0.25, 0.3, 0.29, 0.9, 0.9]);
        var reports = new List<TrainingProgress>();
        TrainingRun run = new EpochTrainer().Run(model, 12, new EpochPlan(4, 50, 3, Validate: model.Validate), new ListProgress(reports), default);

        Assert.Equal(5, run.Epochs);
        Assert.Equal(2, run.BestEpoch);
        Assert.Equal(0.3, run.BestMetric);
        Assert.Equal(15, run.Steps);
        Assert.Equal([1, 2, 3, 4, 5], reports.Select(r => r.Epoch));

        // The planned end moves with the patience left: epoch + (3 − stale), never past the cap.
        Assert.Equal([4, 5, 5, 5, 5], reports.Select(r => r.TotalEpochs));
        Assert.Equal(model.Metrics.Take(5), reports.Select(r => r.ValidationMetric));
        Assert.All(reports, r => Assert.True(r.Loss > 0 && r.Remaining >= TimeSpan.Zero));
    }

    [Fact]
    public void The_best_epoch_is_restored_bit_for_bit_including_batch_norm_statistics()
    {
        var model = new ToyModel(examples: 10, metrics: [0.2, 0.5, 0.4, 0.45]);
        new EpochTrainer().Run(model, 10, new EpochPlan(3, 50, 2, Validate: model.Validate), null, default);

        // The live values differ from epoch 2's before the restore (epochs 3 and 4 moved them) …
        Assert.NotEqual(model.SeenWeights[1], model.SeenWeights[3]);
        Assert.NotEqual(model.SeenMeans[1], model.SeenMeans[3]);

        // … and are epoch 2's after it.
        Assert.Equal(model.SeenWeights[1], model.Weight.Value.Span.ToArray());
        Assert.Equal(model.SeenMeans[1], model.Norm.RunningMean.ToArray());
        Assert.Equal(model.SeenVariances[1], model.Norm.RunningVariance.ToArray());
    }

    [Fact]
    public void Without_validation_every_epoch_runs_and_the_last_one_is_kept()
    {
        var model = new ToyModel(examples: 10, metrics: []);
        var reports = new List<TrainingProgress>();
        TrainingRun run = new EpochTrainer().Run(model, 10, new EpochPlan(4, 6, 1, Validate: null), new ListProgress(reports), default);

        Assert.Equal(6, run.Epochs);
        Assert.Equal(6, run.BestEpoch);
        Assert.True(double.IsNaN(run.BestMetric));
        Assert.Equal(0, model.ValidateCalls);
        Assert.All(reports, r => Assert.Equal(6, r.TotalEpochs));
        Assert.All(reports, r => Assert.True(double.IsNaN(r.ValidationMetric)));
    }

    [Fact]
    public void Cancellation_stops_between_batches_and_keeps_the_finished_steps()
    {
        var model = new ToyModel(examples: 20, metrics: [0.1, 0.2, 0.3]);
        using var cancel = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        var progress = new ListProgress(reports, _ => cancel.Cancel());

        Assert.Throws<OperationCanceledException>(() =>
            new EpochTrainer().Run(model, 20, new EpochPlan(5, 50, 3, Validate: model.Validate), progress, cancel.Token));
        Assert.Single(reports);
        Assert.Equal(4, model.Batches.Count); // one epoch of four batches, nothing after the cancel
        Assert.True(model.TrainingMode); // the loop leaves the model in training mode
    }

    [Fact]
    public void A_planted_NaN_gradient_skips_that_step_and_is_counted()
    {
        // Example 7 poisons its batch: once per epoch the optimizer refuses the step.
        var model = new ToyModel(examples: 16, metrics: [], poisonedExample: 7);
        var trainer = new EpochTrainer();
        var reports = new List<TrainingProgress>();
        TrainingRun run = trainer.Run(model, 16, new EpochPlan(4, 5, 1, Validate: null), new ListProgress(reports), default);

        Assert.Equal(5, run.SkippedSteps);
        Assert.Equal(5, trainer.SkippedSteps);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], reports.Select(r => r.SkippedSteps));
        Assert.Equal(20 - 5, model.Optimizer.StepCount);
        Assert.True(model.Weight.Value.Span.ToArray().All(float.IsFinite));

        // A second run reports its own skips; the trainer's property keeps the total.
        run = trainer.Run(model, 16, new EpochPlan(4, 2, 1, Validate: null), null, default);
        Assert.Equal(2, run.SkippedSteps);
        Assert.Equal(7, trainer.SkippedSteps);
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches_and_weights()
    {
        static (List<int[]> Batches, float[] Weight) Train(int seed)
        {
            var model = new ToyModel(examples: 23, metrics: [0.1, 0.2, 0.15, 0.3, 0.1, 0.1], seed: seed);
            new EpochTrainer().Run(model, 23, new EpochPlan(5, 50, 2, Validate: model.Validate), null, default);
            return (model.Batches, model.Weight.Value.Span.ToArray());
        }

        var (batchesA, weightA) = Train(11);
        var (batchesB, weightB) = Train(11);
        var (batchesC, _) = Train(12);
        Assert.Equal(batchesA, batchesB);
        Assert.Equal(weightA, weightB);
        Assert.NotEqual(batchesA, batchesC);

        // Every epoch is a permutation of all examples.
        foreach (var epoch in batchesA.Chunk(5))
        {
            Assert.Equal(Enumerable.Range(0, 23), epoch.SelectMany(b => b).Order());
        }
    }

    [Fact]
    public void A_short_last_batch_is_trained_only_when_it_reaches_the_minimum()
    {
        var model = new ToyModel(examples: 10, metrics: []);
        new EpochTrainer().Run(model, 10, new EpochPlan(4, 1, 1, Validate: null, MinimumBatch: 3), null, default);
        Assert.Equal([4, 4], model.Batches.Select(b => b.Length));

        model = new ToyModel(examples: 11, metrics: []);
        new EpochTrainer().Run(model, 11, new EpochPlan(4, 1, 1, Validate: null, MinimumBatch: 3), null, default);
        Assert.Equal([4, 4, 3], model.Batches.Select(b => b.Length));
    }

    [Fact]
    public void Hooks_run_between_backward_and_the_optimizer_step()
    {
        var model = new ToyModel(examples: 4, metrics: []);
        var trainer = new EpochTrainer();
        var probe = new ProbeHook(model);
        trainer.Hooks.Add(probe);
        trainer.Hooks.Add(new L2Penalty(0.5f, _ => true));
        float[] before = model.Weight.Value.Span.ToArray();
        float loss = trainer.Step(model, [0, 1, 2, 3]);

        // The probe saw the backward pass's gradient before any update; L2 then added λ·w and its loss term.
        Assert.Equal(0, probe.StepCountSeen);
        Assert.Equal(model.LastGradient, probe.GradientSeen);
        float penalty = 0.25f * before.Sum(w => w * w);
        Assert.Equal(model.LastLoss + penalty, loss, 5);
        for (int j = 0; j < Width; j++)
        {
            float expected = before[j] - (ToyModel.LearningRate * (model.LastGradient[j] + (0.5f * before[j])));
            Assert.Equal(expected, model.Weight.Value.Span[j], 6);
        }

        Assert.All(model.Weight.Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void A_step_with_a_hook_allocates_nothing_after_warm_up()
    {
        var model = new LeanModel();
        var trainer = new EpochTrainer();
        trainer.Hooks.Add(new L2Penalty(1e-3f, _ => true));
        int[] batch = [0, 1, 2];
        Allocations.AssertNone("EpochTrainer.Step", () => trainer.Step(model, batch));
        Assert.Equal(4, model.Optimizer.StepCount);
    }

    [Fact]
    public void Early_stopping_rule_counts_a_NaN_or_an_equal_metric_as_stale()
    {
        var rule = new EarlyStopping(2);
        Assert.True(rule.Observe(1, 0.5));
        Assert.False(rule.Observe(2, double.NaN));
        Assert.False(rule.ShouldStop);
        Assert.False(rule.Observe(3, 0.5));
        Assert.True(rule.ShouldStop);
        Assert.Equal(1, rule.BestEpoch);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(0));
    }

    /// <summary>
    /// A 1×4 weight pulled towards per-example targets (loss ½‖w − t‖² averaged over the batch), plus a batch-norm
    /// layer fed the batch's targets in training mode so its running statistics change every step. The validation
    /// metric of epoch e is <c>metrics[e − 1]</c>; every call records the weight and statistics it saw.
    /// </summary>
    private sealed class ToyModel : IEpochModel
    {
        internal const float LearningRate = 0.1f;
        private readonly float[] _targets;
        private readonly int _poisoned;
        private readonly SeededRandom _random;

        internal ToyModel(int examples, double[] metrics, int poisonedExample = -1, int seed = 3)
        {
            Metrics = metrics;
            _poisoned = poisonedExample;
            _random = new SeededRandom(seed);
            _targets = TestData.Uniform(examples * Width, 17);
            Weight = new Parameter("w", Tensor.FromArray(TestData.Uniform(Width, 5), 1, Width));
            Optimizer = new Sgd([Weight], LearningRate);
        }

        public string Name => "Toy";

        public Optimizer Optimizer { get; }

        public Random Random => _random;

        public IReadOnlyList<Tensor> SnapshotBuffers => [Norm.RunningMeanTensor, Norm.RunningVarianceTensor];

        internal double[] Metrics { get; }

        internal Parameter Weight { get; }

        internal BatchNorm1d Norm { get; } = new(Width);

        internal List<int[]> Batches { get; } = [];

        internal List<float[]> SeenWeights { get; } = [];

        internal List<float[]> SeenMeans { get; } = [];

        internal List<float[]> SeenVariances { get; } = [];

        internal int ValidateCalls { get; private set; }

        internal bool TrainingMode { get; private set; } = true;

        internal float[] LastGradient { get; private set; } = [];

        internal float LastLoss { get; private set; }

        public float Backward(ReadOnlySpan<int> examples)
        {
            Assert.True(TrainingMode);
            Batches.Add(examples.ToArray());
            var batch = new Tensor(examples.Length, Width);
            Span<float> gradient = Weight.Gradient.Span;
            ReadOnlySpan<float> w = Weight.Value.Span;
            double loss = 0;
            for (int r = 0; r < examples.Length; r++)
            {
                ReadOnlySpan<float> target = _targets.AsSpan(examples[r] * Width, Width);
                target.CopyTo(batch.Span.Slice(r * Width, Width));
                for (int j = 0; j < Width; j++)
                {
                    float diff = w[j] - target[j];
                    loss += 0.5 * diff * diff / examples.Length;
                    gradient[j] += diff / examples.Length;
                }
            }

            if (examples.Length >= 2)
            {
                Norm.Forward(batch);
            }

            if (examples.Contains(_poisoned))
            {
                gradient[1] = float.NaN;
            }

            (LastGradient, LastLoss) = (gradient.ToArray(), (float)loss);
            return (float)loss;
        }

        public double Validate()
        {
            Assert.False(TrainingMode);
            SeenWeights.Add(Weight.Value.Span.ToArray());
            SeenMeans.Add(Norm.RunningMean.ToArray());
            SeenVariances.Add(Norm.RunningVariance.ToArray());
            return Metrics[ValidateCalls++];
        }

        public void SetTraining(bool training)
        {
            TrainingMode = training;
            Norm.Training = training;
        }
    }

    /// <summary>A model whose backward pass writes a fixed gradient, so the step's own allocations are measured.</summary>
    private sealed class LeanModel : IEpochModel
    {
        private readonly Parameter _weight = new("w", new Tensor(1, Width));

        internal LeanModel() => Optimizer = new Adam([_weight], 0.01f);

        public string Name => "Lean";

        public Optimizer Optimizer { get; }

        public Random Random { get; } = new SeededRandom(1);

        public float Backward(ReadOnlySpan<int> examples)
        {
            _weight.Gradient.Span.Fill(examples.Length);
            return 1f;
        }
    }

    private sealed class ProbeHook(ToyModel model) : IGradientHook
    {
        internal long StepCountSeen { get; private set; } = -1;

        internal float[] GradientSeen { get; private set; } = [];

        public float Apply(IReadOnlyList<Parameter> parameters)
        {
            Assert.Same(model.Weight, Assert.Single(parameters));
            StepCountSeen = model.Optimizer.StepCount;
            GradientSeen = parameters[0].Gradient.Span.ToArray();
            return 0f;
        }
    }

    /// <summary>A synchronous progress sink (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class ListProgress(List<TrainingProgress> reports, Action<TrainingProgress>? then = null) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            reports.Add(value);
            then?.Invoke(value);
        }
    }
}

using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Privacy;
using LifelongPrefs.Tests.Lifelong.Continual;
using LifelongPrefs.Training;
using static LifelongPrefs.Tests.Lifelong.TrackerScenario;

namespace LifelongPrefs.Tests.Privacy;

/// <summary>DP-SGD in the continual BPR-MF updates: clipping against an independent per-user gradient, the noise's statistics, determinism, and the off switch.</summary>
public class DpSgdTests
{
    private static readonly ShiftStream Stream = new(users: 40, before: 8, after: 8, heldOut: 2, seed: 9);

    private static BprMf Tiny(int seed, int batch = 8) =>
        new(new BprMfOptions { Dimensions = 3, BatchSize = batch, MaxEpochs = 2, ValidationUsers = 0, UpdateEpochs = 2, Seed = seed });

    private static ContinualOptions Private(DpOptions dp, int seed = 0) => new() { DifferentialPrivacy = dp, Seed = seed };

    private static ContinualLearner Learned(ContinualOptions options, int modelSeed = 3)
    {
        var learner = new ContinualLearner(ContinualShiftTests.Model(modelSeed), options);
        learner.Update(Stream.Before, Stream.Users, ShiftStream.Items);
        foreach (Interaction[] chunk in Stream.AfterIn(3))
        {
            learner.Update(chunk, Stream.Users, ShiftStream.Items);
        }

        return learner;
    }

    private static float[][] Values(ContinualLearner learner) => [.. ((BprMf)learner.Model).Parameters.Select(p => p.Value.Span.ToArray())];

    /// <summary>Σ_k −log σ(p_u·(q_i − q_j) + b_i − b_j) over one user's triples, in double, from flat copies of the tables.</summary>
    private static double UserLoss(List<(int User, int Item, int Negative)> triples, int user, double[] users, double[] items, double[] bias, int d)
    {
        double loss = 0;
        foreach ((int u, int i, int j) in triples.Where(t => t.User == user))
        {
            double x = bias[i] - bias[j];
            for (int c = 0; c < d; c++)
            {
                x += users[u * d + c] * (items[i * d + c] - items[j * d + c]);
            }

            loss += Math.Log(1 + Math.Exp(-x));
        }

        return loss;
    }

    [Property(MaxTest = 20)]
    public void Each_users_contribution_is_clipped_as_an_independent_gradient_says(PositiveInt seed, PositiveInt clip)
    {
        // A tiny model; the users' pairs from random events; one private backward pass with q = 1 and no noise.
        int d = 3, users = 4, items = 6, batch = 8;
        float c = 0.002f + clip.Get % 100 / 200f;
        var random = new Random(seed.Get);
        BprMf model = Tiny(seed.Get, batch);
        IContinualModel seam = model;
        Interaction[] events = [.. Enumerable.Range(0, 14).Select(k => new Interaction(random.Next(users), random.Next(items), k, EventKind.Purchase, 1, 1, -1))];
        var fresh = new List<ContinualPair>();
        seam.BeginUpdate(events, users, items, fresh);
        List<(int User, int Item)> pairs = [.. fresh.Select(p => (p.User, p.Item))];

        // Larger factors than the initialisation's, so that some users' gradients exceed C and others do not.
        foreach (LifelongPrefs.Nn.Parameter p in model.Parameters)
        {
            Span<float> v = p.Value.Span;
            for (int k = 0; k < v.Length; k++)
            {
                v[k] = (float)(random.NextDouble() * 2 - 1);
            }
        }

        model.BeginPrivate(pairs, [], new PrivateUpdatePlan(c, 0, 1, 1, new SeededRandom(1)));
        int groups = pairs.Select(p => p.User).Distinct().Count();
        model.PrivateBackward([.. Enumerable.Range(0, groups)]);
        model.EndPrivate();

        double[] uu = [.. seam.UserFactors.Value.Span.ToArray().Select(x => (double)x)];
        double[] qq = [.. seam.ItemFactors.Value.Span.ToArray().Select(x => (double)x)];
        double[] bb = [.. seam.ItemBias.Value.Span.ToArray().Select(x => (double)x)];
        var expectedItems = new double[qq.Length];
        var expectedBias = new double[bb.Length];
        List<(int User, int Item, int Negative)> triples = model.LastPrivateTriples;
        int[] order = [.. pairs.Select(p => p.User).Distinct()];
        Assert.Equal(order.Length, model.LastPrivateNorms.Count);
        const double H = 1e-6;
        for (int g = 0; g < order.Length; g++)
        {
            int user = order[g];

            // Central differences of this user's loss over every shared element: the independent per-example gradient.
            var grad = new double[qq.Length + bb.Length];
            for (int e = 0; e < grad.Length; e++)
            {
                double[] table = e < qq.Length ? qq : bb;
                int at = e < qq.Length ? e : e - qq.Length;
                double keep = table[at];
                table[at] = keep + H;
                double up = UserLoss(triples, user, uu, qq, bb, d);
                table[at] = keep - H;
                double down = UserLoss(triples, user, uu, qq, bb, d);
                table[at] = keep;
                grad[e] = (up - down) / (2 * H);
            }

            double norm = Math.Sqrt(grad.Sum(x => x * x));
            Assert.Equal(norm, model.LastPrivateNorms[g], 1e-4 + 1e-3 * norm);
            double scale = Math.Min(1, c / norm) / batch;
            Assert.True(Math.Min(norm, c) <= c + 1e-12);
            for (int e = 0; e < grad.Length; e++)
            {
                if (e < qq.Length)
                {
                    expectedItems[e] += scale * grad[e];
                }
                else
                {
                    expectedBias[e - qq.Length] += scale * grad[e];
                }
            }
        }

        // The model's summed item gradient is the sum of the clipped per-user gradients (float32 tolerance).
        float[] itemGrad = seam.ItemFactors.Gradient.Span.ToArray(), biasGrad = seam.ItemBias.Gradient.Span.ToArray();
        for (int e = 0; e < itemGrad.Length; e++)
        {
            Assert.Equal(expectedItems[e], itemGrad[e], 1e-5 + 1e-3 * Math.Abs(expectedItems[e]));
        }

        for (int e = 0; e < biasGrad.Length; e++)
        {
            Assert.Equal(expectedBias[e], biasGrad[e], 1e-5 + 1e-3 * Math.Abs(expectedBias[e]));
        }
    }

    [Fact]
    public void The_noise_on_every_item_element_has_mean_zero_and_variance_sigma_c_squared()
    {
        // No user sampled: the gradient is the noise alone, on all 2,000 × (4 + 1) elements, divided by the batch size.
        int items = 2000, batch = 16;
        float sigmaC = 3;
        var model = new BprMf(new BprMfOptions { Dimensions = 4, BatchSize = batch, MaxEpochs = 1, ValidationUsers = 0, Seed = 1 });
        IContinualModel seam = model;
        seam.BeginUpdate([new Interaction(0, 0, 0, EventKind.Purchase, 1, 1, -1)], 1, items, []);
        model.BeginPrivate([], [], new PrivateUpdatePlan(1, sigmaC, 1, 1, new SeededRandom(7)));
        model.PrivateBackward([]);
        model.EndPrivate();
        double[] noise = [.. seam.ItemFactors.Gradient.Span.ToArray().Concat(seam.ItemBias.Gradient.Span.ToArray()).Select(x => (double)x * batch)];
        Assert.Equal(items * 5, noise.Length);
        double mean = noise.Average(), variance = noise.Sum(x => (x - mean) * (x - mean)) / (noise.Length - 1);

        // 5 standard errors: the mean's is σC/√n ≈ 0.042, the variance's (σC)²·√(2/n) ≈ 0.18.
        Assert.InRange(mean, -5 * sigmaC / Math.Sqrt(noise.Length), 5 * sigmaC / Math.Sqrt(noise.Length));
        Assert.InRange(variance, sigmaC * sigmaC * (1 - 5 * Math.Sqrt(2.0 / noise.Length)), sigmaC * sigmaC * (1 + 5 * Math.Sqrt(2.0 / noise.Length)));
        Assert.Equal(items, seam.ItemFactors.TouchedRows.Length);
    }

    [Fact]
    public void The_same_seed_gives_the_same_parameters_and_another_seed_others()
    {
        var dp = new DpOptions { Enabled = true, ClipNorm = 0.5f, NoiseMultiplier = 1.2, SamplingRate = 0.2 };
        ContinualLearner a = Learned(Private(dp)), b = Learned(Private(dp)), other = Learned(Private(dp, seed: 5));
        Assert.Equal(Values(a), Values(b));
        Assert.NotEqual(Values(a), Values(other));
        Assert.All(Values(a), v => Assert.All(v, x => Assert.True(float.IsFinite(x))));
    }

    [Fact]
    public void Privacy_off_is_bit_identical_to_the_ordinary_update()
    {
        var off = new DpOptions { Enabled = false, ClipNorm = 1e-3f, NoiseMultiplier = 100, SamplingRate = 0.5 };
        ContinualLearner plain = Learned(new ContinualOptions()), disabled = Learned(new ContinualOptions { DifferentialPrivacy = off });
        Assert.Equal(Values(plain), Values(disabled));
        Assert.False(disabled.IsPrivate);
        Assert.Equal(double.PositiveInfinity, disabled.PrivacySpent(1e-5));

        // And the private path really is another path.
        ContinualLearner on = Learned(new ContinualOptions { DifferentialPrivacy = new DpOptions { Enabled = true } });
        Assert.NotEqual(Values(plain), Values(on));
    }

    [Fact]
    public void The_spent_epsilon_composes_every_private_step()
    {
        var dp = new DpOptions { Enabled = true, NoiseMultiplier = 1.5, SamplingRate = 0.25, Conversion = RdpConversion.Classic };
        ContinualLearner learner = Learned(Private(dp));
        int updates = 1 + 3, stepsPerUpdate = (int)Math.Ceiling(10 / 0.25);   // UpdateEpochs = 10 in ContinualShiftTests.Model
        Assert.Equal(updates * stepsPerUpdate, learner.PrivateSteps);
        Assert.Equal(RdpAccountant.EpsilonFor(0.25, 1.5, updates * stepsPerUpdate, 1e-6, RdpConversion.Classic), learner.PrivacySpent(1e-6));
        Assert.True(learner.PrivacySpent(1e-6) > learner.PrivacySpent(1e-3));
    }

    [Fact]
    public void A_target_epsilon_is_met_after_the_planned_updates_and_passed_after_more()
    {
        var dp = new DpOptions { Enabled = true, TargetEpsilon = 2, Delta = 1e-5, SamplingRate = 0.2, PlannedUpdates = 4 };
        ContinualLearner learner = Learned(Private(dp));   // exactly 4 updates
        Assert.InRange(learner.PrivacySpent(1e-5), 1.99, 2.0);
        learner.Update(Stream.Before, Stream.Users, ShiftStream.Items);
        Assert.True(learner.PrivacySpent(1e-5) > 2);
    }

    [Theory]
    [InlineData(1e6f, 1e6)]
    [InlineData(1e-6f, 1e-6)]
    [InlineData(1e6f, 1e-6)]
    [InlineData(1e-6f, 1e6)]
    public void Extreme_clipping_and_noise_put_no_nan_into_the_parameters(float clip, double sigma)
    {
        ContinualLearner learner = Learned(Private(new DpOptions { Enabled = true, ClipNorm = clip, NoiseMultiplier = sigma, SamplingRate = 0.5 }));
        Assert.All(Values(learner), v => Assert.All(v, x => Assert.True(float.IsFinite(x))));
        Span<int> top = stackalloc int[5];
        Assert.Equal(5, learner.Recommend(0, [], top, []));
    }

    [Fact]
    public void Bad_privacy_options_are_rejected_by_name()
    {
        ArgumentOutOfRangeException Bad(DpOptions dp) =>
            Assert.Throws<ArgumentOutOfRangeException>(() => new ContinualLearner(ContinualShiftTests.Model(), Private(dp)));

        Assert.Equal("ClipNorm", Bad(new DpOptions { Enabled = true, ClipNorm = 0 }).ParamName);
        Assert.Equal("ClipNorm", Bad(new DpOptions { Enabled = true, ClipNorm = float.NaN }).ParamName);
        Assert.Equal("NoiseMultiplier", Bad(new DpOptions { Enabled = true, NoiseMultiplier = -1 }).ParamName);
        Assert.Equal("SamplingRate", Bad(new DpOptions { Enabled = true, SamplingRate = 0 }).ParamName);
        Assert.Equal("Delta", Bad(new DpOptions { Enabled = true, Delta = 1 }).ParamName);
        Assert.Equal("TargetEpsilon", Bad(new DpOptions { Enabled = true, TargetEpsilon = double.PositiveInfinity }).ParamName);
        Assert.Equal("PlannedUpdates", Bad(new DpOptions { Enabled = true, PlannedUpdates = 0 }).ParamName);
        Assert.Contains("DpOptions.SamplingRate is 1.5", Bad(new DpOptions { Enabled = true, SamplingRate = 1.5 }).Message, StringComparison.Ordinal);
        var distilled = new ContinualOptions { DifferentialPrivacy = new DpOptions { Enabled = true }, DistillationWeight = 0.5f };
        Assert.Equal("DistillationWeight", Assert.Throws<ArgumentException>(() => new ContinualLearner(ContinualShiftTests.Model(), distilled)).ParamName);

        // A disabled block is not checked (it changes nothing).
        _ = new ContinualLearner(ContinualShiftTests.Model(), Private(new DpOptions { ClipNorm = -1 }));
    }

    [Fact]
    public void Options_changed_after_the_learner_was_created_change_nothing()
    {
        var dp = new DpOptions { Enabled = true, NoiseMultiplier = 2, SamplingRate = 0.2 };
        var learner = new ContinualLearner(ContinualShiftTests.Model(), Private(dp));
        dp.NoiseMultiplier = 0.1;
        dp.Enabled = false;
        Assert.Equal(2, learner.NoiseMultiplier);
        Assert.True(learner.IsPrivate);
    }

    [Fact]
    public async Task The_tracker_reports_the_epsilon_of_its_private_learner()
    {
        var bpr = new BprMf(new BprMfOptions { Dimensions = 8, BatchSize = 64, MaxEpochs = 5, ValidationUsers = 0, UpdateEpochs = 2, Seed = 2 });
        var options = new TrackerOptions
        {
            MicroBatchSize = 64, FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8,
            Continual = new ContinualOptions { DifferentialPrivacy = new DpOptions { Enabled = true, NoiseMultiplier = 2, SamplingRate = 0.5 } },
        };
        await using PreferenceTracker tracker = Create(options, bpr);
        Assert.Equal(0, tracker.PrivacySpent(1e-5));
        tracker.Observe(Events(users: 20, items: 30, categories: 3, days: 10, seed: 4));
        await tracker.FlushAsync();
        double eps = tracker.PrivacySpent(1e-5);
        Assert.True(eps > 0 && double.IsFinite(eps), $"ε = {eps}");
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => tracker.PrivacySpent(0)).ParamName);

        await using PreferenceTracker plain = Create(new TrackerOptions { FlushInterval = Timeout.InfiniteTimeSpan, Dimensions = 8 }, null);
        Assert.Equal(double.PositiveInfinity, plain.PrivacySpent(1e-5));
    }
}

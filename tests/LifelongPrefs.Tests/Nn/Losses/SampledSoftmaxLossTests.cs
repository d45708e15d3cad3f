using FsCheck;
using FsCheck.Xunit;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Tests.Infrastructure;
using static LifelongPrefs.Tests.Nn.Losses.LossTestSupport;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Nn.Losses;

public class SampledSoftmaxLossTests
{
    /// <summary>One generated problem: N examples, S negatives, optional logQ, ids (with hits), weights, mask.</summary>
    private sealed class Problem
    {
        public required int N { get; init; }
        public required int S { get; init; }
        public required float[] Positive { get; init; }
        public required float[] Negative { get; init; }
        public float[] PositiveLogQ { get; init; } = [];
        public float[] NegativeLogQ { get; init; } = [];
        public int[] PositiveIds { get; init; } = [];
        public int[] NegativeIds { get; init; } = [];
        public float[]? Weights { get; init; }
        public float[]? Mask { get; init; }

        public float Compute(ReadOnlySpan<float> positive, ReadOnlySpan<float> negative, Span<float> gp, Span<float> gn) =>
            SampledSoftmaxLoss.Compute(positive, negative, S, PositiveLogQ, NegativeLogQ, PositiveIds, NegativeIds,
                Weights, Mask, gp, gn);

        /// <summary>Naive double reference: log Σ exp over the corrected candidates (hits removed) minus the positive's.</summary>
        public double Reference(double[] positive, double[] negative) =>
            Reduce(N, Weights, Mask, i =>
            {
                double o0 = positive[i] - (PositiveLogQ.Length == 0 ? 0 : PositiveLogQ[i]);
                double sum = Math.Exp(o0);
                for (int j = 0; j < S; j++)
                {
                    int k = (i * S) + j;
                    int shared = NegativeIds.Length == S && N != 1 ? j : k;
                    if (PositiveIds.Length > 0 && NegativeIds[shared] == PositiveIds[i])
                    {
                        continue;
                    }

                    double logQ = NegativeLogQ.Length == 0 ? 0 : NegativeLogQ[NegativeLogQ.Length == S && N != 1 ? j : k];
                    sum += Math.Exp(negative[k] - logQ);
                }

                return Math.Log(sum) - o0;
            });
    }

    private static Problem Generate(int n, int s, int seed, bool logQ, bool sharedLogQ, bool hits, bool sharedIds,
        bool weighted, bool masked)
    {
        var random = new Random(seed);
        float[] LogQ(int count)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = (float)Math.Log((random.NextDouble() * 0.1) + 1e-4);
            }

            return values;
        }

        int[] Ids(int count)
        {
            var ids = new int[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = random.Next(5);
            }

            return ids;
        }

        return new Problem
        {
            N = n,
            S = s,
            Positive = TestData.Uniform(n, seed + 1, 3f),
            Negative = TestData.Uniform(n * s, seed + 2, 3f),
            PositiveLogQ = logQ ? LogQ(n) : [],
            NegativeLogQ = logQ ? LogQ(sharedLogQ ? s : n * s) : [],
            // Ids drawn from 5 values so accidental hits are common.
            PositiveIds = hits ? Ids(n) : [],
            NegativeIds = hits ? Ids(sharedIds ? s : n * s) : [],
            Weights = weighted ? RandomWeights(n, seed + 3) : null,
            Mask = masked ? RandomMask(n, seed + 4) : null,
        };
    }

    [Property(MaxTest = 50)]
    public void Matches_double_reference_and_its_numeric_gradient(PositiveInt nSeed, PositiveInt sSeed, int seed,
        bool logQ, bool hits, bool shared, bool weighted, bool masked)
    {
        Problem p = Generate(1 + (nSeed.Get % 5), sSeed.Get % 7, seed, logQ, shared, hits, shared, weighted, masked);
        float[] gp = new float[p.N], gn = new float[p.N * p.S];

        float loss = p.Compute(p.Positive, p.Negative, gp, gn);

        double[] pos = ToDouble(p.Positive), neg = ToDouble(p.Negative);
        AssertLoss(p.Reference(pos, neg), loss);
        AssertGradient(NumericGradient(pos, x => p.Reference(x, neg)), gp, "d/dpositive");
        AssertGradient(NumericGradient(neg, x => p.Reference(pos, x)), gn, "d/dnegative");
    }

    [Fact]
    public void With_zero_logQ_equals_full_cross_entropy_over_the_candidates()
    {
        const int n = 4, s = 6;
        float[] positive = TestData.Uniform(n, 1, 3f), negative = TestData.Uniform(n * s, 2, 3f);
        float[] w = [1f, 0.5f, 2f, 1f], m = [1, 1, 0, 1];
        float[] gp = new float[n], gn = new float[n * s];
        float sampled = SampledSoftmaxLoss.Compute(positive, negative, s, [], [], w, m, gp, gn);

        // The same candidates as a dense (N, 1+S) matrix with target column 0.
        float[] logits = new float[n * (s + 1)];
        for (int i = 0; i < n; i++)
        {
            logits[i * (s + 1)] = positive[i];
            negative.AsSpan(i * s, s).CopyTo(logits.AsSpan((i * (s + 1)) + 1));
        }

        float[] g = new float[logits.Length];
        float full = SoftmaxCrossEntropyLoss.Compute(logits, n, s + 1, new int[n], w, m, g);

        Assert.Equal(full, sampled, 1e-6f);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(g[i * (s + 1)], gp[i], 1e-7f);
            for (int j = 0; j < s; j++)
            {
                Assert.Equal(g[(i * (s + 1)) + 1 + j], gn[(i * s) + j], 1e-7f);
            }
        }
    }

    [Fact]
    public void A_constant_logQ_as_from_a_uniform_sampler_cancels()
    {
        const int n = 3, s = 4;
        float[] positive = TestData.Uniform(n, 3, 3f), negative = TestData.Uniform(n * s, 4, 3f);
        float logQ = (float)-Math.Log(1000);
        float[] posQ = [logQ, logQ, logQ], negQ = [logQ, logQ, logQ, logQ];
        float[] gp1 = new float[n], gn1 = new float[n * s], gp2 = new float[n], gn2 = new float[n * s];
        float plain = SampledSoftmaxLoss.Compute(positive, negative, s, [], [], [], [], gp1, gn1);
        float corrected = SampledSoftmaxLoss.Compute(positive, negative, s, posQ, negQ, [], [], gp2, gn2);
        Assert.Equal(plain, corrected, 1e-5f);
        for (int i = 0; i < gn1.Length; i++)
        {
            Assert.Equal(gn1[i], gn2[i], 1e-6f);
        }
    }

    [Fact]
    public void LogQ_correction_lowers_frequent_negatives_exactly_by_their_logQ()
    {
        // Example: s⁺ = 1, negatives 1 and 1 with Q = 0.5 and 0.01; corrected logits 1 − ln 1, 1 − ln .5, 1 − ln .01.
        float[] gp = new float[1], gn = new float[2];
        float loss = SampledSoftmaxLoss.Compute([1f], [1f, 1f], 2, [0f], [(float)Math.Log(0.5), (float)Math.Log(0.01)], [], [], gp, gn);
        double z = 1 + 2 + 100; // e^(−log Q) relative weights 1, 1/0.5, 1/0.01
        Assert.Equal(Math.Log(z), loss, 1e-5);
        Assert.Equal(1 / z - 1, gp[0], 1e-6);
        Assert.Equal(2 / z, gn[0], 1e-6);
        Assert.Equal(100 / z, gn[1], 1e-6);
    }

    [Fact]
    public void Shared_negative_logQ_and_ids_equal_their_broadcast_form()
    {
        const int n = 3, s = 4;
        float[] positive = TestData.Uniform(n, 5, 2f), negative = TestData.Uniform(n * s, 6, 2f);
        float[] negQ = [-1f, -2f, -3f, -4f];
        int[] negIds = [7, 8, 9, 7];
        float[] broadQ = [.. negQ, .. negQ, .. negQ];
        int[] broadIds = [.. negIds, .. negIds, .. negIds];
        int[] posIds = [7, 1, 9];
        float[] gp1 = new float[n], gn1 = new float[n * s], gp2 = new float[n], gn2 = new float[n * s];
        float a = SampledSoftmaxLoss.Compute(positive, negative, s, [], negQ, posIds, negIds, [], [], gp1, gn1);
        float b = SampledSoftmaxLoss.Compute(positive, negative, s, [], broadQ, posIds, broadIds, [], [], gp2, gn2);
        Assert.Equal(b, a);
        Assert.Equal(gp2, gp1);
        Assert.Equal(gn2, gn1);
    }

    [Fact]
    public void Accidental_hits_are_removed_with_exactly_zero_gradient()
    {
        float[] gp = new float[2], gn = new float[6];
        // Example 0 (item 5) sampled itself at position 1; example 1 (item 2) at positions 0 and 2.
        float loss = SampledSoftmaxLoss.Compute([0f, 0f], [0f, 9f, 0f, 9f, 0f, 9f], 3, [], [], [5, 2], [1, 5, 3, 2, 4, 2], [], [], gp, gn);
        Assert.Equal(0f, gn[1]);
        Assert.Equal(0f, gn[3]);
        Assert.Equal(0f, gn[5]);
        // Example 0: softmax over [0, 0, 0] → ln 3; example 1: over [0, 0] → ln 2.
        Assert.Equal((Math.Log(3) + Math.Log(2)) / 2, loss, 1e-6);
        Assert.Equal((1f / 3 - 1) / 2, gp[0], 1e-7f);
        Assert.Equal(0.25f, gn[4], 1e-7f);

        // Without the ids the hits stay in the softmax.
        float kept = SampledSoftmaxLoss.Compute([0f, 0f], [0f, 9f, 0f, 9f, 0f, 9f], 3, [], [], [], [], gp, gn);
        Assert.True(kept > 8f);
    }

    [Fact]
    public void Gradient_passes_float_central_difference_check()
    {
        Problem p = Generate(3, 4, 7, logQ: true, sharedLogQ: false, hits: true, sharedIds: false, weighted: true, masked: true);
        float[] gp = new float[p.N], gn = new float[p.N * p.S], sp = new float[p.N], sn = new float[p.N * p.S];
        float[] positive = p.Positive, negative = p.Negative;
        p.Compute(positive, negative, gp, gn);
        GradCheck.Check("positive", positive, gp, () => p.Compute(positive, negative, sp, sn));
        GradCheck.Check("negative", negative, gn, () => p.Compute(positive, negative, sp, sn));
    }

    [Fact]
    public void Masked_examples_are_not_read_and_get_exactly_zero_gradient()
    {
        float[] positive = [0.5f, float.NaN, -0.5f], negative = [1f, 2f, float.NaN, float.NaN, 0f, 1f];
        float[] posQ = [0f, float.NaN, 0f], negQ = [0f, 0f, float.NaN, float.NaN, 0f, 0f];
        float[] gp = Sentinel(3), gn = Sentinel(6);
        float loss = SampledSoftmaxLoss.Compute(positive, negative, 2, posQ, negQ, [1f, 1f, 3f], [1, 0, 1], gp, gn);
        double expected = ((Math.Log(Math.Exp(0.5) + Math.Exp(1) + Math.Exp(2)) - 0.5)
            + (3 * (Math.Log(Math.Exp(-0.5) + 1 + Math.Exp(1)) + 0.5))) / 4;
        Assert.Equal(expected, loss, 1e-6);
        Assert.Equal(0f, gp[1]);
        Assert.Equal(0f, gn[2]);
        Assert.Equal(0f, gn[3]);
        Assert.All(gn, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Weight_two_equals_duplicating_the_example()
    {
        float[] positive = [0.3f, -0.2f], negative = [1f, 0f, -1f, 0.5f, 0.25f, 2f];
        float[] gp = new float[2], gn = new float[6];
        float weighted = SampledSoftmaxLoss.Compute(positive, negative, 3, [], [], [2f, 1f], [], gp, gn);
        float[] gp2 = new float[3], gn2 = new float[9];
        float duplicated = SampledSoftmaxLoss.Compute([0.3f, 0.3f, -0.2f], [1f, 0f, -1f, 1f, 0f, -1f, 0.5f, 0.25f, 2f], 3,
            [], [], [], [], gp2, gn2);
        Assert.Equal(duplicated, weighted, 1e-6f);
        Assert.Equal(gp2[0] + gp2[1], gp[0], 1e-7f);
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(gn2[j] + gn2[3 + j], gn[j], 1e-7f);
            Assert.Equal(gn2[6 + j], gn[3 + j], 1e-7f);
        }
    }

    [Fact]
    public void Extreme_logits_are_finite()
    {
        float[] gp = new float[2], gn = new float[4];
        float loss = SampledSoftmaxLoss.Compute([1e4f, -1e4f], [-1e4f, -1e4f, 1e4f, 1e4f], 2, [], [], [], [], gp, gn);
        // Example 0 is certain (loss ≈ 0); example 1 costs 2e4 + ln 2.
        Assert.Equal((2e4 + Math.Log(2)) / 2, loss, 1e-2);
        Assert.Equal([0f, -0.5f], gp);
        Assert.Equal([0f, 0f, 0.25f, 0.25f], gn);
    }

    [Fact]
    public void Zero_negatives_and_zero_denominator_give_zero()
    {
        float[] gp = Sentinel(2);
        Assert.Equal(0f, SampledSoftmaxLoss.Compute([1f, 2f], [], 0, [], [], [], [], gp, []));
        Assert.Equal([0f, 0f], gp);
        gp = Sentinel(2);
        float[] gn = Sentinel(2);
        Assert.Equal(0f, SampledSoftmaxLoss.Compute([1f, 2f], [0f, 0f], 1, [], [], [], [0, 0], gp, gn));
        Assert.Equal([0f, 0f], gp);
        Assert.Equal([0f, 0f], gn);
    }

    [Fact]
    public void In_place_equals_out_of_place()
    {
        Problem p = Generate(3, 5, 9, logQ: true, sharedLogQ: true, hits: true, sharedIds: false, weighted: true, masked: false);
        float[] gp = new float[3], gn = new float[15];
        float expected = p.Compute(p.Positive, p.Negative, gp, gn);
        float[] pos = (float[])p.Positive.Clone(), neg = (float[])p.Negative.Clone();
        float actual = p.Compute(pos, neg, pos, neg);
        Assert.Equal(expected, actual);
        Assert.Equal(gp, pos);
        Assert.Equal(gn, neg);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument_and_leave_gradients_untouched()
    {
        float[] pos = [0f, 1f], neg = TestData.Uniform(6, 10);
        float[] gp = Sentinel(2), gn = Sentinel(6);
        AssertRejects("negatives", () => SampledSoftmaxLoss.Compute(pos, neg, -3, [], [], [], [], gp, gn));
        AssertRejects("negativeLogits", () => SampledSoftmaxLoss.Compute(pos, neg.AsSpan(0, 5), 3, [], [], [], [], gp, gn));
        AssertRejects("gradNegative", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [], [], gp, gn.AsSpan(0, 5)));
        AssertRejects("gradPositive", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [], [], gp.AsSpan(0, 1), gn));
        AssertRejects("positiveLogQ", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [0f], [], [], [], gp, gn));
        AssertRejects("negativeLogQ", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [0f, 0f], [], [], gp, gn));
        AssertRejects("negativeIds", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [1, 2], [], [], [], gp, gn));
        AssertRejects("negativeIds", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [1, 2], [1, 2, 3, 4], [], [], gp, gn));
        AssertRejects("positiveIds", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [1], [1, 2, 3], [], [], gp, gn));
        AssertRejects("weights", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [1f, float.NaN], [], gp, gn));
        AssertRejects("mask", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [], [1f], gp, gn));
        float[] grads = new float[8];
        AssertRejects("gradNegative", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], [], [], [], grads.AsSpan(0, 2), grads.AsSpan(1, 6)));
        AssertRejects("gradNegative", () => SampledSoftmaxLoss.Compute(pos, neg, 3, [], neg.AsSpan(0, 3), [], [], gp, neg));
        AssertUntouched(gp);
        AssertUntouched(gn);
    }

    [Fact]
    public void Compute_allocates_nothing_after_warm_up()
    {
        Problem p = Generate(64, 100, 11, logQ: true, sharedLogQ: false, hits: true, sharedIds: false, weighted: true, masked: true);
        float[] gp = new float[p.N], gn = new float[p.N * p.S];
        AssertNoAllocation(() => p.Compute(p.Positive, p.Negative, gp, gn));
    }
}

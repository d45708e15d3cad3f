using LifelongPrefs.Data;
using LifelongPrefs.Lifelong;
using LifelongPrefs.Models;
using LifelongPrefs.Nn;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>The EWC and distillation terms against hand-written scalar oracles and finite differences.</summary>
public class ContinualGradientTests
{
    private static readonly ShiftStream Stream = new(users: 40, before: 10, after: 10, heldOut: 2, seed: 11);

    /// <summary>A learner fitted on the stream's first part and updated once, so EWC has a Fisher and an anchor.</summary>
    private static ContinualLearner Fitted(ContinualOptions options)
    {
        var learner = new ContinualLearner(ContinualShiftTests.Model(), options);
        learner.Fit(Stream.Before, Stream.Users, ShiftStream.Items);
        learner.Update(Stream.After[..200], Stream.Users, ShiftStream.Items);
        return learner;
    }

    /// <summary>Moves every element of the rows a little, with a seeded generator.</summary>
    private static void Perturb(Parameter p, IEnumerable<int> rows, Random random, float size)
    {
        int width = p.Value.RowLength;
        Span<float> value = p.Value.Span;
        foreach (int row in rows)
        {
            for (int c = 0; c < width; c++)
            {
                value[(row * width) + c] += size * (float)((random.NextDouble() * 2) - 1);
            }
        }
    }

    /// <summary>Central difference of <paramref name="f"/> in element <paramref name="index"/> of <paramref name="p"/>.</summary>
    private static double Numeric(Parameter p, int index, Func<double> f, float h = 1e-2f)
    {
        Span<float> value = p.Value.Span;
        float saved = value[index];
        value[index] = saved + h;
        double plus = f();
        p.Value.Span[index] = saved - h;
        double minus = f();
        p.Value.Span[index] = saved;
        return (plus - minus) / (2.0 * h);
    }

    private static void Touch(Parameter p, IEnumerable<int> rows)
    {
        p.Gradient.Span.Clear();
        foreach (int row in rows)
        {
            p.MarkRowTouched(row);
        }
    }

    [Fact]
    public void Ewc_gradient_and_penalty_match_the_scalar_oracle_and_finite_differences()
    {
        ContinualLearner learner = Fitted(new ContinualOptions { ReplayCapacity = 0, EwcStrength = 0.5f, DistillationWeight = 0 });
        OnlineEwc ewc = learner.Ewc!;
        IContinualModel model = learner.Model;
        Parameter users = model.UserFactors, items = model.ItemFactors;
        int[] userRows = [0, 3, 7], itemRows = [1, 30, 77];
        Perturb(users, userRows, new Random(1), 0.3f);
        Perturb(items, itemRows, new Random(2), 0.3f);
        Touch(users, userRows);
        Touch(items, itemRows);
        Touch(model.ItemBias, []);
        ewc.Penalise = true;

        // Oracle: (λ/2)·Σ over the touched rows of F·(θ − θ*)², in double, from the stored F and θ*.
        double Oracle()
        {
            double sum = 0;
            foreach ((Parameter p, int[] rows) in new[] { (users, userRows), (items, itemRows) })
            {
                int width = p.Value.RowLength;
                foreach (int row in rows)
                {
                    for (int c = row * width; c < (row + 1) * width; c++)
                    {
                        double diff = p.Value.Span[c] - ewc.Anchor(p, c);
                        sum += ewc.Fisher(p, c) * diff * diff;
                    }
                }
            }

            return 0.5 * 0.5 * sum;
        }

        double oracle = Oracle();
        Assert.True(oracle > 0, "the perturbed rows carry no penalty: the Fisher is empty");
        float penalty = ewc.Apply(model.Optimizer.Parameters);
        Assert.Equal(oracle, penalty, oracle * 1e-4);
        float[] userGrad = users.Gradient.Span.ToArray(), itemGrad = items.Gradient.Span.ToArray();
        int d = model.Dimensions;
        foreach ((Parameter p, float[] grad, int index) in new[] { (users, userGrad, (3 * d) + 5), (users, userGrad, 7 * d), (items, itemGrad, (30 * d) + 2), (items, itemGrad, (77 * d) + d - 1) })
        {
            double numeric = Numeric(p, index, Oracle);
            Assert.Equal(numeric, grad[index], (Math.Abs(numeric) * 1e-3) + 1e-7);
        }

        // Lazy: rows no batch touched got no gradient.
        for (int row = 0; row < users.Rows; row++)
        {
            if (!userRows.Contains(row))
            {
                Assert.All(userGrad.AsSpan(row * d, d).ToArray(), g => Assert.Equal(0f, g));
            }
        }
    }

    [Fact]
    public void Ewc_end_of_update_moves_only_the_touched_rows_anchor_and_decays_the_others_lazily()
    {
        var options = new ContinualOptions { ReplayCapacity = 0, EwcStrength = 0.5f, FisherDecay = 0.8f, DistillationWeight = 0 };
        ContinualLearner learner = Fitted(options);
        OnlineEwc ewc = learner.Ewc!;
        Parameter users = learner.Model.UserFactors;
        int d = learner.Model.Dimensions;

        // A user the next update does not touch: its Fisher decays by γ, its anchor stays although its values move.
        int[] touchedUsers = [.. Stream.After[200..260].Select(e => e.User).Distinct()];
        int quiet = Enumerable.Range(0, Stream.Users).First(u => !touchedUsers.Contains(u) && ewc.Fisher(users, (u * d) + 1) > 0);
        float fisher = ewc.Fisher(users, (quiet * d) + 1), anchor = ewc.Anchor(users, (quiet * d) + 1);
        users.Value.Span[(quiet * d) + 1] += 0.25f;
        learner.Update(Stream.After[200..260], Stream.Users, ShiftStream.Items);
        Assert.Equal(anchor, ewc.Anchor(users, (quiet * d) + 1));
        Assert.Equal(fisher * 0.8f, ewc.Fisher(users, (quiet * d) + 1), fisher * 1e-5f);

        // A touched user's anchor is its value at the end of the update.
        int busy = touchedUsers[0];
        Assert.Equal(users.Value.Span[(busy * d) + 3], ewc.Anchor(users, (busy * d) + 3));
    }

    [Fact]
    public void Distillation_loss_and_gradient_match_the_scalar_kl_oracle_and_finite_differences()
    {
        const float weight = 0.7f, temperature = 1.5f;
        ContinualLearner learner = Fitted(new ContinualOptions { ReplayCapacity = 0, EwcStrength = 0, DistillationWeight = weight, DistillationTemperature = temperature, DistillationCandidates = 12 });
        IContinualModel model = learner.Model;
        IScorer teacher = learner.CreateScorer();
        Distillation term = learner.DistillationTerm!;
        int[] distilled = [2, 5];
        term.Prepare(teacher, distilled, new Random(4));
        Parameter users = model.UserFactors, items = model.ItemFactors, bias = model.ItemBias;
        Perturb(users, distilled, new Random(5), 0.5f);
        Perturb(items, term.CandidatesOf(2).ToArray().Take(4), new Random(6), 0.5f);
        Touch(users, [.. distilled, 9]);   // 9 is touched but not distilled
        Touch(items, []);
        Touch(bias, []);
        int d = model.Dimensions;
        int[][] candidates = [.. distilled.Select(u => term.CandidatesOf(u).ToArray())];
        Assert.All(candidates, c => Assert.Equal(12 + 3, c.Distinct().Count()));

        // Oracle: w·T²·mean over the distilled users of KL(softmax(t/T) ‖ softmax(s/T)), in double.
        var teacherScores = new float[ShiftStream.Items];
        double[][] teacherLogits = [.. distilled.Select((u, k) =>
        {
            teacher.Score(u, [], teacherScores);
            return candidates[k].Select(i => (double)teacherScores[i]).ToArray();
        })];
        double Oracle()
        {
            double total = 0;
            for (int k = 0; k < distilled.Length; k++)
            {
                int u = distilled[k];
                double[] s = [.. candidates[k].Select(i =>
                {
                    double dot = bias.Value.Span[i];
                    for (int c = 0; c < d; c++)
                    {
                        dot += (double)users.Value.Span[(u * d) + c] * items.Value.Span[(i * d) + c];
                    }

                    return dot;
                })];
                double[] p = Softmax(teacherLogits[k], temperature), q = Softmax(s, temperature);
                total += p.Select((pk, c) => pk * Math.Log(pk / q[c])).Sum();
            }

            return weight * temperature * temperature * total / distilled.Length;
        }

        double oracle = Oracle();
        Assert.True(oracle > 1e-4, $"the perturbation left the KL at {oracle}");
        float loss = term.Apply(model.Optimizer.Parameters);
        Assert.Equal(oracle, loss, (oracle * 1e-3) + 1e-6);
        float[] userGrad = users.Gradient.Span.ToArray(), itemGrad = items.Gradient.Span.ToArray(), biasGrad = bias.Gradient.Span.ToArray();
        int item = candidates[0][1], sampled = candidates[0][^1];
        foreach ((Parameter p, float[] grad, int index) in new[]
        {
            (users, userGrad, (2 * d) + 1), (users, userGrad, (5 * d) + d - 1), (items, itemGrad, (item * d) + 3), (items, itemGrad, sampled * d), (bias, biasGrad, item),
        })
        {
            double numeric = Numeric(p, index, Oracle, 1e-3f);
            Assert.Equal(numeric, grad[index], (Math.Abs(numeric) * 2e-2) + 2e-5);
        }

        Assert.All(userGrad.AsSpan(9 * d, d).ToArray(), g => Assert.Equal(0f, g));
        Assert.Contains(item, items.TouchedRows.ToArray());
    }

    private static double[] Softmax(double[] x, double temperature)
    {
        double max = x.Max();
        double[] e = [.. x.Select(v => Math.Exp((v - max) / temperature))];
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }
}

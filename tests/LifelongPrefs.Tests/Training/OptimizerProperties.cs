using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Nn;
using LifelongPrefs.Training;
using static LifelongPrefs.Tests.Training.OptimizerTestKit;
using TestData = LifelongPrefs.Tests.Infrastructure.TestData;

namespace LifelongPrefs.Tests.Training;

/// <summary>Generated shapes and seeds: lazy versus dense updates, clipping, and Adam against its formula.</summary>
public class OptimizerProperties
{
    private static Arbitrary<(int Rows, int Width, int Seed, int Kind)> Cases() => Arb.From(
        from rows in Gen.Choose(1, 6)
        from width in Gen.Choose(1, 40)
        from seed in Gen.Choose(0, 10_000)
        from kind in Gen.Choose(0, 3)
        select (rows, width, seed, kind));

    private static Optimizer Create(int kind, Parameter p, bool lazy) => kind switch
    {
        0 => new Sgd([p], 0.1f, momentum: 0.9f, weightDecay: 0.01f, lazy: lazy),
        1 => new Adam([p], 0.01f, weightDecay: 0.01f, lazy: lazy),
        2 => new AdamW([p], 0.01f, lazy: lazy),
        _ => new Adagrad([p], 0.1f, initialAccumulator: 0.1f, weightDecay: 0.01f, lazy: lazy),
    };

    [Property(MaxTest = 60)]
    public Property Lazy_equals_dense_when_every_row_is_touched() =>
        Prop.ForAll(Cases(), c =>
        {
            // Rows touched in shuffled order: the lazy path visits rows one at a time in that order, the dense
            // path sweeps the table; every element must still get exactly the same bits.
            float[] w0 = TestData.Uniform(c.Rows * c.Width, c.Seed);
            Parameter lazyTable = Sparse("t", w0, c.Rows, c.Width), denseTable = Sparse("t", w0, c.Rows, c.Width);
            Optimizer lazy = Create(c.Kind, lazyTable, true), dense = Create(c.Kind, denseTable, false);
            int[] order = [.. Enumerable.Range(0, c.Rows).OrderBy(r => (r * 7919) % 13)];
            for (int step = 0; step < 3; step++)
            {
                lazy.ZeroGrad();
                dense.ZeroGrad();
                foreach (int r in order)
                {
                    float[] g = TestData.Uniform(c.Width, c.Seed + (31 * step) + r + 1);
                    SetRowGradient(lazyTable, r, g);
                    SetRowGradient(denseTable, r, g);
                }

                lazy.Step();
                dense.Step();
            }

            Assert.Equal(denseTable.Value.Span.ToArray(), lazyTable.Value.Span.ToArray());
            for (int slot = 0; slot < lazy.StateCount; slot++)
            {
                Assert.Equal(dense.GetState(0, slot).ToArray(), lazy.GetState(0, slot).ToArray());
            }
        });

    [Property(MaxTest = 60)]
    public Property Lazy_Adam_equals_dense_Adam_when_the_same_rows_are_touched_every_step() =>
        Prop.ForAll(Cases(), c =>
        {
            // Rows never touched keep m = v = 0 and a zero gradient, so dense Adam moves them by exactly 0 / ε = 0:
            // the whole table and state must then match lazy Adam bit for bit. The touched fraction varies from a
            // few rows of a 100-row table (rows visited in touch order) to most of them (visited in row order).
            int rows = 1 + (c.Seed % 100);
            var random = new Random(c.Seed);
            double fraction = random.NextDouble();
            int[] touched = [.. Enumerable.Range(0, rows).Where(_ => random.NextDouble() < fraction).OrderBy(_ => random.Next())];
            float[] w0 = TestData.Uniform(rows * c.Width, c.Seed);
            Parameter lazyTable = Sparse("t", w0, rows, c.Width), denseTable = Sparse("t", w0, rows, c.Width);
            var lazy = new Adam([lazyTable], 0.01f, lazy: true);
            var dense = new Adam([denseTable], 0.01f);
            for (int step = 0; step < 3; step++)
            {
                lazy.ZeroGrad();
                dense.ZeroGrad();
                foreach (int r in touched)
                {
                    float[] g = TestData.Uniform(c.Width, c.Seed + (31 * step) + r + 1);
                    SetRowGradient(lazyTable, r, g);
                    SetRowGradient(denseTable, r, g);
                }

                lazy.Step();
                dense.Step();
            }

            Assert.Equal(denseTable.Value.Span.ToArray(), lazyTable.Value.Span.ToArray());
            Assert.Equal(w0.AsSpan(0, c.Width).ToArray(), touched.Contains(0) ? w0.AsSpan(0, c.Width).ToArray() : lazyTable.Value.Row(0).ToArray());
            for (int slot = 0; slot < 2; slot++)
            {
                Assert.Equal(dense.GetState(0, slot).ToArray(), lazy.GetState(0, slot).ToArray());
            }
        });

    [Property(MaxTest = 60)]
    public Property Clipping_caps_the_norm_and_keeps_the_direction() =>
        Prop.ForAll(Cases(), c =>
        {
            float[] g = TestData.Uniform(c.Rows * c.Width, c.Seed, 5f);
            Parameter p = Dense("p", new float[g.Length]);
            SetGradient(p, g);
            double norm = Math.Sqrt(g.Sum(x => (double)x * x));
            float maxNorm = 0.5f + (c.Kind * 2f);
            float reported = GradientClipping.ClipByGlobalNorm([p], maxNorm);
            Assert.Equal(norm, reported, 1e-5 * norm);
            double scale = norm > maxNorm ? maxNorm / norm : 1.0;
            for (int i = 0; i < g.Length; i++)
            {
                Assert.Equal(g[i] * scale, p.Gradient.Span[i], 1e-5 * Math.Abs(g[i]) + 1e-7);
            }

            Assert.True(GradientClipping.GlobalNorm([p]) <= maxNorm * (1 + 1e-5) || norm <= maxNorm);
        });

    [Property(MaxTest = 40)]
    public Property Adam_three_steps_match_the_double_formula() =>
        Prop.ForAll(Cases(), c =>
        {
            int n = c.Rows * c.Width;
            float[] w0 = TestData.Uniform(n, c.Seed);
            Parameter p = Dense("w", w0);
            var adam = new Adam([p], 0.02f, 0.85f, 0.99f, 1e-7f, c.Kind * 0.05f);
            double[] w = ToDouble(w0), m = new double[n], v = new double[n];
            for (int t = 1; t <= 3; t++)
            {
                float[] g = TestData.Uniform(n, c.Seed + t, t);
                SetGradient(p, g);
                adam.Step();
                AdamReference(w, ToDouble(g), m, v, t, 0.02f, 0.85f, 0.99f, 1e-7f, c.Kind * 0.05f, 0);
            }

            AssertClose(w, p.Value.Span, "w");
        });

    [Property(MaxTest = 60)]
    public Property Adam_on_a_logit_row_equals_Adam_on_its_stored_gradient() =>
        Prop.ForAll(Cases(), c =>
        {
            // The online step's fused rule against the general one on the gradient written out: dz·[x; 1], three steps,
            // the same values (widths 1–40 cover the vector loop, its tail and the bias; dz = 0 is the skipped negative).
            int n = c.Width;
            float[] x = TestData.Uniform(n, c.Seed), fused = TestData.Uniform(n + 1, c.Seed + 1), plain = [.. fused];
            float[] fusedM = new float[n + 1], fusedV = new float[n + 1], plainM = new float[n + 1], plainV = new float[n + 1];
            for (int t = 1; t <= 3; t++)
            {
                float dz = c.Kind == 0 && t == 2 ? 0f : (float)((new Random(c.Seed + t).NextDouble() * 2) - 1);
                float[] gradient = [.. x.Select(value => value * dz), dz];
                (float stepSize, float inverse) = (0.01f / (1f - MathF.Pow(0.9f, t)), 1f / MathF.Sqrt(1f - MathF.Pow(0.999f, t)));
                OptimizerMath.AdamLogitRow(fused, x, dz, fusedM, fusedV, 0.9f, 0.999f, 1e-8f, stepSize, inverse);
                OptimizerMath.Adam(plain, gradient, plainM, plainV, 0.9f, 0.999f, 1e-8f, stepSize, inverse, 0f, 1f);
            }

            Assert.Equal(plain, fused);
            Assert.Equal(plainM, fusedM);
            Assert.Equal(plainV, fusedV);
        });

    [Fact]
    public void Adam_on_a_logit_row_names_lengths_that_do_not_fit()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            OptimizerMath.AdamLogitRow(new float[5], new float[5], 1f, new float[5], new float[5], 0.9f, 0.999f, 1e-8f, 0.01f, 1f));
        Assert.Contains("value of 5", error.Message, StringComparison.Ordinal);
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Tensors;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Tensors;

/// <summary>
/// Generated-input properties of the softmax family, cross-entropy and top-K. Every property is
/// checked on every SIMD path for each generated input.
/// </summary>
public class SoftmaxProperties
{
    private static readonly int[] s_widths = [0, 256, 512];

    /// <summary>
    /// A matrix of logits on the grid k/128 with |logit| &lt;= 1e4. On that grid adding a grid
    /// constant of magnitude &lt;= 1e3 and subtracting the row max are exact in float, so shift
    /// invariance can be demanded bit for bit.
    /// </summary>
    private sealed record Matrix(int Rows, int Columns, float[] Values)
    {
        public override string ToString() => $"{Rows}x{Columns} [{string.Join(", ", Values)}]";
    }

    private static Arbitrary<Matrix> Matrices()
    {
        Gen<Matrix> gen =
            from rows in Gen.Choose(1, 4)
            from columns in Gen.Choose(1, 70)
            from raw in Gen.ArrayOf(Gen.Choose(-1_280_000, 1_280_000), rows * columns)
            select new Matrix(rows, columns, Array.ConvertAll(raw, k => k / 128f));
        return Arb.From(gen);
    }

    private static Arbitrary<(Matrix Logits, float[] Shifts)> ShiftedMatrices()
    {
        Gen<(Matrix, float[])> gen =
            from m in Matrices().Generator
            from shifts in Gen.ArrayOf(Gen.Choose(-128_000, 128_000), m.Rows)
            select (m, Array.ConvertAll(shifts, k => k / 128f));
        return Arb.From(gen);
    }

    [Property(MaxTest = 60)]
    public Property Softmax_rows_sum_to_one() =>
        Prop.ForAll(Matrices(), m =>
        {
            foreach (int width in s_widths)
            {
                float[] p = new float[m.Values.Length];
                SimdPaths.Run(width, () => Kernels.SoftmaxRows(m.Values, m.Rows, m.Columns, p));
                for (int r = 0; r < m.Rows; r++)
                {
                    double sum = 0;
                    for (int j = 0; j < m.Columns; j++)
                    {
                        float v = p[(r * m.Columns) + j];
                        Assert.True(v >= 0f && v <= 1f, $"w{width} p={v}");
                        sum += v;
                    }

                    // Each of <= 70 probabilities carries a relative error ~1e-6 (see SoftmaxTests).
                    Assert.True(Math.Abs(sum - 1) <= 1e-5, $"w{width} row {r} sums to {sum:R}");
                }
            }
        });

    [Property(MaxTest = 60)]
    public Property Softmax_is_invariant_to_a_constant_per_row() =>
        Prop.ForAll(ShiftedMatrices(), input =>
        {
            (Matrix m, float[] shifts) = input;
            float[] shifted = (float[])m.Values.Clone();
            for (int r = 0; r < m.Rows; r++)
            {
                for (int j = 0; j < m.Columns; j++)
                {
                    shifted[(r * m.Columns) + j] += shifts[r];
                }
            }

            foreach (int width in s_widths)
            {
                float[] expected = new float[shifted.Length];
                float[] actual = new float[shifted.Length];
                SimdPaths.Run(width, () =>
                {
                    Kernels.SoftmaxRows(m.Values, m.Rows, m.Columns, expected);
                    Kernels.SoftmaxRows(shifted, m.Rows, m.Columns, actual);
                });

                // Exact on the grid: the kernel only ever sees x - max, which the shift leaves unchanged.
                Assert.Equal(expected, actual);
            }
        });

    [Property(MaxTest = 60)]
    public Property Large_logits_stay_finite() =>
        Prop.ForAll(Matrices(), m =>
        {
            var random = new Random(m.Values.Length);
            int[] targets = new int[m.Rows];
            for (int r = 0; r < m.Rows; r++)
            {
                targets[r] = random.Next(m.Columns);
            }

            foreach (int width in s_widths)
            {
                float[] p = new float[m.Values.Length];
                float[] l = new float[m.Values.Length];
                float[] lse = new float[m.Rows];
                float[] gradient = new float[m.Values.Length];
                float loss = 0;
                SimdPaths.Run(width, () =>
                {
                    Kernels.SoftmaxRows(m.Values, m.Rows, m.Columns, p);
                    Kernels.LogSoftmaxRows(m.Values, m.Rows, m.Columns, l);
                    Kernels.LogSumExpRows(m.Values, m.Rows, m.Columns, lse);
                    loss = Kernels.SoftmaxCrossEntropy(m.Values, m.Rows, m.Columns, targets, gradient);
                });

                Assert.All(p, v => Assert.True(float.IsFinite(v)));
                Assert.All(l, v => Assert.True(float.IsFinite(v)));
                Assert.All(lse, v => Assert.True(float.IsFinite(v)));
                Assert.All(gradient, v => Assert.True(float.IsFinite(v)));
                Assert.True(float.IsFinite(loss) && loss >= 0f, $"loss {loss}");
            }
        });

    [Property(MaxTest = 60)]
    public Property LogSoftmax_is_log_of_softmax() =>
        Prop.ForAll(Matrices(), m =>
        {
            foreach (int width in s_widths)
            {
                float[] p = new float[m.Values.Length];
                float[] l = new float[m.Values.Length];
                SimdPaths.Run(width, () =>
                {
                    Kernels.SoftmaxRows(m.Values, m.Rows, m.Columns, p);
                    Kernels.LogSoftmaxRows(m.Values, m.Rows, m.Columns, l);
                });

                for (int i = 0; i < p.Length; i++)
                {
                    if (p[i] > 1e-30f)
                    {
                        // p > 1e-30 means x - max > -69: p's relative error is < 69·2^-24 + ~1e-6,
                        // which the log turns into the same absolute error (< 1e-5).
                        Approx.Equal(Math.Log(p[i]), l[i], 1e-6, 2e-5, $"w{width} [{i}]");
                    }
                }
            }
        });

    /// <summary>Scores drawn from few levels (many ties) plus NaN, ±inf and ±0, and an exclusion mask.</summary>
    private static Arbitrary<(float[] Scores, bool[] Excluded, int K)> TopKInputs()
    {
        float[] levels = [float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, -2.5f, 1f, 3f, 3f, 7f, 1e30f];
        Gen<(float[], bool[], int)> gen =
            from n in Gen.Choose(0, 120)
            from scores in Gen.ArrayOf(Gen.Elements(levels), n)
            from excluded in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false))), n)
            from k in Gen.Choose(0, n + 3)
            select (scores, excluded, k);
        return Arb.From(gen);
    }

    [Property(MaxTest = 150)]
    public Property TopK_equals_prefix_of_stable_descending_sort() =>
        Prop.ForAll(TopKInputs(), input =>
        {
            (float[] scores, bool[] mask, int k) = input;
            int[] excluded = Enumerable.Range(0, scores.Length).Where(i => mask[i]).ToArray();
            foreach (int width in s_widths)
            {
                SimdPaths.Run(width, () =>
                {
                    TopKReference.Check(scores, k, null, $"w{width}");
                    TopKReference.Check(scores, k, excluded, $"w{width} excluded");
                });
            }
        });
}

using LifelongPrefs.Lifelong;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests.Lifelong.Continual;

/// <summary>
/// The fused EWC row step against its ten-call reference: bit for bit on every width 1–130 and every SIMD path, with
/// and without the penalty, with coefficients past the cap, sums that saturate at float.MaxValue and gradients whose
/// squares overflow (then nothing is accumulated, in both), gradients at the fused pass's bound (every |n·g| = 2⁶⁰, the
/// one-pass path) and a NaN gradient (the checked path).
/// </summary>
public class EwcRowKernelTests
{
    [Theory]
    [MemberData(nameof(SimdPaths.All), MemberType = typeof(SimdPaths))]
    public void The_fused_row_step_equals_the_reference_bit_for_bit(int simdWidth)
    {
        var random = new Random(17);
        int checkedRows = 0;
        SimdPaths.Run(simdWidth, () =>
        {
            for (int width = 1; width <= 130; width++)
            {
                for (int variant = 0; variant < Row.Variants; variant++)
                {
                    Row row = Row.Random(random, width, variant);
                    Row fused = row.Copy(), reference = row.Copy();
                    bool penalise = variant % 2 == 0;
                    double a = EwcRowKernel.Apply(fused.Gradient, fused.Value, fused.Anchor, fused.Fisher, fused.Sum, 512, 3e-4f, 1e6f, penalise,
                        new float[width], new float[width]);
                    double b = EwcRowKernel.Reference(reference.Gradient, reference.Value, reference.Anchor, reference.Fisher, reference.Sum, 512, 3e-4f, 1e6f,
                        penalise, new float[width], new float[width]);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(b), BitConverter.DoubleToInt64Bits(a));
                    Assert.Equal(Bits(reference.Gradient), Bits(fused.Gradient));
                    Assert.Equal(Bits(reference.Sum), Bits(fused.Sum));
                    Assert.False(variant is 0 or 2 && Bits(row.Gradient).SequenceEqual(Bits(fused.Gradient)), "the penalty moved no gradient");
                    checkedRows++;
                }
            }
        });
        Assert.Equal(130 * Row.Variants, checkedRows);
    }

    [Fact]
    public void An_overflowing_square_accumulates_nothing_and_a_large_Fisher_is_capped()
    {
        // Hand-computed: (512·1e20)² overflows, so the row's sum of squares is not finite and the sums stay as they were;
        // c = min(λ·F, cap)·(θ − θ*) = (min(1e12, 1e6)·0.5, min(4, 1e6)·2) = (5e5, 8); penalty 5e5·0.5 + 8·2.
        float[] gradient = [1e20f, 0.25f], sum = [3f, 4f];
        double penalty = EwcRowKernel.Apply(gradient, [2f, 3f], [1.5f, 1f], [1e12f, 4f], sum, 512, 1f, 1e6f, true, new float[2], new float[2]);
        Assert.Equal([3f, 4f], sum);
        Assert.Equal(8.25f, gradient[1]);
        Assert.Equal(250_016.0, penalty);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private sealed record Row(float[] Gradient, float[] Value, float[] Anchor, float[] Fisher, float[] Sum)
    {
        internal const int Variants = 10;

        internal Row Copy() => new([.. Gradient], [.. Value], [.. Anchor], [.. Fisher], [.. Sum]);

        /// <summary>Variant 2–3: Fisher past the cap; 4–5: sums near float.MaxValue; 6: θ = θ* (no pull); 7: an overflowing gradient; 8: every |512·g| = 2⁶⁰; 9: a NaN gradient.</summary>
        internal static Row Random(Random random, int width, int variant)
        {
            float Next(float scale) => (float)((random.NextDouble() * 2) - 1) * scale;
            float[] gradient = [.. Enumerable.Range(0, width).Select(_ => Next(0.01f))];
            float[] value = [.. Enumerable.Range(0, width).Select(_ => Next(1f))];
            float[] anchor = variant == 6 ? [.. value] : [.. value.Select(v => v + Next(0.1f))];
            float[] fisher = [.. Enumerable.Range(0, width).Select(_ => Math.Abs(Next(variant is 2 or 3 ? 1e12f : 50f)))];
            float[] sum = [.. Enumerable.Range(0, width).Select(_ => variant is 4 or 5 ? float.MaxValue * (1 - Math.Abs(Next(1e-7f))) : Math.Abs(Next(100f)))];
            if (variant is 4 or 5)
            {
                gradient[random.Next(width)] = 2e16f;   // (512·g)² ≈ 1.05e38: finite, but it saturates a sum near float.MaxValue
            }

            if (variant == 7)
            {
                gradient[random.Next(width)] = 1e30f;
            }

            if (variant == 8)
            {
                // 512·g = ±2⁶⁰ exactly: the largest row the one-pass path takes (2¹²⁰ per square, finite in any order).
                gradient = [.. gradient.Select(g => g < 0 ? -2251799813685248f : 2251799813685248f)];
            }

            if (variant == 9)
            {
                gradient[random.Next(width)] = float.NaN;
            }

            return new Row(gradient, value, anchor, fisher, sum);
        }
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Training;

/// <summary>
/// The fused element-wise update rules of the optimizers, one pass over value, gradient and state each.
/// </summary>
/// <remarks>
/// Each rule runs a <see cref="Vector{T}"/> loop and finishes with a scalar loop over the tail. The tail cannot
/// re-process an overlapping last vector (the usual trick for pure maps) because the updates are not
/// idempotent: applying one twice would move those elements twice. Both loops perform the same IEEE operations
/// in the same order with no fused multiply-add, so an element gets the same bits whichever loop handles it;
/// that is what lets a lazily updated row match the same row updated as part of the whole table.
/// </remarks>
internal static class OptimizerMath
{
    /// <summary>
    /// SGD with optional coupled weight decay and (Nesterov) momentum, as PyTorch's <c>torch.optim.SGD</c>:
    /// <c>g = ∇ + wd·w; b = μ·b + g; g = nesterov ? g + μ·b : b; w = w − lr·g</c>.
    /// </summary>
    /// <param name="value">w, updated in place.</param>
    /// <param name="gradient">∇.</param>
    /// <param name="momentumBuffer">b, updated in place; ignored (may be empty) when <paramref name="momentum"/> is 0.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="momentum">μ.</param>
    /// <param name="nesterov">Whether to use the Nesterov look-ahead.</param>
    /// <param name="weightDecay">wd (coupled L2).</param>
    internal static void Sgd(Span<float> value, ReadOnlySpan<float> gradient, Span<float> momentumBuffer,
        float learningRate, float momentum, bool nesterov, float weightDecay)
    {
        int n = value.Length;
        ref float w = ref MemoryMarshal.GetReference(value);
        ref float dw = ref MemoryMarshal.GetReference(gradient);
        int i = 0;
        if (momentum == 0f)
        {
            if (Vector.IsHardwareAccelerated)
            {
                var lr = new Vector<float>(learningRate);
                var wd = new Vector<float>(weightDecay);
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    Vector<float> wv = Load(ref w, i);
                    Vector<float> g = Load(ref dw, i) + (wd * wv);
                    Store(wv - (lr * g), ref w, i);
                }
            }

            for (; i < n; i++)
            {
                float wi = Unsafe.Add(ref w, i);
                float g = Unsafe.Add(ref dw, i) + (weightDecay * wi);
                Unsafe.Add(ref w, i) = wi - (learningRate * g);
            }

            return;
        }

        ref float b = ref MemoryMarshal.GetReference(momentumBuffer);
        if (Vector.IsHardwareAccelerated)
        {
            var lr = new Vector<float>(learningRate);
            var wd = new Vector<float>(weightDecay);
            var mu = new Vector<float>(momentum);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> wv = Load(ref w, i);
                Vector<float> g = Load(ref dw, i) + (wd * wv);
                Vector<float> bv = (mu * Load(ref b, i)) + g;
                Store(bv, ref b, i);
                g = nesterov ? g + (mu * bv) : bv;
                Store(wv - (lr * g), ref w, i);
            }
        }

        for (; i < n; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            float g = Unsafe.Add(ref dw, i) + (weightDecay * wi);
            float bi = (momentum * Unsafe.Add(ref b, i)) + g;
            Unsafe.Add(ref b, i) = bi;
            g = nesterov ? g + (momentum * bi) : bi;
            Unsafe.Add(ref w, i) = wi - (learningRate * g);
        }
    }

    /// <summary>
    /// Adam (Kingma &amp; Ba, 2015, Algorithm 1, in PyTorch's arrangement of the bias corrections), with either
    /// coupled L2 (<c>g = ∇ + wd·w</c>) or decoupled weight decay (<c>w = w·(1 − lr·wd)</c> before the step,
    /// Loshchilov &amp; Hutter, 2019):
    /// <c>m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; w = w − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)</c>.
    /// </summary>
    /// <param name="value">w, updated in place.</param>
    /// <param name="gradient">∇.</param>
    /// <param name="m">First moment, updated in place.</param>
    /// <param name="v">Second moment, updated in place.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="stepSize">lr / (1 − β₁ᵗ).</param>
    /// <param name="inverseSqrtBiasCorrection2">1 / √(1 − β₂ᵗ).</param>
    /// <param name="coupledDecay">wd for coupled L2 (0 for none or for AdamW).</param>
    /// <param name="decayFactor">1 − lr·wd for decoupled decay (exactly 1 for none).</param>
    internal static void Adam(Span<float> value, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v,
        float beta1, float beta2, float epsilon, float stepSize, float inverseSqrtBiasCorrection2, float coupledDecay, float decayFactor)
    {
        int n = value.Length;
        ref float w = ref MemoryMarshal.GetReference(value);
        ref float dw = ref MemoryMarshal.GetReference(gradient);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        float oneMinusBeta1 = 1f - beta1, oneMinusBeta2 = 1f - beta2;
        bool decoupled = decayFactor != 1f;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var b1 = new Vector<float>(beta1);
            var b2 = new Vector<float>(beta2);
            var c1 = new Vector<float>(oneMinusBeta1);
            var c2 = new Vector<float>(oneMinusBeta2);
            var eps = new Vector<float>(epsilon);
            var step = new Vector<float>(stepSize);
            var bc2 = new Vector<float>(inverseSqrtBiasCorrection2);
            var wd = new Vector<float>(coupledDecay);
            var decay = new Vector<float>(decayFactor);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> wv = Load(ref w, i);
                if (decoupled)
                {
                    wv *= decay;
                }

                Vector<float> g = Load(ref dw, i) + (wd * wv);
                Vector<float> mv = (b1 * Load(ref mr, i)) + (c1 * g);
                Vector<float> vv = (b2 * Load(ref vr, i)) + (c2 * (g * g));
                Store(mv, ref mr, i);
                Store(vv, ref vr, i);
                Vector<float> denominator = (Vector.SquareRoot(vv) * bc2) + eps;
                Store(wv - (step * (mv / denominator)), ref w, i);
            }
        }

        for (; i < n; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            if (decoupled)
            {
                wi *= decayFactor;
            }

            float g = Unsafe.Add(ref dw, i) + (coupledDecay * wi);
            float mi = (beta1 * Unsafe.Add(ref mr, i)) + (oneMinusBeta1 * g);
            float vi = (beta2 * Unsafe.Add(ref vr, i)) + (oneMinusBeta2 * (g * g));
            Unsafe.Add(ref mr, i) = mi;
            Unsafe.Add(ref vr, i) = vi;
            float denominator = (MathF.Sqrt(vi) * inverseSqrtBiasCorrection2) + epsilon;
            Unsafe.Add(ref w, i) = wi - (stepSize * (mi / denominator));
        }
    }

    /// <summary>
    /// Adagrad (Duchi, Hazan &amp; Singer, 2011, diagonal form, as PyTorch's <c>torch.optim.Adagrad</c> without
    /// learning-rate decay): <c>g = ∇ + wd·w; s = s + g²; w = w − lr·g / (√s + ε)</c>.
    /// </summary>
    /// <param name="value">w, updated in place.</param>
    /// <param name="gradient">∇.</param>
    /// <param name="sum">s, the accumulated squared gradients, updated in place.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">wd (coupled L2).</param>
    internal static void Adagrad(Span<float> value, ReadOnlySpan<float> gradient, Span<float> sum,
        float learningRate, float epsilon, float weightDecay)
    {
        int n = value.Length;
        ref float w = ref MemoryMarshal.GetReference(value);
        ref float dw = ref MemoryMarshal.GetReference(gradient);
        ref float s = ref MemoryMarshal.GetReference(sum);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var lr = new Vector<float>(learningRate);
            var eps = new Vector<float>(epsilon);
            var wd = new Vector<float>(weightDecay);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> wv = Load(ref w, i);
                Vector<float> g = Load(ref dw, i) + (wd * wv);
                Vector<float> sv = Load(ref s, i) + (g * g);
                Store(sv, ref s, i);
                Store(wv - (lr * (g / (Vector.SquareRoot(sv) + eps))), ref w, i);
            }
        }

        for (; i < n; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            float g = Unsafe.Add(ref dw, i) + (weightDecay * wi);
            float si = Unsafe.Add(ref s, i) + (g * g);
            Unsafe.Add(ref s, i) = si;
            Unsafe.Add(ref w, i) = wi - (learningRate * (g / (MathF.Sqrt(si) + epsilon)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float source, int offset) =>
        Vector.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> vector, ref float destination, int offset) =>
        vector.StoreUnsafe(ref destination, (nuint)offset);
}

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
        bool decoupled = decayFactor != 1f;
        var rule = new AdamRule(beta1, beta2, epsilon, stepSize, inverseSqrtBiasCorrection2);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var wd = new Vector<float>(coupledDecay);
            var decay = new Vector<float>(decayFactor);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> wv = Load(ref w, i);
                if (decoupled)
                {
                    wv *= decay;
                }

                Store(rule.Step(wv, Load(ref dw, i) + (wd * wv), ref mr, ref vr, i), ref w, i);
            }
        }

        for (; i < n; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            if (decoupled)
            {
                wi *= decayFactor;
            }

            Unsafe.Add(ref w, i) = rule.Step(wi, Unsafe.Add(ref dw, i) + (coupledDecay * wi), ref Unsafe.Add(ref mr, i), ref Unsafe.Add(ref vr, i));
        }
    }

    /// <summary>
    /// <see cref="Adam"/> without weight decay on the row <c>[o; b]</c> of a logit <c>z = o·x + b</c>, whose gradient
    /// <c>∇ = dz·[x; 1]</c> is formed in the same pass instead of being stored first: one pass over the row and its moments.
    /// </summary>
    /// <param name="value">[o; b] (x's length + 1), updated in place.</param>
    /// <param name="x">The vector the row multiplies.</param>
    /// <param name="dz">∂loss/∂z.</param>
    /// <param name="m">First moment (as long as <paramref name="value"/>), updated in place.</param>
    /// <param name="v">Second moment, updated in place.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="stepSize">lr / (1 − β₁ᵗ).</param>
    /// <param name="inverseSqrtBiasCorrection2">1 / √(1 − β₂ᵗ).</param>
    /// <remarks>
    /// The same IEEE operations per element as <see cref="Adam"/> with <c>coupledDecay = 0</c> and <c>decayFactor = 1</c> on
    /// the stored gradient, so the same bits; the one exception is a zero's sign, since that rule adds <c>0·w</c> to the
    /// gradient and this one does not (a <c>−0</c> gradient then stays <c>−0</c>, which no later value can tell apart).
    /// </remarks>
    internal static void AdamLogitRow(Span<float> value, ReadOnlySpan<float> x, float dz, Span<float> m, Span<float> v,
        float beta1, float beta2, float epsilon, float stepSize, float inverseSqrtBiasCorrection2)
    {
        int n = x.Length;
        if (value.Length != n + 1 || m.Length != n + 1 || v.Length != n + 1)
        {
            ThrowHelper.ThrowArgument(nameof(value), $"AdamLogitRow: value of {value.Length}, m of {m.Length} and v of {v.Length} must each be x's {n} + 1.");
        }

        ref float w = ref MemoryMarshal.GetReference(value);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        var rule = new AdamRule(beta1, beta2, epsilon, stepSize, inverseSqrtBiasCorrection2);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(dz);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Store(rule.Step(Load(ref w, i), Load(ref xr, i) * s, ref mr, ref vr, i), ref w, i);
            }
        }

        for (; i <= n; i++)
        {
            // The bias (i = n) multiplies 1: its gradient is dz itself.
            float g = i < n ? Unsafe.Add(ref xr, i) * dz : dz;
            Unsafe.Add(ref w, i) = rule.Step(Unsafe.Add(ref w, i), g, ref Unsafe.Add(ref mr, i), ref Unsafe.Add(ref vr, i));
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

    /// <summary>
    /// Adam's moment and value update for one element or one vector, given the gradient (with any coupled decay already
    /// added): the arithmetic <see cref="Adam"/> and <see cref="AdamLogitRow"/> share, in one order and without fused
    /// multiply-adds, so both loops of both rules give an element the same bits.
    /// </summary>
    private readonly struct AdamRule(float beta1, float beta2, float epsilon, float stepSize, float inverseSqrtBiasCorrection2)
    {
        private readonly float _beta1 = beta1, _beta2 = beta2, _c1 = 1f - beta1, _c2 = 1f - beta2;

        /// <summary>Updates m and v at <paramref name="i"/> by g and returns the new value of <paramref name="wv"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal Vector<float> Step(Vector<float> wv, Vector<float> g, ref float m, ref float v, int i)
        {
            Vector<float> mv = (new Vector<float>(_beta1) * Load(ref m, i)) + (new Vector<float>(_c1) * g);
            Vector<float> vv = (new Vector<float>(_beta2) * Load(ref v, i)) + (new Vector<float>(_c2) * (g * g));
            Store(mv, ref m, i);
            Store(vv, ref v, i);
            Vector<float> denominator = (Vector.SquareRoot(vv) * new Vector<float>(inverseSqrtBiasCorrection2)) + new Vector<float>(epsilon);
            return wv - (new Vector<float>(stepSize) * (mv / denominator));
        }

        /// <summary>The scalar form of <see cref="Step(Vector{float}, Vector{float}, ref float, ref float, int)"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal float Step(float wi, float g, ref float m, ref float v)
        {
            float mi = (_beta1 * m) + (_c1 * g);
            float vi = (_beta2 * v) + (_c2 * (g * g));
            (m, v) = (mi, vi);
            float denominator = (MathF.Sqrt(vi) * inverseSqrtBiasCorrection2) + epsilon;
            return wi - (stepSize * (mi / denominator));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float source, int offset) =>
        Vector.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> vector, ref float destination, int offset) =>
        vector.StoreUnsafe(ref destination, (nuint)offset);
}

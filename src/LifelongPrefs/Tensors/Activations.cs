using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LifelongPrefs.Tensors;

public static partial class Kernels
{
    /// <summary>Rectified linear unit: <c>destination[i] = max(x[i], 0)</c>.</summary>
    /// <param name="x">Pre-activations.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>NaN propagates (<c>Relu(NaN)</c> is NaN, as in PyTorch); <c>−0</c> maps to <c>+0</c>.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void Relu(ReadOnlySpan<float> x, Span<float> destination)
    {
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        ElementwiseDriver.Unary(default(ReluOperator), x, destination);
    }

    /// <summary>
    /// Gradient of <see cref="Relu"/>: <c>gradInput[i] = x[i] &gt; 0 ? gradOutput[i] : 0</c>.
    /// </summary>
    /// <param name="x">The forward pass's input (pre-activations).</param>
    /// <param name="gradOutput">Gradient of the loss with respect to the ReLU output; same length as <paramref name="x"/>.</param>
    /// <param name="gradInput">
    /// Receives the first <c>x.Length</c> gradients (overwritten, not accumulated). May be the same span as
    /// <paramref name="x"/> or <paramref name="gradOutput"/>, but must not partially overlap either.
    /// </param>
    /// <remarks>
    /// The subgradient at 0 is taken as 0. Where <paramref name="x"/> is NaN the gradient is 0 (NaN is not
    /// greater than 0); NaN in <paramref name="gradOutput"/> propagates only where <c>x &gt; 0</c>.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> differs in length from <paramref name="x"/>, <paramref name="gradInput"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="gradInput"/> partially overlaps an input.
    /// </exception>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        Guard.Length(gradOutput, x.Length);
        Guard.Destination(gradInput, x.Length);
        Guard.NoPartialOverlap(x, gradInput);
        Guard.NoPartialOverlap(gradOutput, gradInput);
        ElementwiseDriver.Binary(default(ReluBackwardOperator), x, gradOutput, gradInput);
    }

    /// <summary>
    /// Leaky ReLU: <c>destination[i] = x[i] &gt; 0 ? x[i] : negativeSlope · x[i]</c>.
    /// </summary>
    /// <param name="x">Pre-activations.</param>
    /// <param name="negativeSlope">Slope for non-positive inputs, typically 0.01; must be finite.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>NaN propagates.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="negativeSlope"/> is NaN or infinite.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void LeakyRelu(ReadOnlySpan<float> x, float negativeSlope, Span<float> destination)
    {
        ActivationGuard.FiniteSlope(negativeSlope);
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        ElementwiseDriver.Unary(new LeakyReluOperator(negativeSlope), x, destination);
    }

    /// <summary>
    /// Gradient of <see cref="LeakyRelu"/>:
    /// <c>gradInput[i] = x[i] &gt; 0 ? gradOutput[i] : negativeSlope · gradOutput[i]</c>.
    /// </summary>
    /// <param name="x">The forward pass's input (pre-activations).</param>
    /// <param name="gradOutput">Gradient of the loss with respect to the output; same length as <paramref name="x"/>.</param>
    /// <param name="negativeSlope">The slope used in the forward pass; must be finite.</param>
    /// <param name="gradInput">
    /// Receives the first <c>x.Length</c> gradients (overwritten, not accumulated). May be the same span as
    /// <paramref name="x"/> or <paramref name="gradOutput"/>, but must not partially overlap either.
    /// </param>
    /// <remarks>
    /// At 0, and where <paramref name="x"/> is NaN, the negative-side slope is used. NaN in
    /// <paramref name="gradOutput"/> propagates.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="negativeSlope"/> is NaN or infinite.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> differs in length from <paramref name="x"/>, <paramref name="gradInput"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="gradInput"/> partially overlaps an input.
    /// </exception>
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, float negativeSlope, Span<float> gradInput)
    {
        ActivationGuard.FiniteSlope(negativeSlope);
        Guard.Length(gradOutput, x.Length);
        Guard.Destination(gradInput, x.Length);
        Guard.NoPartialOverlap(x, gradInput);
        Guard.NoPartialOverlap(gradOutput, gradInput);
        ElementwiseDriver.Binary(new LeakyReluBackwardOperator(negativeSlope), x, gradOutput, gradInput);
    }

    /// <summary>
    /// GELU with the tanh approximation used by GPT-2 (Hendrycks &amp; Gimpel, 2016):
    /// <c>destination[i] = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))</c>.
    /// </summary>
    /// <param name="x">Pre-activations.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>
    /// Evaluated as the algebraically identical <c>x · σ(2u)</c>, <c>u = √(2/π)(x + 0.044715x³)</c>, with a
    /// sigmoid that only ever exponentiates a non-positive number: this avoids the cancellation in
    /// <c>1 + tanh(u)</c> for negative inputs and cannot overflow. Results are <c>x</c> for large positive
    /// inputs (including +∞) and 0 for large negative ones (including −∞); NaN propagates. Scalar and vector
    /// paths can differ in the last bits (different exp implementations).
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> destination)
    {
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        ElementwiseDriver.Unary(default(GeluOperator), x, destination);
    }

    /// <summary>
    /// Gradient of <see cref="Gelu"/> (the exact derivative of its tanh approximation), fused with the chain
    /// rule in one pass: <c>gradInput[i] = gradOutput[i] · gelu'(x[i])</c>.
    /// </summary>
    /// <param name="x">The forward pass's input (pre-activations).</param>
    /// <param name="gradOutput">Gradient of the loss with respect to the GELU output; same length as <paramref name="x"/>.</param>
    /// <param name="gradInput">
    /// Receives the first <c>x.Length</c> gradients (overwritten, not accumulated). May be the same span as
    /// <paramref name="x"/> or <paramref name="gradOutput"/>, but must not partially overlap either.
    /// </param>
    /// <remarks>
    /// With <c>s = σ(2u)</c>, <c>gelu'(x) = s + x · s(1 − s) · 2√(2/π)(1 + 3 · 0.044715x²)</c>. The derivative
    /// is 1 for large positive and 0 for large negative inputs (including ±∞), never NaN there; NaN in
    /// either input propagates.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> differs in length from <paramref name="x"/>, <paramref name="gradInput"/> is
    /// shorter than <paramref name="x"/>, or <paramref name="gradInput"/> partially overlaps an input.
    /// </exception>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        Guard.Length(gradOutput, x.Length);
        Guard.Destination(gradInput, x.Length);
        Guard.NoPartialOverlap(x, gradInput);
        Guard.NoPartialOverlap(gradOutput, gradInput);
        ElementwiseDriver.Binary(default(GeluBackwardOperator), x, gradOutput, gradInput);
    }

    /// <summary>Logistic sigmoid: <c>destination[i] = 1 / (1 + e^(−x[i]))</c>.</summary>
    /// <param name="x">Pre-activations.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>
    /// Computed by <see cref="TensorPrimitives.Sigmoid{T}(ReadOnlySpan{T}, Span{T})"/>. Saturates to exactly 0
    /// and 1 for large negative and positive inputs (including ±∞) without producing NaN; NaN propagates.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);

        // TensorPrimitives.Sigmoid rejects empty input; an empty batch is a valid no-op for us.
        if (x.IsEmpty)
        {
            return;
        }

        TensorPrimitives.Sigmoid(x, destination);
    }

    /// <summary>
    /// Gradient of <see cref="Sigmoid"/> from its output: <c>gradInput[i] = gradOutput[i] · y[i] · (1 − y[i])</c>.
    /// </summary>
    /// <param name="y">The forward pass's output (values of the sigmoid, in [0, 1]).</param>
    /// <param name="gradOutput">Gradient of the loss with respect to <paramref name="y"/>; same length as <paramref name="y"/>.</param>
    /// <param name="gradInput">
    /// Receives the first <c>y.Length</c> gradients (overwritten, not accumulated). May be the same span as
    /// <paramref name="y"/> or <paramref name="gradOutput"/>, but must not partially overlap either.
    /// </param>
    /// <remarks>NaN in either input propagates.</remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> differs in length from <paramref name="y"/>, <paramref name="gradInput"/> is
    /// shorter than <paramref name="y"/>, or <paramref name="gradInput"/> partially overlaps an input.
    /// </exception>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        Guard.Length(gradOutput, y.Length);
        Guard.Destination(gradInput, y.Length);
        Guard.NoPartialOverlap(y, gradInput);
        Guard.NoPartialOverlap(gradOutput, gradInput);
        ElementwiseDriver.Binary(default(SigmoidBackwardOperator), y, gradOutput, gradInput);
    }

    /// <summary>Hyperbolic tangent: <c>destination[i] = tanh(x[i])</c>.</summary>
    /// <param name="x">Pre-activations.</param>
    /// <param name="destination">
    /// Receives the first <c>x.Length</c> results. May be the same span as <paramref name="x"/> (in place),
    /// but must not partially overlap it.
    /// </param>
    /// <remarks>
    /// Computed by <see cref="TensorPrimitives.Tanh{T}(ReadOnlySpan{T}, Span{T})"/>. Saturates to exactly ±1
    /// for large inputs (including ±∞) without producing NaN; NaN propagates.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <paramref name="x"/> or partially overlaps it.
    /// </exception>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> destination)
    {
        Guard.Destination(destination, x.Length);
        Guard.NoPartialOverlap(x, destination);
        TensorPrimitives.Tanh(x, destination);
    }

    /// <summary>
    /// Gradient of <see cref="Tanh"/> from its output: <c>gradInput[i] = gradOutput[i] · (1 − y[i]²)</c>.
    /// </summary>
    /// <param name="y">The forward pass's output (values of tanh, in [−1, 1]).</param>
    /// <param name="gradOutput">Gradient of the loss with respect to <paramref name="y"/>; same length as <paramref name="y"/>.</param>
    /// <param name="gradInput">
    /// Receives the first <c>y.Length</c> gradients (overwritten, not accumulated). May be the same span as
    /// <paramref name="y"/> or <paramref name="gradOutput"/>, but must not partially overlap either.
    /// </param>
    /// <remarks>
    /// Evaluated as <c>(1 − y)(1 + y)</c>, which stays accurate as <c>|y|</c> approaches 1. NaN in either input
    /// propagates.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> differs in length from <paramref name="y"/>, <paramref name="gradInput"/> is
    /// shorter than <paramref name="y"/>, or <paramref name="gradInput"/> partially overlaps an input.
    /// </exception>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        Guard.Length(gradOutput, y.Length);
        Guard.Destination(gradInput, y.Length);
        Guard.NoPartialOverlap(y, gradInput);
        Guard.NoPartialOverlap(gradOutput, gradInput);
        ElementwiseDriver.Binary(default(TanhBackwardOperator), y, gradOutput, gradInput);
    }
}

/// <summary>Argument checks specific to the activation kernels.</summary>
file static class ActivationGuard
{
    internal static void FiniteSlope(float negativeSlope)
    {
        if (!float.IsFinite(negativeSlope))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(negativeSlope), negativeSlope,
                $"'{nameof(negativeSlope)}' must be finite but was {negativeSlope}.");
        }
    }
}

/// <summary>max(x, 0), propagating NaN.</summary>
file readonly struct ReluOperator : IUnaryOperator
{
    public float Invoke(float x) => x <= 0f ? 0f : x;

    // Clearing the lanes where x <= 0 (a false compare for NaN) keeps NaN and is cheaper than an
    // IEEE-correct Max.
    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.AndNot(x, Vector256.LessThanOrEqual(x, Vector256<float>.Zero));

    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.AndNot(x, Vector512.LessThanOrEqual(x, Vector512<float>.Zero));
}

/// <summary>gradOutput where x &gt; 0, else 0.</summary>
file readonly struct ReluBackwardOperator : IBinaryOperator
{
    public float Invoke(float x, float gradOutput) => x > 0f ? gradOutput : 0f;

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> gradOutput) =>
        gradOutput & Vector256.GreaterThan(x, Vector256<float>.Zero);

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> gradOutput) =>
        gradOutput & Vector512.GreaterThan(x, Vector512<float>.Zero);
}

/// <summary>
/// GELU (tanh approximation) as x · σ(t), t = 2u = 2√(2/π)(x + 0.044715x³), with σ evaluated from
/// e = exp(−|t|) ∈ [0, 1] so nothing overflows and the negative tail keeps its relative accuracy.
/// </summary>
file readonly struct GeluOperator : IUnaryOperator
{
    // 2·√(2/π) and 2·√(2/π)·0.044715.
    internal const float TwoC = 1.5957691216057308f;
    internal const float TwoCA = 0.07135481627260025f;

    // Beyond ±12, |t| > 142 and exp(−|t|) is exactly 0 in float, so σ(t) is exactly 0 or 1. Clamping
    // keeps x³ (and the derivative's x³) finite for huge inputs, where ∞ · 0 would otherwise give NaN.
    internal const float Limit = 12f;

    public float Invoke(float x)
    {
        float xc = Math.Clamp(x, -Limit, Limit);
        float t = xc * (TwoC + TwoCA * xc * xc);
        float e = MathF.Exp(-MathF.Abs(t));
        float sigma = (t >= 0f ? 1f : e) / (1f + e);

        // σ is exactly 0 below −Limit: the answer is −0 there, but −∞ · 0 would be NaN.
        return x < -Limit ? -0f : x * sigma;
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> limit = Vector256.Create(Limit);
        Vector256<float> xc = Vector256.Clamp(x, -limit, limit);
        Vector256<float> t = xc * Vector256.MultiplyAddEstimate(Vector256.Create(TwoCA), xc * xc, Vector256.Create(TwoC));
        Vector256<float> e = Vector256.Exp(-Vector256.Abs(t));
        Vector256<float> one = Vector256<float>.One;
        Vector256<float> sigma = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(t, Vector256<float>.Zero), one, e) / (one + e);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, -limit), Vector256.Create(-0f), x * sigma);
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> limit = Vector512.Create(Limit);
        Vector512<float> xc = Vector512.Clamp(x, -limit, limit);
        Vector512<float> t = xc * Vector512.MultiplyAddEstimate(Vector512.Create(TwoCA), xc * xc, Vector512.Create(TwoC));
        Vector512<float> e = Vector512.Exp(-Vector512.Abs(t));
        Vector512<float> one = Vector512<float>.One;
        Vector512<float> sigma = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(t, Vector512<float>.Zero), one, e) / (one + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, -limit), Vector512.Create(-0f), x * sigma);
    }
}

/// <summary>
/// gradOutput · gelu'(x) with gelu'(x) = σ(t) + x · σ(t)(1 − σ(t)) · t′, t′ = 2√(2/π)(1 + 3 · 0.044715x²);
/// σ(1 − σ) = e / (1 + e)² with the same e = exp(−|t|) as the forward pass.
/// </summary>
file readonly struct GeluBackwardOperator : IBinaryOperator
{
    // t′ = TwoC + ThreeTwoCA · x².
    private const float ThreeTwoCA = 3f * GeluOperator.TwoCA;

    public float Invoke(float x, float gradOutput)
    {
        // Clamping is exact here too: beyond the limit σ(1 − σ) is 0 and σ is 0 or 1.
        float xc = Math.Clamp(x, -GeluOperator.Limit, GeluOperator.Limit);
        float x2 = xc * xc;
        float t = xc * (GeluOperator.TwoC + GeluOperator.TwoCA * x2);
        float e = MathF.Exp(-MathF.Abs(t));
        float inv = 1f / (1f + e);
        float sigma = (t >= 0f ? 1f : e) * inv;
        float dt = GeluOperator.TwoC + ThreeTwoCA * x2;
        return gradOutput * (sigma + xc * dt * e * inv * inv);
    }

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> gradOutput)
    {
        Vector256<float> limit = Vector256.Create(GeluOperator.Limit);
        Vector256<float> xc = Vector256.Clamp(x, -limit, limit);
        Vector256<float> x2 = xc * xc;
        Vector256<float> twoC = Vector256.Create(GeluOperator.TwoC);
        Vector256<float> t = xc * Vector256.MultiplyAddEstimate(Vector256.Create(GeluOperator.TwoCA), x2, twoC);
        Vector256<float> e = Vector256.Exp(-Vector256.Abs(t));
        Vector256<float> one = Vector256<float>.One;
        Vector256<float> inv = one / (one + e);
        Vector256<float> sigma = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(t, Vector256<float>.Zero), one, e) * inv;
        Vector256<float> dt = Vector256.MultiplyAddEstimate(Vector256.Create(ThreeTwoCA), x2, twoC);
        return gradOutput * Vector256.MultiplyAddEstimate(xc * dt, e * inv * inv, sigma);
    }

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> gradOutput)
    {
        Vector512<float> limit = Vector512.Create(GeluOperator.Limit);
        Vector512<float> xc = Vector512.Clamp(x, -limit, limit);
        Vector512<float> x2 = xc * xc;
        Vector512<float> twoC = Vector512.Create(GeluOperator.TwoC);
        Vector512<float> t = xc * Vector512.MultiplyAddEstimate(Vector512.Create(GeluOperator.TwoCA), x2, twoC);
        Vector512<float> e = Vector512.Exp(-Vector512.Abs(t));
        Vector512<float> one = Vector512<float>.One;
        Vector512<float> inv = one / (one + e);
        Vector512<float> sigma = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(t, Vector512<float>.Zero), one, e) * inv;
        Vector512<float> dt = Vector512.MultiplyAddEstimate(Vector512.Create(ThreeTwoCA), x2, twoC);
        return gradOutput * Vector512.MultiplyAddEstimate(xc * dt, e * inv * inv, sigma);
    }
}

/// <summary>gradOutput · y(1 − y), from the sigmoid's output y.</summary>
file readonly struct SigmoidBackwardOperator : IBinaryOperator
{
    public float Invoke(float y, float gradOutput) => gradOutput * (y * (1f - y));

    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> gradOutput) =>
        gradOutput * (y * (Vector256<float>.One - y));

    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> gradOutput) =>
        gradOutput * (y * (Vector512<float>.One - y));
}

/// <summary>gradOutput · (1 − y²), from tanh's output y.</summary>
file readonly struct TanhBackwardOperator : IBinaryOperator
{
    // (1 − y)(1 + y) rather than 1 − y·y: near |y| = 1 the subtraction is exact (Sterbenz) instead of
    // cancelling against a rounded square.
    public float Invoke(float y, float gradOutput) => gradOutput * ((1f - y) * (1f + y));

    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> gradOutput) =>
        gradOutput * ((Vector256<float>.One - y) * (Vector256<float>.One + y));

    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> gradOutput) =>
        gradOutput * ((Vector512<float>.One - y) * (Vector512<float>.One + y));
}

/// <summary>x where x &gt; 0, else slope · x (NaN propagates through the product).</summary>
file readonly struct LeakyReluOperator(float negativeSlope) : IUnaryOperator
{
    private readonly float _slope = negativeSlope;

    public float Invoke(float x) => x > 0f ? x : x * _slope;

    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * _slope);

    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * _slope);
}

/// <summary>gradOutput where x &gt; 0, else slope · gradOutput.</summary>
file readonly struct LeakyReluBackwardOperator(float negativeSlope) : IBinaryOperator
{
    private readonly float _slope = negativeSlope;

    public float Invoke(float x, float gradOutput) => x > 0f ? gradOutput : gradOutput * _slope;

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> gradOutput) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), gradOutput, gradOutput * _slope);

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> gradOutput) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), gradOutput, gradOutput * _slope);
}

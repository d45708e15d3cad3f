using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace LifelongPrefs.Nn;

/// <summary>
/// Causal multi-head scaled dot-product self-attention (Vaswani et al., 2017) with a key padding mask, as used
/// by SASRec (Kang &amp; McAuley, 2018): position <c>t</c> attends only to real positions <c>s ≤ t</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Computation</b> for input <c>x (B, T, C)</c>, <c>nh</c> heads of size <c>d = C / nh</c>:
/// </para>
/// <code>
/// [Q K V] = x·W_qkv + b_qkv                               (B, T, 3C), one GEMM (child "qkv")
/// S_h     = Q_h·K_hᵀ / √d                                  (T, T) per sequence and head
/// A_h     = softmax over the allowed keys of each row       allowed(t, s) ⇔ s ≤ t ∧ mask[b, s] = 1
/// Y_h     = dropout(A_h)·V_h                               (T, d), written into columns h·d … h·d+d−1 of Y
/// output  = Y·W_o + b_o                                    (B, T, C) (child "output")
/// </code>
/// <para>
/// <b>Fully masked rows.</b> A query with no allowed key (with left padding: every padded query, since its only
/// earlier keys are padding too) gets all-zero attention weights, so its attention output is zero and the layer's
/// output there is just the output bias: finite, never NaN, and with zero gradient flowing into the scores.
/// Padded queries that do have allowed keys (possible with other padding patterns) attend normally; this layer
/// does not zero its padded outputs (<see cref="TransformerBlock"/> does).
/// </para>
/// <para>
/// <b>Numerics.</b> Disallowed scores are set to −∞ and each row's softmax runs over its causal prefix with
/// <see cref="Kernels.SoftmaxRows"/>, which subtracts the row maximum, so −∞ entries get probability exactly 0 and
/// no exponent overflows. The per-head products are GEMMs on strided views of the fused <c>(B, T, 3C)</c>
/// projection (leading dimension 3C), so no head is ever copied out.
/// </para>
/// <para>
/// <b>Backward.</b> <c>dA = dY_h·V_hᵀ</c>, <c>dV_h = Ãᵀ·dY_h</c> (Ã after dropout), dropout's mask, then the
/// softmax Jacobian row by row, <c>dS = A ⊙ (dA − Σ_s A·dA)</c>, and <c>dQ_h = dS·K_h/√d</c>,
/// <c>dK_h = dSᵀ·Q_h/√d</c>, then the fused projection.
/// </para>
/// <para>
/// Attention-weight dropout (child <c>attentionDropout</c>, present only when the probability is positive)
/// is active in training mode only.
/// </para>
/// </remarks>
public sealed class CausalSelfAttention : SequenceLayer
{
    private readonly int _dimensions;
    private readonly int _heads;
    private readonly int _headSize;
    private readonly float _scale;
    private readonly Linear _qkv;
    private readonly Linear _projection;
    private readonly Dropout? _dropout;
    private readonly Workspace _attention = new();      // softmax weights A: (B·nh, T, T)
    private readonly Workspace _headOutputs = new();    // concatenated head outputs Y: (B, T, C)
    private readonly Workspace _gradWeights = new();    // dL/dÃ, then reused for dL/dS: (B·nh, T, T)
    private readonly Workspace _gradQkv = new();         // (B, T, 3C)
    private Tensor? _qkvOutput;
    private Tensor? _weights;    // Ã: A itself, or the dropout's output
    private Tensor? _lastOutput;

    /// <summary>Creates a causal self-attention layer.</summary>
    /// <param name="dimensions">C, the model width; positive and divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">The number of attention heads; positive.</param>
    /// <param name="random">The seeded source of the initial weights and of the attention-dropout masks.</param>
    /// <param name="dropout">Dropout probability on the attention weights, in [0, 1); 0 (the default) disables it.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is not positive, <paramref name="dimensions"/> is not divisible by <paramref name="heads"/>, or
    /// <paramref name="dropout"/> is outside [0, 1).
    /// </exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public CausalSelfAttention(int dimensions, int heads, Random random, float dropout = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentNullException.ThrowIfNull(random);
        if (dimensions % heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(heads), heads,
                $"'{nameof(dimensions)}' ({dimensions}) must be divisible by '{nameof(heads)}' ({heads}).");
        }

        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"'{nameof(dropout)}' must be in [0, 1) but was {dropout}.");
        }

        _dimensions = dimensions;
        _heads = heads;
        _headSize = dimensions / heads;
        _scale = 1f / MathF.Sqrt(_headSize);
        _qkv = AddModule("qkv", new Linear(dimensions, 3 * dimensions, random));
        _projection = AddModule("output", new Linear(dimensions, dimensions, random));
        if (dropout > 0f)
        {
            _dropout = AddModule("attentionDropout", new Dropout(dropout, random));
        }
    }

    /// <summary>Gets the model width C.</summary>
    public int Dimensions => _dimensions;

    /// <summary>Gets the number of heads.</summary>
    public int Heads => _heads;

    /// <summary>Gets the fused query/key/value projection, <c>C → 3C</c> (columns: Q, then K, then V).</summary>
    public Linear QueryKeyValue => _qkv;

    /// <summary>Gets the output projection, <c>C → C</c>.</summary>
    public Linear Output => _projection;

    /// <summary>Gets the dropout applied to the attention weights, or null when the probability is 0.</summary>
    public Dropout? AttentionDropout => _dropout;

    /// <summary>
    /// Gets the attention weights of the last forward pass (before dropout), shape <c>(B·nh, T, T)</c>; row
    /// <c>t</c> of head <c>h</c> of sequence <c>b</c> is at <c>[(b·nh + h), t, :]</c>. Owned by the layer.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public Tensor LastAttentionWeights => _lastOutput is null
        ? throw new InvalidOperationException("No forward pass has run yet.")
        : _attention.Get(_lastOutput.Shape[0] * _heads, _lastOutput.Shape[1], _lastOutput.Shape[1]);

    /// <summary>Attends causally over the real positions of every sequence.</summary>
    /// <param name="input">The input, <c>(B, T, C)</c>.</param>
    /// <param name="mask"><c>B·T</c> entries (1 real, 0 padding; empty = all real). Padded keys are never attended to.</param>
    /// <returns>The output, <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not <c>(B, T, C)</c>, or the mask is invalid.</exception>
    public override Tensor Forward(Tensor input, ReadOnlySpan<float> mask)
    {
        (int batch, int steps) = ValidateInput(input, mask, _dimensions);
        ReadOnlySpan<float> m = StoreMask(mask, batch * steps);
        int c = _dimensions, nh = _heads;

        // qkv: (B, T, 3C); head h's query columns start at h·d, its keys at C + h·d, its values at 2C + h·d.
        Tensor qkvTensor = _qkv.Forward(input);
        ReadOnlySpan<float> qkv = qkvTensor.Span;
        Tensor attentionTensor = _attention.Get(batch * nh, steps, steps);
        Span<float> attention = attentionTensor.Span;

        AttentionWeights(qkv, m, attention, batch, steps, c, nh, _scale);

        // Ã = dropout(A) in training; A itself otherwise.
        Tensor weightsTensor = _dropout is null ? attentionTensor : _dropout.Forward(attentionTensor);
        Tensor headsTensor = _headOutputs.Get(batch, steps, c);
        HeadOutputs(weightsTensor.Span, qkv, headsTensor.Span, batch, steps, c, nh);

        _qkvOutput = qkvTensor;
        _weights = weightsTensor;
        Tensor output = _projection.Forward(headsTensor);
        _lastOutput = output;
        return output;
    }

    /// <summary>Backpropagates through the projections, the attention weights and the softmax.</summary>
    /// <param name="gradOutput">dL/d(output), <c>(B, T, C)</c>.</param>
    /// <returns>dL/d(input), <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not match the last output's shape.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor output = ValidateGradOutput(gradOutput, _lastOutput);
        int batch = output.Shape[0], steps = output.Shape[1];
        int c = _dimensions, c3 = 3 * c, d = _headSize, nh = _heads, tt = steps * steps;
        int sequences = steps == 0 ? 0 : batch; // empty sequences have no rows for the strided head views
        ReadOnlySpan<float> qkv = _qkvOutput!.Span;
        ReadOnlySpan<float> weights = _weights!.Span;
        ReadOnlySpan<float> attention = _attention.Get(batch * nh, steps, steps).Span;

        // dY: (B, T, C), the gradient of the concatenated head outputs.
        ReadOnlySpan<float> dHeads = _projection.Backward(gradOutput).Span;
        Tensor dWeightsTensor = _gradWeights.Get(batch * nh, steps, steps);
        Span<float> dWeights = dWeightsTensor.Span;
        Tensor dQkvTensor = _gradQkv.Get(batch, steps, c3);
        Span<float> dQkv = dQkvTensor.Span;

        for (int b = 0; b < sequences; b++)
        {
            for (int hd = 0; hd < nh; hd++)
            {
                int y = b * steps * c + hd * d, v = b * steps * c3 + 2 * c + hd * d, s = (b * nh + hd) * tt;
                // dÃ (T, T) = dY_h (T, d) · V_hᵀ (d, T)
                Kernels.Gemm(Transpose.None, Transpose.Transpose, steps, steps, d, 1f, dHeads[y..], c,
                    qkv[v..], c3, 0f, dWeights[s..], steps);
                // dV_h (T, d) = Ãᵀ (T, T) · dY_h (T, d); overwrites head h's value columns of dQKV.
                Kernels.Gemm(Transpose.Transpose, Transpose.None, steps, d, steps, 1f, weights[s..], steps,
                    dHeads[y..], c, 0f, dQkv[v..], c3);
            }
        }

        // dA: through the dropout mask (a fresh buffer of the dropout's), or dÃ itself.
        ReadOnlySpan<float> dAttention = _dropout is null ? dWeights : _dropout.Backward(dWeightsTensor).Span;

        // Softmax Jacobian, row by row: dS = A ⊙ (dA − ⟨A, dA⟩). dS is written over dÃ, which is no longer needed
        // (with dropout, dA lives in the dropout's buffer; without, the row is updated in place). Masked and
        // future keys have A = 0, so they get exactly zero gradient, and fully masked rows are zero throughout.
        Span<float> dScores = dWeights;
        for (int row = 0; row < batch * nh * steps; row++)
        {
            ReadOnlySpan<float> a = attention.Slice(row * steps, steps);
            Span<float> ds = dScores.Slice(row * steps, steps);
            float dot = TensorPrimitives.Dot(a, dAttention.Slice(row * steps, steps));
            TensorPrimitives.Subtract(dAttention.Slice(row * steps, steps), dot, ds);
            Kernels.Multiply(ds, a, ds);
        }

        for (int b = 0; b < sequences; b++)
        {
            for (int hd = 0; hd < nh; hd++)
            {
                int q = b * steps * c3 + hd * d, s = (b * nh + hd) * tt;
                // dQ_h (T, d) = dS (T, T) · K_h (T, d) / √d
                Kernels.Gemm(Transpose.None, Transpose.None, steps, d, steps, _scale, dScores[s..], steps,
                    qkv[(q + c)..], c3, 0f, dQkv[q..], c3);
                // dK_h (T, d) = dSᵀ (T, T) · Q_h (T, d) / √d
                Kernels.Gemm(Transpose.Transpose, Transpose.None, steps, d, steps, _scale, dScores[s..], steps,
                    qkv[q..], c3, 0f, dQkv[(q + c)..], c3);
            }
        }

        return _qkv.Backward(dQkvTensor);
    }

    /// <summary>
    /// The attention weights A (B·nh, T, T) of every sequence and head: <c>S = Q_h·K_hᵀ·scale</c> read in place from
    /// the fused (B, T, 3C) projection, then the masked causal softmax of each row.
    /// </summary>
    private static void AttentionWeights(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, Span<float> attention,
        int batch, int steps, int c, int nh, float scale)
    {
        int c3 = 3 * c, d = c / nh, tt = steps * steps;
        int sequences = steps == 0 ? 0 : batch; // empty sequences have no rows for the strided head views
        for (int b = 0; b < sequences; b++)
        {
            ReadOnlySpan<float> keyMask = mask.Slice(b * steps, steps);
            for (int hd = 0; hd < nh; hd++)
            {
                int q = b * steps * c3 + hd * d;
                Span<float> scores = attention.Slice((b * nh + hd) * tt, tt);
                // S (T, T) = Q_h (T, d) · K_hᵀ (d, T) / √d, read in place with leading dimension 3C.
                Kernels.Gemm(Transpose.None, Transpose.Transpose, steps, steps, d, scale, qkv[q..], c3,
                    qkv[(q + c)..], c3, 0f, scores, steps);
                for (int t = 0; t < steps; t++)
                {
                    MaskedSoftmaxRow(scores.Slice(t * steps, steps), keyMask, t);
                }
            }
        }
    }

    /// <summary>The concatenated head outputs Y (B, T, C): <c>Y_h = weights_h · V_h</c> into head h's columns.</summary>
    private static void HeadOutputs(ReadOnlySpan<float> weights, ReadOnlySpan<float> qkv, Span<float> heads,
        int batch, int steps, int c, int nh)
    {
        int c3 = 3 * c, d = c / nh, tt = steps * steps;
        int sequences = steps == 0 ? 0 : batch;
        for (int b = 0; b < sequences; b++)
        {
            for (int hd = 0; hd < nh; hd++)
            {
                // Y_h (T, d) = Ã (T, T) · V_h (T, d), written straight into head h's columns of Y (leading dimension C).
                Kernels.Gemm(Transpose.None, Transpose.None, steps, d, steps, 1f, weights[((b * nh + hd) * tt)..], steps,
                    qkv[(b * steps * c3 + 2 * c + hd * d)..], c3, 0f, heads[(b * steps * c + hd * d)..], c);
            }
        }
    }

    /// <summary>
    /// Turns one row of scaled scores into attention weights over the allowed keys (<c>s ≤ t</c> and real):
    /// disallowed keys get exactly 0, and a row with no allowed key becomes all zeros instead of NaN.
    /// </summary>
    private static void MaskedSoftmaxRow(Span<float> row, ReadOnlySpan<float> keyMask, int t)
    {
        Span<float> prefix = row[..(t + 1)];
        bool anyAllowed = false;
        for (int s = 0; s <= t; s++)
        {
            if (keyMask[s] == 0f)
            {
                prefix[s] = float.NegativeInfinity; // exp(−∞) = 0 inside the stable softmax
            }
            else
            {
                anyAllowed = true;
            }
        }

        if (anyAllowed)
        {
            Kernels.SoftmaxRows(prefix, 1, t + 1, prefix);
        }
        else
        {
            // softmax of an all −∞ row is 0/0; define the weights as zero instead.
            prefix.Clear();
        }

        row[(t + 1)..].Clear(); // causal: no weight on future keys
    }

    /// <summary>The number of parameters of the layer, in registration order: qkv.weight, qkv.bias, output.weight, output.bias.</summary>
    internal const int ParameterCount = 4;

    /// <summary>The scratch floats <see cref="Infer"/> needs.</summary>
    internal static int InferScratchLength(int batch, int steps, int dimensions, int heads) =>
        (batch * steps * 4 * dimensions) + (batch * heads * steps * steps);

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/> with <see cref="Module.Training"/> = false (no
    /// attention dropout): the same projections, masked causal softmax and head products, into the caller's
    /// <paramref name="scratch"/> and <paramref name="destination"/>. Bit-identical to that forward pass.
    /// </summary>
    /// <param name="input">x: (batch, steps, C).</param>
    /// <param name="mask">batch·steps entries, 1 real and 0 padding.</param>
    /// <param name="parameters">The layer's <see cref="ParameterCount"/> parameters in registration order.</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="dimensions">C.</param>
    /// <param name="heads">nh; divides C.</param>
    /// <param name="scratch">At least <see cref="InferScratchLength"/> floats.</param>
    /// <param name="destination">Receives the output: (batch, steps, C).</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> mask, ParameterValues parameters,
        int batch, int steps, int dimensions, int heads, Span<float> scratch, Span<float> destination)
    {
        int c = dimensions, c3 = 3 * c, nh = heads, tt = steps * steps, rows = batch * steps;
        float scale = 1f / MathF.Sqrt(c / nh);
        Span<float> qkv = scratch[..(rows * c3)];
        Span<float> attention = scratch.Slice(rows * c3, batch * nh * tt);
        Span<float> headOutputs = scratch.Slice((rows * c3) + (batch * nh * tt), rows * c);

        // qkv: (B, T, 3C); head h's queries at columns h·d, keys at C + h·d, values at 2C + h·d.
        Linear.Infer(input, parameters[0], parameters[1], rows, c, c3, qkv);
        AttentionWeights(qkv, mask, attention, batch, steps, c, nh, scale);
        HeadOutputs(attention, qkv, headOutputs, batch, steps, c, nh);
        Linear.Infer(headOutputs, parameters[2], parameters[3], rows, c, c, destination);
    }
}

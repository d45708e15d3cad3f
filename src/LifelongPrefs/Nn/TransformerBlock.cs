namespace LifelongPrefs.Nn;

/// <summary>
/// A pre-LayerNorm Transformer block for causal sequence models, the building block of SASRec (Kang &amp; McAuley,
/// 2018, "Self-Attentive Sequential Recommendation"): causal multi-head self-attention and a position-wise
/// feed-forward network, each behind a layer norm and added back through a residual connection.
/// </summary>
/// <remarks>
/// <para>For input <c>x (B, T, C)</c> and mask <c>m</c>:</para>
/// <code>
/// r = x + Dropout(Attention(LayerNorm₁(x), m))
/// f = Linear₂(GELU(Linear₁(LayerNorm₂(r))))          C → F → C at every position
/// y = m ⊙ (r + Dropout(f))                            padded positions are exactly zero
/// </code>
/// <para>
/// Pre-norm (normalising the sublayer inputs rather than the sums, as in GPT-2 and in the public SASRec code,
/// which normalises the attention's queries and the feed-forward input) keeps an identity path from input to
/// output, which trains stably without learning-rate warm-up. The feed-forward activation is GELU (Hendrycks &amp;
/// Gimpel, 2016), as in BERT4Rec and GPT-2; the original SASRec used ReLU, and GELU is smooth, which also keeps
/// the finite-difference gradient checks free of kinks. Zeroing padded positions keeps padding at zero from block
/// to block, as SASRec does by multiplying with its timeline mask.
/// </para>
/// <para>
/// Children: <c>norm1</c>, <c>attention</c>, <c>dropout1</c>, <c>norm2</c>, <c>feedForward1</c>,
/// <c>activation</c>, <c>feedForward2</c>, <c>dropout2</c>. The dropouts are active in training mode only; the
/// attention's own attention-weight dropout uses the same probability.
/// </para>
/// </remarks>
public sealed class TransformerBlock : SequenceLayer
{
    private readonly int _dimensions;
    private readonly LayerNorm _norm1;
    private readonly CausalSelfAttention _attention;
    private readonly Dropout _dropout1;
    private readonly LayerNorm _norm2;
    private readonly Linear _feedForward1;
    private readonly Gelu _activation;
    private readonly Linear _feedForward2;
    private readonly Dropout _dropout2;
    private readonly Workspace _residual = new();       // r: (B, T, C)
    private readonly Workspace _output = new();         // y: (B, T, C)
    private readonly Workspace _gradOutputMasked = new();  // m ⊙ dy: (B, T, C)
    private readonly Workspace _gradResidual = new();   // dL/dr: (B, T, C)
    private readonly Workspace _gradInput = new();      // dL/dx: (B, T, C)
    private Tensor? _lastOutput;

    /// <summary>Creates a Transformer block.</summary>
    /// <param name="dimensions">C, the model width; positive and divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">The number of attention heads; positive.</param>
    /// <param name="feedForwardSize">F, the hidden width of the feed-forward network; positive.</param>
    /// <param name="random">The seeded source of the initial weights and of every dropout mask.</param>
    /// <param name="dropout">Dropout probability for both residual branches and the attention weights, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is not positive, <paramref name="dimensions"/> is not divisible by <paramref name="heads"/>, or
    /// <paramref name="dropout"/> is outside [0, 1).
    /// </exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public TransformerBlock(int dimensions, int heads, int feedForwardSize, Random random, float dropout = 0.1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(feedForwardSize);
        ArgumentNullException.ThrowIfNull(random);
        _dimensions = dimensions;
        _norm1 = AddModule("norm1", new LayerNorm(dimensions));
        _attention = AddModule("attention", new CausalSelfAttention(dimensions, heads, random, dropout));
        _dropout1 = AddModule("dropout1", new Dropout(dropout, random));
        _norm2 = AddModule("norm2", new LayerNorm(dimensions));
        _feedForward1 = AddModule("feedForward1", new Linear(dimensions, feedForwardSize, random));
        _activation = AddModule("activation", new Gelu());
        _feedForward2 = AddModule("feedForward2", new Linear(feedForwardSize, dimensions, random));
        _dropout2 = AddModule("dropout2", new Dropout(dropout, random));
    }

    /// <summary>Gets the model width C.</summary>
    public int Dimensions => _dimensions;

    /// <summary>Gets the attention sublayer.</summary>
    public CausalSelfAttention Attention => _attention;

    /// <summary>Gets the dropout on the attention branch.</summary>
    public Dropout AttentionBranchDropout => _dropout1;

    /// <summary>Gets the dropout on the feed-forward branch.</summary>
    public Dropout FeedForwardBranchDropout => _dropout2;

    /// <summary>Runs the block; padded positions of the output are zero.</summary>
    /// <param name="input">The input, <c>(B, T, C)</c>.</param>
    /// <param name="mask"><c>B·T</c> entries (1 real, 0 padding; empty = all real).</param>
    /// <returns>The output, <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not <c>(B, T, C)</c>, or the mask is invalid.</exception>
    public override Tensor Forward(Tensor input, ReadOnlySpan<float> mask)
    {
        (int batch, int steps) = ValidateInput(input, mask, _dimensions);
        int c = _dimensions;
        ReadOnlySpan<float> m = StoreMask(mask, batch * steps);

        // Attention branch: r = x + Dropout(Attention(LN₁(x))).
        Tensor attended = _dropout1.Forward(_attention.Forward(_norm1.Forward(input), m));
        Tensor residual = _residual.Get(batch, steps, c);
        Kernels.Add(input.Span, attended.Span, residual.Span);

        // Feed-forward branch: y = m ⊙ (r + Dropout(W₂·GELU(W₁·LN₂(r)))).
        Tensor fed = _dropout2.Forward(_feedForward2.Forward(_activation.Forward(_feedForward1.Forward(_norm2.Forward(residual)))));
        Tensor output = _output.Get(batch, steps, c);
        Span<float> y = output.Span;
        Kernels.Add(residual.Span, fed.Span, y);
        ZeroPadded(y, m, c);

        _lastOutput = output;
        return output;
    }

    /// <summary>Backpropagates through both residual branches; accumulates every parameter gradient.</summary>
    /// <param name="gradOutput">dL/d(output), <c>(B, T, C)</c>.</param>
    /// <returns>dL/d(input), <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not match the last output's shape.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor output = ValidateGradOutput(gradOutput, _lastOutput);
        int batch = output.Shape[0], steps = output.Shape[1], c = _dimensions;

        // y = m ⊙ (r + f): padded positions pass no gradient to either term.
        Tensor dy = _gradOutputMasked.Get(batch, steps, c);
        gradOutput.Span.CopyTo(dy.Span);
        ZeroPadded(dy.Span, CachedMask, c);

        // dL/dr = dy (identity path) + the feed-forward branch's gradient.
        Tensor dFed = _norm2.Backward(_feedForward1.Backward(_activation.Backward(_feedForward2.Backward(_dropout2.Backward(dy)))));
        Tensor dResidual = _gradResidual.Get(batch, steps, c);
        Kernels.Add(dy.Span, dFed.Span, dResidual.Span);

        // dL/dx = dL/dr (identity path) + the attention branch's gradient.
        Tensor dAttended = _norm1.Backward(_attention.Backward(_dropout1.Backward(dResidual)));
        Tensor gradInput = _gradInput.Get(batch, steps, c);
        Kernels.Add(dResidual.Span, dAttended.Span, gradInput.Span);
        return gradInput;
    }

    private static void ZeroPadded(Span<float> values, ReadOnlySpan<float> mask, int c)
    {
        for (int p = 0; p < mask.Length; p++)
        {
            if (mask[p] == 0f)
            {
                values.Slice(p * c, c).Clear();
            }
        }
    }

    /// <summary>
    /// The number of parameters of a block, in registration order: norm1 (scale, shift), attention (qkv weight and
    /// bias, output weight and bias), norm2 (scale, shift), feedForward1 (weight, bias), feedForward2 (weight, bias).
    /// </summary>
    internal const int ParameterCount = 12;

    /// <summary>The scratch floats <see cref="Infer"/> needs.</summary>
    internal static int InferScratchLength(int batch, int steps, int dimensions, int heads, int feedForwardSize)
    {
        int rows = batch * steps;
        return (2 * rows) + (3 * rows * dimensions) + (rows * feedForwardSize)
            + CausalSelfAttention.InferScratchLength(batch, steps, dimensions, heads);
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/> with <see cref="Module.Training"/> = false (every dropout
    /// is the identity): <c>r = x + Attention(LN₁(x))</c>, <c>y = m ⊙ (r + W₂·GELU(W₁·LN₂(r)))</c>, with the weights
    /// from <paramref name="parameters"/> and every intermediate in <paramref name="scratch"/>. Bit-identical to that
    /// forward pass (the same kernels on the same shapes; the norms use <see cref="LayerNorm.DefaultEpsilon"/>, as
    /// the block's own norms do).
    /// </summary>
    /// <param name="input">x: (batch, steps, C).</param>
    /// <param name="mask">batch·steps entries, 1 real and 0 padding.</param>
    /// <param name="parameters">The block's <see cref="ParameterCount"/> parameters in registration order.</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="dimensions">C.</param>
    /// <param name="heads">Attention heads; divides C.</param>
    /// <param name="scratch">At least <see cref="InferScratchLength"/> floats.</param>
    /// <param name="destination">Receives y: (batch, steps, C); must not overlap <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> mask, ParameterValues parameters,
        int batch, int steps, int dimensions, int heads, Span<float> scratch, Span<float> destination)
    {
        int c = dimensions, rows = batch * steps, f = parameters[9].Length;
        float epsilon = LayerNorm.DefaultEpsilon;
        Span<float> statistics = scratch[..(2 * rows)];
        Span<float> normalized = scratch.Slice(2 * rows, rows * c);        // LN₁(x), later LN₂(r)
        Span<float> branch = scratch.Slice((2 * rows) + (rows * c), rows * c);  // the attention, later the feed-forward output
        Span<float> residual = scratch.Slice((2 * rows) + (2 * rows * c), rows * c);
        Span<float> hidden = scratch.Slice((2 * rows) + (3 * rows * c), rows * f);
        Span<float> attentionScratch = scratch[((2 * rows) + (3 * rows * c) + (rows * f))..];

        // Attention branch: r = x + Attention(LN₁(x)).
        LayerNorm.Infer(input, parameters[0], parameters[1], epsilon, rows, c, statistics, normalized);
        CausalSelfAttention.Infer(normalized, mask, parameters.Skip(2), batch, steps, c, heads, attentionScratch, branch);
        Kernels.Add(input[..(rows * c)], branch, residual);

        // Feed-forward branch: y = m ⊙ (r + W₂·GELU(W₁·LN₂(r))).
        LayerNorm.Infer(residual, parameters[6], parameters[7], epsilon, rows, c, statistics, normalized);
        Linear.Infer(normalized, parameters[8], parameters[9], rows, c, f, hidden);
        Gelu.Infer(hidden, hidden);
        Linear.Infer(hidden, parameters[10], parameters[11], rows, f, c, branch);
        Span<float> y = destination[..(rows * c)];
        Kernels.Add(residual, branch, y);
        ZeroPadded(y, mask[..rows], c);
    }
}

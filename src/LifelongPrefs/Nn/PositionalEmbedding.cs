namespace LifelongPrefs.Nn;

/// <summary>
/// Learned absolute positional embeddings, as in SASRec (Kang &amp; McAuley, 2018, "Self-Attentive Sequential
/// Recommendation"): adds row <c>t</c> of a learned <c>(maxLength, C)</c> table to position <c>t</c> of every
/// sequence, then zeroes the padded positions.
/// </summary>
/// <remarks>
/// <para>
/// <c>y[b, t, :] = mask[b, t] · (x[b, t, :] + P[t, :])</c>. Positions are indices into the padded window
/// (0 … T−1), so with left padding the most recent item is always at position T−1 when windows have a fixed
/// length, which is how SASRec uses them. Zeroing the padded positions keeps padding exactly zero on the way
/// into the attention blocks.
/// </para>
/// <para>
/// The table is the parameter <c>weight</c>, initialised from a truncated normal with σ = 0.02 (the usual
/// Transformer embedding initialisation). Rows never used by a batch get exactly zero gradient.
/// </para>
/// </remarks>
public sealed class PositionalEmbedding : SequenceLayer
{
    private readonly int _maxLength;
    private readonly int _dimensions;
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private Tensor? _lastOutput;

    /// <summary>Creates a positional-embedding table.</summary>
    /// <param name="maxLength">The longest supported sequence; positive.</param>
    /// <param name="dimensions">C, the feature dimension of the sequences; positive.</param>
    /// <param name="random">The seeded source of the initial table.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public PositionalEmbedding(int maxLength, int dimensions, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentNullException.ThrowIfNull(random);
        _maxLength = maxLength;
        _dimensions = dimensions;
        Weight = AddParameter(new Parameter("weight", new Tensor(maxLength, dimensions)));
        Init.TruncatedNormal(Weight.Value.Span, 0.02f, random);
    }

    /// <summary>Gets the longest supported sequence length.</summary>
    public int MaxLength => _maxLength;

    /// <summary>Gets the feature dimension C.</summary>
    public int Dimensions => _dimensions;

    /// <summary>Gets the position table P, shape <c>(maxLength, C)</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>Adds the positions and zeroes the padding: <c>y[b, t] = mask[b, t] · (x[b, t] + P[t])</c>.</summary>
    /// <param name="input">The input, <c>(B, T, C)</c> with <c>T ≤ maxLength</c>.</param>
    /// <param name="mask"><c>B·T</c> entries (1 real, 0 padding; empty = all real).</param>
    /// <returns>The output, <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The input is not <c>(B, T, C)</c>, <c>T</c> exceeds <see cref="MaxLength"/>, or the mask is invalid.
    /// </exception>
    public override Tensor Forward(Tensor input, ReadOnlySpan<float> mask)
    {
        (int batch, int steps) = ValidateInput(input, mask, _dimensions);
        if (steps > _maxLength)
        {
            throw new ArgumentException(
                $"'{nameof(input)}' has {steps} steps (shape {input}) but the positional table holds only {_maxLength}.",
                nameof(input));
        }

        int c = _dimensions;
        ReadOnlySpan<float> m = StoreMask(mask, batch * steps);
        ReadOnlySpan<float> x = input.Span;
        ReadOnlySpan<float> table = Weight.Value.Span;
        Tensor outputTensor = _output.Get(batch, steps, c);
        Span<float> y = outputTensor.Span;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                int p = b * steps + t;
                Span<float> row = y.Slice(p * c, c);
                if (m[p] == 0f)
                {
                    row.Clear(); // padding stays exactly zero
                }
                else
                {
                    Kernels.Add(x.Slice(p * c, c), table.Slice(t * c, c), row);
                }
            }
        }

        _lastOutput = outputTensor;
        return outputTensor;
    }

    /// <summary>
    /// <c>dx[b, t] = mask[b, t] · dy[b, t]</c>; accumulates <c>dP[t] += Σ_b mask[b, t] · dy[b, t]</c>.
    /// </summary>
    /// <param name="gradOutput">dL/d(output), <c>(B, T, C)</c>.</param>
    /// <returns>dL/d(input), <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not match the last output's shape.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        Tensor output = ValidateGradOutput(gradOutput, _lastOutput);
        int batch = output.Shape[0], steps = output.Shape[1], c = _dimensions;
        ReadOnlySpan<float> m = CachedMask;
        ReadOnlySpan<float> dy = gradOutput.Span;
        Span<float> dTable = Weight.Gradient.Span;
        Tensor gradInput = _gradInput.Get(batch, steps, c);
        Span<float> dx = gradInput.Span;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                int p = b * steps + t;
                Span<float> row = dx.Slice(p * c, c);
                if (m[p] == 0f)
                {
                    row.Clear(); // the output was forced to zero, so neither x nor P influenced it
                }
                else
                {
                    ReadOnlySpan<float> g = dy.Slice(p * c, c);
                    g.CopyTo(row);
                    Kernels.Add(dTable.Slice(t * c, c), g, dTable.Slice(t * c, c));
                }
            }
        }

        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: <c>y[b, t] = mask[b, t] · (x[b, t] + P[t])</c> into the
    /// caller's <paramref name="destination"/>, caching nothing. Bit-identical to <see cref="Forward"/>.
    /// </summary>
    /// <param name="input">x: (batch, steps, C).</param>
    /// <param name="mask">batch·steps entries, 1 real and 0 padding.</param>
    /// <param name="table">P: (maxLength, C) with steps ≤ maxLength.</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="dimensions">C.</param>
    /// <param name="destination">Receives y: (batch, steps, C); must not overlap <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> mask, ReadOnlySpan<float> table,
        int batch, int steps, int dimensions, Span<float> destination)
    {
        int c = dimensions;
        for (int p = 0; p < batch * steps; p++)
        {
            Span<float> row = destination.Slice(p * c, c);
            if (mask[p] == 0f)
            {
                row.Clear(); // padding stays exactly zero
            }
            else
            {
                int t = p % steps;
                Kernels.Add(input.Slice(p * c, c), table.Slice(t * c, c), row);
            }
        }
    }
}

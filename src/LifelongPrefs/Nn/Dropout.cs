namespace LifelongPrefs.Nn;

/// <summary>
/// Inverted dropout: in training, each element is zeroed with probability <c>p</c> and the kept ones are
/// scaled by <c>1 / (1 − p)</c>, so the expected output equals the input and inference needs no rescaling.
/// </summary>
/// <remarks>
/// <para>
/// The mask drawn in <see cref="Forward"/> is stored (as 0 or <c>1/(1 − p)</c> per element) and reused by
/// <see cref="Backward"/>: <c>dX = dY ⊙ mask</c>. One <see cref="Random.NextDouble"/> is drawn per element, in
/// row-major order, from the <see cref="Random"/> given to the constructor; nothing is drawn when the layer
/// is the identity (inference mode, or <c>p = 0</c>), so switching to inference does not shift the random
/// stream of later training steps.
/// </para>
/// <para>
/// For gradient checks and reproducible debugging, set <see cref="FreezeMask"/>: forward then reuses the last
/// mask instead of drawing a new one.
/// </para>
/// </remarks>
public sealed class Dropout : Layer
{
    private readonly Random _random;
    private readonly Workspace _maskSlot = new();
    private readonly Workspace _output = new();
    private readonly Workspace _gradInput = new();
    private Tensor? _mask;
    private Tensor? _input;
    private Tensor? _lastOutput;
    private bool _lastWasIdentity;

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="probability">Probability <c>p</c> of zeroing an element, in [0, 1).</param>
    /// <param name="random">The seeded source of the masks.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is outside [0, 1) or NaN.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public Dropout(float probability, Random random)
    {
        if (!(probability >= 0f && probability < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability,
                $"'{nameof(probability)}' must be in [0, 1) but was {probability}.");
        }

        ArgumentNullException.ThrowIfNull(random);
        Probability = probability;
        _random = random;
    }

    /// <summary>Gets the probability of zeroing an element in training mode.</summary>
    public float Probability { get; }

    /// <summary>
    /// Gets or sets a value indicating whether forward passes in training mode reuse the last mask instead of
    /// drawing a new one (no randomness is consumed while frozen). If no mask has been drawn yet, the first
    /// training forward draws one. Meant for gradient checks with a fixed mask.
    /// </summary>
    /// <value>False by default.</value>
    public bool FreezeMask { get; set; }

    /// <summary>
    /// Applies dropout (training, <c>p &gt; 0</c>) or copies the input unchanged (inference or <c>p = 0</c>).
    /// </summary>
    /// <param name="input">Any shape; not modified.</param>
    /// <returns>The output, same shape as the input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <see cref="FreezeMask"/> is set and <paramref name="input"/>'s shape differs from the frozen mask's.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool identity = !Training || Probability == 0f;
        if (!identity && FreezeMask && _mask is not null && !input.Shape.SequenceEqual(_mask.Shape))
        {
            CoreLayerChecks.ThrowArgument(nameof(input),
                $"Dropout.FreezeMask is set but 'input' has shape {input} while the frozen mask has shape {_mask}.");
        }

        Tensor output = _output.GetLike(input);
        if (identity)
        {
            input.Span.CopyTo(output.Span);
        }
        else
        {
            if (!FreezeMask || _mask is null)
            {
                DrawMask(input);
            }

            // y = x ⊙ mask, where the mask already carries the 1/(1 − p) rescaling.
            Kernels.Multiply(input.Span, _mask!.Span, output.Span);
        }

        _input = input;
        _lastOutput = output;
        _lastWasIdentity = identity;
        return output;
    }

    /// <summary>Returns <c>dY ⊙ mask</c> with the mask of the last forward pass (or <c>dY</c> if it was the identity).</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        Tensor input = _input ?? throw CoreLayerChecks.NoForward(nameof(Dropout));
        CoreLayerChecks.RequireSameShape(gradOutput, _lastOutput!, nameof(Dropout));

        Tensor gradInput = _gradInput.GetLike(input);
        if (_lastWasIdentity)
        {
            gradOutput.Span.CopyTo(gradInput.Span);
        }
        else
        {
            Kernels.Multiply(gradOutput.Span, _mask!.Span, gradInput.Span);
        }

        return gradInput;
    }

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: dropout is the identity at inference (inverted dropout
    /// already rescaled in training), so this copies <paramref name="input"/>; callers that own their buffers simply
    /// skip it. Draws nothing.
    /// </summary>
    /// <param name="input">Any values.</param>
    /// <param name="destination">Receives a copy; at least as long as <paramref name="input"/>.</param>
    internal static void Infer(ReadOnlySpan<float> input, Span<float> destination) => input.CopyTo(destination);

    private void DrawMask(Tensor like)
    {
        Tensor mask = _maskSlot.GetLike(like);
        Span<float> m = mask.Span;
        float keptScale = 1f / (1f - Probability);
        double p = Probability;
        for (int i = 0; i < m.Length; i++)
        {
            // Keep with probability 1 − p: NextDouble is uniform on [0, 1).
            m[i] = _random.NextDouble() < p ? 0f : keptScale;
        }

        _mask = mask;
    }
}

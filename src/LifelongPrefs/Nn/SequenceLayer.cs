namespace LifelongPrefs.Nn;

/// <summary>
/// A differentiable map over a padded batch of sequences, <c>(B, T, C)</c> → <c>(B, T, C')</c>, that honours a
/// padding mask, with an explicit backward pass.
/// </summary>
/// <remarks>
/// <para>
/// <b>Mask.</b> The mask has one entry per position, <c>B·T</c> in all, row-major like the input's first two
/// dimensions: <c>mask[b·T + t]</c> is 1 for a real position and 0 for padding. An empty mask means every
/// position is real. Sequences in this project are left-padded (padding first, the real items last), but
/// every sequence layer is correct for any pattern of zeros and ones.
/// </para>
/// <para>
/// <b>Contract.</b> The same as <see cref="Layer"/>: <see cref="Forward"/> copies the mask, caches what backward
/// needs and returns an output owned and reused by the layer (valid until the next forward);
/// <see cref="Backward"/> <b>adds</b> parameter gradients into each <see cref="Parameter.Gradient"/> and returns
/// the gradient with respect to the last input (also owned by the layer). After the first step with a given
/// shape, forward and backward allocate nothing. A call rejected by validation leaves every parameter and
/// cached state unchanged.
/// </para>
/// </remarks>
public abstract class SequenceLayer : Module
{
    private float[] _mask = [];
    private int _maskLength;

    /// <summary>Computes the layer's output for a padded batch of sequences, caching what backward needs.</summary>
    /// <param name="input">The input, <c>(B, T, C)</c>; the layer does not modify it and may keep a reference until backward.</param>
    /// <param name="mask">
    /// <c>B·T</c> entries, 1 for a real position and 0 for padding; empty means all positions are real. The layer
    /// copies it, so the caller may reuse the memory.
    /// </param>
    /// <returns>The output, <c>(B, T, C')</c> (owned by the layer; valid until the next forward).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="input"/> is not rank 3 or has the wrong number of features, or <paramref name="mask"/> is
    /// neither empty nor of length <c>B·T</c>, or holds a value other than 0 and 1.
    /// </exception>
    public abstract Tensor Forward(Tensor input, ReadOnlySpan<float> mask);

    /// <summary>
    /// Propagates <paramref name="gradOutput"/> back through the last forward pass: accumulates parameter gradients
    /// and returns the gradient with respect to that forward pass's input.
    /// </summary>
    /// <param name="gradOutput">Gradient of the loss with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input, <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> does not have the shape of the last output.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public abstract Tensor Backward(Tensor gradOutput);

    /// <summary>Gets the mask of the last forward pass (all ones when the caller passed an empty mask).</summary>
    /// <value><c>B·T</c> entries, 1 for a real position and 0 for padding.</value>
    protected ReadOnlySpan<float> CachedMask => _mask.AsSpan(0, _maskLength);

    /// <summary>
    /// Validates a forward call: <paramref name="input"/> must be <c>(B, T, <paramref name="features"/>)</c> and
    /// <paramref name="mask"/> empty or of length <c>B·T</c> with entries 0 or 1. Touches no state.
    /// </summary>
    /// <param name="input">The input tensor.</param>
    /// <param name="mask">The padding mask.</param>
    /// <param name="features">The feature dimension the layer expects.</param>
    /// <returns>The batch size and the sequence length.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape or the mask is invalid (the message names it and its value).</exception>
    protected static (int Batch, int Steps) ValidateInput(Tensor input, ReadOnlySpan<float> mask, int features)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
        {
            throw new ArgumentException(
                $"'{nameof(input)}' must be rank 3 (batch, steps, features) but has shape {input}.", nameof(input));
        }

        int batch = input.Shape[0], steps = input.Shape[1];
        if (input.Shape[2] != features)
        {
            throw new ArgumentException(
                $"'{nameof(input)}' has {input.Shape[2]} features (shape {input}) but the layer expects {features}.", nameof(input));
        }

        if (!mask.IsEmpty)
        {
            if (mask.Length != batch * steps)
            {
                throw new ArgumentException(
                    $"'{nameof(mask)}' has length {mask.Length} but input {input} needs B·T = {batch * steps} entries (or none).",
                    nameof(mask));
            }

            for (int i = 0; i < mask.Length; i++)
            {
                if (mask[i] != 0f && mask[i] != 1f)
                {
                    throw new ArgumentException(
                        $"'{nameof(mask)}'[{i}] is {mask[i]}; mask entries must be 1 (real position) or 0 (padding).", nameof(mask));
                }
            }
        }

        return (batch, steps);
    }

    /// <summary>
    /// Copies a validated mask for the backward pass (all ones for an empty mask). Allocates only when the
    /// number of positions grows.
    /// </summary>
    /// <param name="mask">The mask passed to the forward call (already validated).</param>
    /// <param name="positions">The number of positions, <c>B·T</c>.</param>
    /// <returns>The cached copy.</returns>
    protected ReadOnlySpan<float> StoreMask(ReadOnlySpan<float> mask, int positions)
    {
        if (_mask.Length < positions)
        {
            _mask = new float[positions];
        }

        _maskLength = positions;
        Span<float> stored = _mask.AsSpan(0, positions);
        if (mask.IsEmpty)
        {
            stored.Fill(1f);
        }
        else
        {
            mask.CopyTo(stored);
        }

        return stored;
    }

    /// <summary>
    /// Validates a backward call: a forward pass must have run and <paramref name="gradOutput"/> must have the
    /// shape of <paramref name="output"/>.
    /// </summary>
    /// <param name="gradOutput">The gradient passed to backward.</param>
    /// <param name="output">The output of the last forward pass, or null if there was none.</param>
    /// <returns><paramref name="output"/>, known to be non-null.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    protected Tensor ValidateGradOutput(Tensor gradOutput, Tensor? output)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (output is null)
        {
            throw new InvalidOperationException($"{GetType().Name}.Backward was called before any Forward.");
        }

        if (!gradOutput.Shape.SequenceEqual(output.Shape))
        {
            throw new ArgumentException(
                $"'{nameof(gradOutput)}' has shape {gradOutput} but the last output of {GetType().Name} has shape {output}.",
                nameof(gradOutput));
        }

        return output;
    }
}

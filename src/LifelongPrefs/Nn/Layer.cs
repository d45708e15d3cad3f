namespace LifelongPrefs.Nn;

/// <summary>
/// A differentiable map from one tensor to another, with an explicit backward pass.
/// </summary>
/// <remarks>
/// <para>
/// <b>Contract.</b> <see cref="Forward"/> caches what the backward pass needs and returns an output tensor
/// that the layer owns and reuses: it stays valid until the next <see cref="Forward"/> call on this layer.
/// <see cref="Backward"/> takes the gradient of the loss with respect to that output, <b>adds</b> the
/// parameter gradients into each <see cref="Parameter.Gradient"/>, and returns the gradient with respect to
/// the input (also owned and reused by the layer). Call <see cref="Backward"/> at most once per
/// <see cref="Forward"/>; calling it before any forward throws <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// Workspaces are kept between calls, so after the first step with a given batch shape a forward and
/// backward pass allocate nothing. Rows are the batch (or batch × time) dimension; inputs are row-major
/// <c>(rows, features)</c> unless a layer documents otherwise.
/// </para>
/// </remarks>
public abstract class Layer : Module
{
    /// <summary>Computes the layer's output for <paramref name="input"/>, caching what backward needs.</summary>
    /// <param name="input">The input; the layer does not modify it and may keep a reference until backward.</param>
    /// <returns>The output (owned by the layer; valid until the next forward).</returns>
    public abstract Tensor Forward(Tensor input);

    /// <summary>
    /// Propagates <paramref name="gradOutput"/> back through the last forward pass: accumulates parameter
    /// gradients and returns the gradient with respect to that forward pass's input.
    /// </summary>
    /// <param name="gradOutput">Gradient of the loss with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the last input (owned by the layer).</returns>
    public abstract Tensor Backward(Tensor gradOutput);
}

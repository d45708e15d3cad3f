namespace LifelongPrefs.Models;

/// <summary>
/// The backward pass of a sampled-softmax output layer over an item table, shared by the sequence models
/// (<see cref="Gru4Rec"/>, <see cref="SasRec"/>): the logits were <c>h_n·E[t_n]</c> for each position's target and
/// <c>H·E[neg]ᵀ</c> for the negatives the batch shares.
/// </summary>
internal static class SampledOutputGradient
{
    /// <summary>
    /// Writes dH and accumulates the table gradient from the logit gradients of <see cref="Nn.Losses.SampledSoftmaxLoss"/>.
    /// The caller adds any bias gradient and marks the touched rows.
    /// </summary>
    /// <param name="gradHidden">dH (N, d), overwritten.</param>
    /// <param name="tableGrad">dE (items, d), accumulated into at the target and negative rows.</param>
    /// <param name="negativeRowGrad">Scratch (S, d) for the negatives' row gradients; may alias <paramref name="negativeVectors"/>, which is read first.</param>
    /// <param name="gradPositive">g⁺ (N): the gradient of each position's target logit.</param>
    /// <param name="gradNegative">g⁻ (N, S): the gradients of the negative logits.</param>
    /// <param name="hidden">H (N, d), the hidden states the logits were computed from.</param>
    /// <param name="table">E (items, d), the item rows.</param>
    /// <param name="negativeVectors">E[neg] (S, d), the negatives' rows gathered for the forward pass.</param>
    /// <param name="targets">t (N), each position's target item.</param>
    /// <param name="negatives">neg (S), the shared negative items.</param>
    /// <param name="d">The row width.</param>
    internal static void Backward(Span<float> gradHidden, Span<float> tableGrad, Span<float> negativeRowGrad,
        ReadOnlySpan<float> gradPositive, ReadOnlySpan<float> gradNegative, ReadOnlySpan<float> hidden, ReadOnlySpan<float> table,
        ReadOnlySpan<float> negativeVectors, ReadOnlySpan<int> targets, ReadOnlySpan<int> negatives, int d)
    {
        int n = targets.Length, s = negatives.Length;

        // dH = g⁻ (N,S) · E[neg] (S,d) + g⁺_n · E[t_n]; dE[t_n] += g⁺_n · h_n.
        Kernels.Gemm(Transpose.None, Transpose.None, n, d, s, 1f, gradNegative, s, negativeVectors, d, 0f, gradHidden, d);
        for (int k = 0; k < n; k++)
        {
            int item = targets[k];
            Kernels.Axpy(gradPositive[k], table.Slice(item * d, d), gradHidden.Slice(k * d, d));
            Kernels.Axpy(gradPositive[k], hidden.Slice(k * d, d), tableGrad.Slice(item * d, d));
        }

        // dE[neg] (S,d) = g⁻ᵀ (S,N) · H (N,d), scattered so repeated negatives accumulate.
        Kernels.Gemm(Transpose.Transpose, Transpose.None, s, d, n, 1f, gradNegative, s, hidden, d, 0f, negativeRowGrad, d);
        Kernels.ScatterAddRows(negativeRowGrad, d, negatives, tableGrad);
    }
}

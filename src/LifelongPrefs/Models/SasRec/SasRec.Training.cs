using System.Diagnostics;
using System.Numerics.Tensors;
using LifelongPrefs.Nn.Losses;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Models;

public sealed partial class SasRec
{
    /// <summary>Embeds, encodes and normalises a (batch, n) window of shifted ids: returns h (batch, n, d).</summary>
    private Tensor Encode(ReadOnlySpan<int> ids, ReadOnlySpan<float> mask, int batch)
    {
        Tensor e = _network.Items.Forward(ids, batch, _options.MaxLength);                   // E[ids]: (B,n,d)

        // √d scaling of the item embeddings, as in the paper's code, so the item signal dominates the positions at first.
        Tensor scaled = View(_scaledBuffer, ref _scaledView, batch);
        Kernels.Scale(e.Span, _embeddingScale, scaled.Span);
        Tensor x = _network.Positions.Forward(scaled, mask);               // + P, padding zeroed
        x = _network.EmbeddingDropout.Forward(x);
        foreach (TransformerBlock block in _network.Blocks)
        {
            x = block.Forward(x, mask);
        }

        return _network.Norm.Forward(x);                                    // h: (B,n,d)
    }

    /// <summary>Forward and backward on the first <paramref name="batch"/> rows of the batch buffers (no step); returns the loss.</summary>
    private float Backward(int batch)
    {
        int t = _options.MaxLength, d = _options.Dimensions, items = _itemCount;
        int positions = batch * t;
        Tensor h = Encode(_ids.AsSpan(0, positions), _mask.AsSpan(0, positions), batch);

        // The positions that have a next-item target (real items; padding has target -1).
        int count = 0;
        for (int p = 0; p < positions; p++)
        {
            if (_targets[p] > 0)
            {
                _positions[count] = p;
                _classTargets[count] = _targets[p] - 1;
                count++;
            }
        }

        Span<float> gradHidden = _gradHidden.AsSpan(0, positions * d);
        gradHidden.Clear();
        EnsureCapacity(count, items);
        Span<float> gathered = _gathered.AsSpan(0, count * d), gradGathered = _gradGathered.AsSpan(0, count * d);
        Kernels.GatherRows(h.Span, d, _positions.AsSpan(0, count), gathered); // H: (N,d)

        Parameter table = _network.Items.Weight;
        ReadOnlySpan<float> itemRows = ItemRows(table.Value.Span);                   // E[1..]: (I,d)
        Span<float> itemGrad = table.Gradient.Span.Slice(d, items * d);
        float loss = _options.Loss switch
        {
            SasRecLoss.FullSoftmax => FullSoftmax(count, items, gathered, gradGathered, itemRows, itemGrad, table),
            SasRecLoss.BinaryCrossEntropy => SampledBinary(count, items, gathered, gradGathered, itemRows, itemGrad, table),
            _ => SampledSoftmax(count, gathered, gradGathered, itemRows, itemGrad, table),
        };

        // dh: scatter the per-position gradients back to their (b, t) slots; padding rows stay zero.
        Kernels.ScatterAddRows(gradGathered, d, _positions.AsSpan(0, count), gradHidden);
        Tensor g = View(_gradHidden, ref _gradHiddenView, batch);
        g = _network.Norm.Backward(g);
        for (int b = _network.Blocks.Length - 1; b >= 0; b--)
        {
            g = _network.Blocks[b].Backward(g);
        }

        g = _network.EmbeddingDropout.Backward(g);
        g = _network.Positions.Backward(g);
        Tensor gradEmbedding = View(_gradEmbeddingBuffer, ref _gradEmbeddingView, batch);
        Kernels.Scale(g.Span, _embeddingScale, gradEmbedding.Span);    // through the √d scaling
        _network.Items.Backward(gradEmbedding);                          // input path: scatter into E[ids]
        return loss;
    }

    /// <summary>Full softmax CE over all items for N positions, in chunks; writes dH and adds dE.</summary>
    private float FullSoftmax(int count, int items, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        int d = _options.Dimensions;
        double loss = 0;
        for (int start = 0; start < count; start += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, count - start);
            ReadOnlySpan<float> hChunk = gathered.Slice(start * d, rows * d);
            Span<float> logits = _logits.AsSpan(0, rows * items);

            // logits = H·Eᵀ: (rows, I)
            Kernels.Gemm(Transpose.None, Transpose.Transpose, rows, items, d, 1f, hChunk, d, itemRows, d, 0f, logits, items);
            float chunkLoss = SoftmaxCrossEntropyLoss.Compute(logits, rows, items, _classTargets.AsSpan(start, rows), [], [], logits);

            // The loss is the mean over all N positions: re-weight this chunk's mean (rows/N).
            float weight = (float)rows / count;
            loss += chunkLoss * weight;
            Kernels.Scale(logits, weight, logits);

            // dH = dLogits·E: (rows, d); dE += dLogitsᵀ·H: (I, d), the output path of the shared table.
            Kernels.Gemm(Transpose.None, Transpose.None, rows, d, items, 1f, logits, items, itemRows, d, 0f, gradGathered.Slice(start * d, rows * d), d);
            Kernels.Gemm(Transpose.Transpose, Transpose.None, items, d, rows, 1f, logits, items, hChunk, d, 1f, itemGrad, d);
        }

        // Every item row received an output gradient.
        for (int i = 1; i <= items; i++)
        {
            table.MarkRowTouched(i);
        }

        return (float)loss;
    }

    /// <summary>The paper's loss: BCE of the target (label 1) and one uniform negative (label 0) per position.</summary>
    private float SampledBinary(int count, int items, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        int d = _options.Dimensions;
        Span<float> logits = _logits.AsSpan(0, 2 * count), labels = _logits.AsSpan(2 * count, 2 * count);
        for (int n = 0; n < count; n++)
        {
            int target = _classTargets[n];
            int negative = _random.Next(items);
            if (negative == target && items > 1)
            {
                // Resample once over the other items so the negative is never the positive.
                negative = (target + 1 + _random.Next(items - 1)) % items;
            }

            _negatives[n] = negative;
            ReadOnlySpan<float> hn = gathered.Slice(n * d, d);
            logits[2 * n] = TensorPrimitives.Dot(hn, itemRows.Slice(target * d, d));
            logits[(2 * n) + 1] = TensorPrimitives.Dot(hn, itemRows.Slice(negative * d, d));
            labels[2 * n] = 1f;
            labels[(2 * n) + 1] = 0f;
        }

        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(logits, labels, [], [], logits);

        // s = h·e: dh = g_pos·e_pos + g_neg·e_neg, de_pos += g_pos·h, de_neg += g_neg·h.
        for (int n = 0; n < count; n++)
        {
            int target = _classTargets[n], negative = _negatives[n];
            float gp = logits[2 * n], gn = logits[(2 * n) + 1];
            ReadOnlySpan<float> hn = gathered.Slice(n * d, d);
            Span<float> dh = gradGathered.Slice(n * d, d);
            Kernels.Scale(itemRows.Slice(target * d, d), gp, dh);
            Kernels.Axpy(gn, itemRows.Slice(negative * d, d), dh);
            Kernels.Axpy(gp, hn, itemGrad.Slice(target * d, d));
            Kernels.Axpy(gn, hn, itemGrad.Slice(negative * d, d));
            table.MarkRowTouched(target + 1);
            table.MarkRowTouched(negative + 1);
        }

        return loss;
    }

    /// <summary>
    /// Sampled softmax with logQ over <see cref="SasRecOptions.Negatives"/> shared popularity-sampled negatives, accidental
    /// hits removed; writes dH and adds dE to the target and negative rows of the shared table.
    /// </summary>
    private float SampledSoftmax(int count, ReadOnlySpan<float> gathered, Span<float> gradGathered,
        ReadOnlySpan<float> itemRows, Span<float> itemGrad, Parameter table)
    {
        Debug.Assert(_sampler is not null, "Fit and Update build the sampler before training.");
        int d = _options.Dimensions, s = _options.Negatives;
        ReadOnlySpan<int> targets = _classTargets.AsSpan(0, count);
        _sampler.Sample(_sharedNegatives);
        _sampler.LogProbabilities(_sharedNegatives, _negativeLogQ);
        _sampler.LogProbabilities(targets, _positiveLogQ.AsSpan(0, count));
        Kernels.GatherRows(itemRows, d, _sharedNegatives, _negativeVectors);      // E[neg]: (S,d)

        // Positive logits h_n·E[t_n]; negative logits (N,S) = H (N,d) · E[neg]ᵀ (d,S).
        Span<float> positive = _positiveLogits.AsSpan(0, count), negative = _logits.AsSpan(0, count * s);
        for (int n = 0; n < count; n++)
        {
            positive[n] = TensorPrimitives.Dot(gathered.Slice(n * d, d), itemRows.Slice(targets[n] * d, d));
        }

        Kernels.Gemm(Transpose.None, Transpose.Transpose, count, s, d, 1f, gathered, d, _negativeVectors, d, 0f, negative, s);

        // In place: the negative logits become dLoss/dLogits (exactly 0 at accidental hits); the mean over N is included.
        Span<float> gradPositive = _positiveGrad.AsSpan(0, count);
        float loss = SampledSoftmaxLoss.Compute(positive, negative, s, _positiveLogQ.AsSpan(0, count), _negativeLogQ,
            targets, _sharedNegatives, [], [], gradPositive, negative);

        // dH and the output path of the shared table: dE[t_n] += g⁺_n · h_n, dE[neg] += g⁻ᵀ · H.
        SampledOutputGradient.Backward(gradGathered, itemGrad, _negativeRowGrad, gradPositive, negative, gathered, itemRows,
            _negativeVectors, targets, _sharedNegatives, d);
        foreach (int target in targets)
        {
            table.MarkRowTouched(target + 1);
        }

        foreach (int item in _sharedNegatives)
        {
            table.MarkRowTouched(item + 1);
        }

        return loss;
    }

    /// <summary>A (batch, n, d) view over the front of <paramref name="buffer"/>, cached so a steady batch size allocates nothing.</summary>
    private Tensor View(float[] buffer, ref Tensor? cache, int batch)
    {
        int t = _options.MaxLength, d = _options.Dimensions;
        if (cache is null || cache.Shape[0] != batch)
        {
            cache = Tensor.FromArray(buffer, buffer.Length).Slice(0, batch * t * d).Reshape(batch, t, d);
        }

        return cache;
    }

    private void EnsureCapacity(int count, int items)
    {
        int d = _options.Dimensions;
        if (_gathered.Length < count * d)
        {
            _gathered = new float[_ids.Length * d];
            _gradGathered = new float[_ids.Length * d];
        }

        long logits = _options.Loss switch
        {
            SasRecLoss.FullSoftmax => (long)Math.Min(ChunkRows, _ids.Length) * items,
            SasRecLoss.BinaryCrossEntropy => 4L * _ids.Length,
            _ => (long)_ids.Length * _options.Negatives,
        };
        if (_logits.Length < logits)
        {
            _logits = new float[logits];
        }
    }
}

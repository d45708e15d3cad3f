using System.Numerics.Tensors;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Nn.Sampling;
using Tensor = LifelongPrefs.Tensors.Tensor;

namespace LifelongPrefs.Models;

public sealed partial class Gru4Rec
{
    /// <summary>Forward and backward on a batch of windows (indices into the current training windows); no step.</summary>
    float IEpochModel.Backward(ReadOnlySpan<int> examples)
    {
        int b = examples.Length, t = _options.MaxLength, h = _options.HiddenSize, items = ItemCount;
        int cells = b * t;
        Span<int> ids = _ids.AsSpan(0, cells);
        Span<float> mask = _mask.AsSpan(0, cells);
        ids.Clear();
        mask.Clear();

        // Right-align each window; record the flat position and target of every real input.
        int real = 0;
        for (int r = 0; r < b; r++)
        {
            Window w = _windows[examples[r]];
            List<int> s = _runSequences[w.Sequence];
            int used = w.End - 1 - w.Start;
            for (int j = 0; j < used; j++)
            {
                int p = (r * t) + t - used + j;
                ids[p] = s[w.Start + j] + 1;
                mask[p] = 1f;
                _positions[real] = p;
                _targets[real] = s[w.Start + j + 1];
                real++;
            }
        }

        // x: (B,T,D) → states: (B,T,H) → hidden: (N,H), the states at real positions.
        Tensor x = _embedding.Forward(ids, b, t);
        Tensor states = _gru.Forward(x, mask);
        ReadOnlySpan<int> positions = _positions.AsSpan(0, real);
        ReadOnlySpan<int> targets = _targets.AsSpan(0, real);
        Span<float> hidden = _hidden.AsSpan(0, real * h);
        Span<float> gradHidden = _gradHidden.AsSpan(0, real * h);
        Kernels.GatherRows(states.Span, h, positions, hidden);

        float loss = _options.Loss == Gru4RecLoss.FullSoftmax
            ? FullSoftmaxStep(hidden, targets, gradHidden, real, items)
            : SampledSoftmaxStep(hidden, targets, gradHidden, real, items);

        // dStates: (B,T,H), zero at padding, dHidden scattered to the real positions.
        Tensor gradStates = _gradStates.Get(b, t, h);
        gradStates.Span.Clear();
        Kernels.ScatterAddRows(gradHidden, h, positions, gradStates.Span);
        Tensor gradX = _gru.Backward(gradStates);
        _embedding.Backward(gradX);
        return loss;
    }

    /// <summary>Full softmax CE: logits (N,I) = hidden·Wᵀ + b; accumulates dW, db and writes dHidden.</summary>
    private float FullSoftmaxStep(ReadOnlySpan<float> hidden, ReadOnlySpan<int> targets, Span<float> gradHidden, int n, int items)
    {
        int h = _options.HiddenSize;
        if (_logits.Length < n * items)
        {
            _logits = new float[_options.BatchSize * _options.MaxLength * items];
        }

        if (_biasGrad.Length < items)
        {
            _biasGrad = new float[items];
        }

        ReadOnlySpan<float> w = OutputTable();
        Span<float> logits = _logits.AsSpan(0, n * items);
        // logits (N,I) = hidden (N,H) · Wᵀ (H,I) + b
        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, items, h, 1f, hidden, h, w, h, 0f, logits, items);
        Kernels.AddRowBias(_outputBias.Value.Span, logits, n, items);
        // In place: the logits become dLoss/dlogits = (softmax − onehot)/N.
        float loss = SoftmaxCrossEntropyLoss.Compute(logits, n, items, targets, [], [], logits);
        // dHidden (N,H) = dlogits (N,I) · W (I,H)
        Kernels.Gemm(Transpose.None, Transpose.None, n, h, items, 1f, logits, items, w, h, 0f, gradHidden, h);
        // dW (I,H) += dlogitsᵀ (I,N) · hidden (N,H)
        Kernels.Gemm(Transpose.Transpose, Transpose.None, items, h, n, 1f, logits, items, hidden, h, 1f, OutputGradient(), h);
        Span<float> biasGrad = _biasGrad.AsSpan(0, items);
        Kernels.SumColumns(logits, n, items, biasGrad);
        Kernels.Add(_outputBias.Gradient.Span, biasGrad, _outputBias.Gradient.Span);
        MarkOutputRowsTouched(items);
        return loss;
    }

    /// <summary>Sampled softmax with logQ over shared negatives; accumulates the output gradients and writes dHidden.</summary>
    private float SampledSoftmaxStep(ReadOnlySpan<float> hidden, ReadOnlySpan<int> targets, Span<float> gradHidden, int n, int items)
    {
        PopularitySampler sampler = _sampler ??= new PopularitySampler(UniformWeights(items), _samplerRandom);
        int h = _options.HiddenSize, s = _options.Negatives;
        ReadOnlySpan<float> w = OutputTable(), bias = _outputBias.Value.Span;
        Span<float> wGrad = OutputGradient(), biasGrad = _outputBias.Gradient.Span;
        sampler.Sample(_negatives);
        sampler.LogProbabilities(_negatives, _negativeLogQ);
        sampler.LogProbabilities(targets, _positiveLogQ.AsSpan(0, n));
        Kernels.GatherRows(w, h, _negatives, _negativeVectors);

        // Positive logits: hidden_n · W[t_n] + b[t_n]; negative logits (N,S) = hidden (N,H) · W[neg]ᵀ (H,S) + b[neg].
        Span<float> positive = _positiveLogits.AsSpan(0, n), negative = _negativeGrad.AsSpan(0, n * s);
        for (int k = 0; k < n; k++)
        {
            positive[k] = TensorPrimitives.Dot(hidden.Slice(k * h, h), w.Slice(targets[k] * h, h)) + bias[targets[k]];
        }

        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, s, h, 1f, hidden, h, _negativeVectors, h, 0f, negative, s);
        for (int j = 0; j < s; j++)
        {
            _negativeBiasGrad[j] = bias[_negatives[j]];
        }

        Kernels.AddRowBias(_negativeBiasGrad, negative, n, s);
        Span<float> gradPositive = _positiveGrad.AsSpan(0, n);
        float loss = SampledSoftmaxLoss.Compute(positive, negative, s, _positiveLogQ.AsSpan(0, n), _negativeLogQ,
            targets, _negatives, [], [], gradPositive, negative);

        // dHidden = g⁺_n · W[t_n] + g⁻ · W[neg]; dW[t_n] += g⁺_n · hidden_n; dW[neg] += g⁻ᵀ · hidden (the W[neg] scratch is reused).
        SampledOutputGradient.Backward(gradHidden, wGrad, _negativeVectors, gradPositive, negative, hidden, w, _negativeVectors,
            targets[..n], _negatives, h);

        // db[t_n] += g⁺_n; db[neg] += column sums of g⁻.
        for (int k = 0; k < n; k++)
        {
            biasGrad[targets[k]] += gradPositive[k];
        }

        Kernels.SumColumns(negative, n, s, _negativeBiasGrad);
        for (int j = 0; j < s; j++)
        {
            biasGrad[_negatives[j]] += _negativeBiasGrad[j];
        }

        MarkOutputRowsTouched(items);
        return loss;
    }

    /// <summary>With a tied output, the embedding rows got dense gradients: mark them for the lazy optimizer.</summary>
    private void MarkOutputRowsTouched(int items)
    {
        if (_outputWeight is null)
        {
            for (int i = 1; i <= items; i++)
            {
                _embedding.Weight.MarkRowTouched(i);
            }
        }
    }
}

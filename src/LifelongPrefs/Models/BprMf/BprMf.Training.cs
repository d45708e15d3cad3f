using System.Numerics.Tensors;
using LifelongPrefs.Nn.Losses;

namespace LifelongPrefs.Models;

public sealed partial class BprMf
{
    /// <summary>Forward and backward of BPR on the first <paramref name="n"/> triples of the batch buffers (no step).</summary>
    private float Backward(int n)
    {
        int d = _options.Dimensions;
        ReadOnlySpan<int> u = _u.AsSpan(0, n), i = _i.AsSpan(0, n), j = _j.AsSpan(0, n);
        Span<float> pu = _pu.AsSpan(0, n * d), qi = _qi.AsSpan(0, n * d), qj = _qj.AsSpan(0, n * d);
        Kernels.GatherRows(_users.Value.Span, d, u, pu);
        Kernels.GatherRows(_items.Value.Span, d, i, qi);
        Kernels.GatherRows(_items.Value.Span, d, j, qj);
        ReadOnlySpan<float> bias = _itemBias.Value.Span;
        for (int k = 0; k < n; k++)
        {
            _xi[k] = TensorPrimitives.Dot(pu.Slice(k * d, d), qi.Slice(k * d, d)) + bias[i[k]];
            _xj[k] = TensorPrimitives.Dot(pu.Slice(k * d, d), qj.Slice(k * d, d)) + bias[j[k]];
        }

        float loss = BprLoss.Compute(_xi.AsSpan(0, n), _xj.AsSpan(0, n), BatchWeights(n), [], _gi.AsSpan(0, n), _gj.AsSpan(0, n));

        // x_ui − x_uj = p·(q_i − q_j) + b_i − b_j: dp = g_i·q_i + g_j·q_j, dq_i = g_i·p, dq_j = g_j·p, db = g.
        Span<float> userGrad = _users.Gradient.Span, itemGrad = _items.Gradient.Span, biasGrad = _itemBias.Gradient.Span;
        for (int k = 0; k < n; k++)
        {
            Span<float> du = userGrad.Slice(u[k] * d, d);
            Kernels.Axpy(_gi[k], qi.Slice(k * d, d), du);
            Kernels.Axpy(_gj[k], qj.Slice(k * d, d), du);
            Kernels.Axpy(_gi[k], pu.Slice(k * d, d), itemGrad.Slice(i[k] * d, d));
            Kernels.Axpy(_gj[k], pu.Slice(k * d, d), itemGrad.Slice(j[k] * d, d));
            biasGrad[i[k]] += _gi[k];
            biasGrad[j[k]] += _gj[k];
            _users.MarkRowTouched(u[k]);
            _items.MarkRowTouched(i[k]);
            _items.MarkRowTouched(j[k]);
            _itemBias.MarkRowTouched(i[k]);
            _itemBias.MarkRowTouched(j[k]);
        }

        return loss;
    }
}

using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace LifelongPrefs.Models;

/// <summary>
/// How one differentially private update trains (<see cref="IContinualModel.TrainPairsPrivately"/>).
/// </summary>
/// <param name="ClipNorm">C: each user's contribution to the item tables in one step is scaled to L2 norm at most C.</param>
/// <param name="NoiseStandardDeviation">σ·C, added to every element of the item factors and biases at every step (0 only in tests).</param>
/// <param name="SamplingRate">q: each user of the update joins each step independently with this probability.</param>
/// <param name="Steps">The update's number of steps (chosen without looking at the data).</param>
/// <param name="Generator">The source of the sampling and the noise (not the model's own generator).</param>
internal readonly record struct PrivateUpdatePlan(float ClipNorm, float NoiseStandardDeviation, double SamplingRate, int Steps, Random Generator);

/// <summary>
/// DP-SGD for BPR-MF's continual updates: the example is a user (all of their pairs in the update), sampled into each
/// step by a coin of probability q; the user's gradient on the shared tables (item factors and biases) is clipped in
/// L2 as one vector, the clipped contributions are summed, and N(0, (σC)²) noise is added to <b>every</b> item row and
/// bias, touched or not (noising only the touched rows would reveal which items were bought). The user's own factor
/// row, which no other user's data moves, takes its plain gradient.
/// </summary>
/// <remarks>
/// The noisy sum is divided by the model's batch size, a public constant (dividing by the number of users sampled
/// would reveal it), and the hooks see <see cref="IContinualModel.LastBatchSize"/> = batch size for the same reason.
/// Every item row is marked touched, so the lazy optimizer steps the whole item table at every private step.
/// </remarks>
public sealed partial class BprMf
{
    private PrivateUpdatePlan? _private;
    private readonly List<int> _groupUsers = [];      // the update's users, in order of first appearance
    private readonly List<int> _groupStart = [];      // CSR offsets into _groupPairs (one more than users)
    private readonly List<int> _groupPairs = [];      // pair indices, grouped by user
    private readonly List<int> _sampled = [];
    private int[] _slot = [];                         // item → its row in the user's scratch contribution, or −1
    private readonly List<int> _contribRows = [];
    private float[] _contrib = [];                    // (rows, d + 1): item factor gradient, then bias gradient
    private float[] _userGrad = [];

    /// <summary>For tests: each (user, positive, negative) triple of the last private backward pass, in order.</summary>
    internal List<(int User, int Item, int Negative)> LastPrivateTriples { get; } = [];

    /// <summary>For tests: the L2 norm of each sampled user's contribution before clipping, in the last private backward pass.</summary>
    internal List<double> LastPrivateNorms { get; } = [];

    /// <inheritdoc/>
    int IContinualModel.UpdateEpochs => _options.UpdateEpochs;

    /// <inheritdoc/>
    void IContinualModel.TrainPairsPrivately(List<(int User, int Item)> pairs, float[] weights, in PrivateUpdatePlan plan)
    {
        if (_items.Rows == 0)
        {
            return;
        }

        BeginPrivate(pairs, weights, plan);
        try
        {
            for (int step = 0; step < plan.Steps; step++)
            {
                _sampled.Clear();
                for (int g = 0; g < _groupUsers.Count; g++)
                {
                    if (plan.Generator.NextDouble() < plan.SamplingRate)
                    {
                        _sampled.Add(g);
                    }
                }

                _trainer.Step(this, CollectionsMarshal.AsSpan(_sampled));
            }
        }
        finally
        {
            EndPrivate();
        }
    }

    /// <summary>Groups the pairs by user and switches backward to the private pass (tests call it directly).</summary>
    internal void BeginPrivate(List<(int User, int Item)> pairs, float[] weights, in PrivateUpdatePlan plan)
    {
        if (weights.Length != 0 && weights.Length != pairs.Count)
        {
            throw new ArgumentException($"'{nameof(weights)}' holds {weights.Length} weights for {pairs.Count} pairs.", nameof(weights));
        }

        var group = new Dictionary<int, List<int>>();
        _groupUsers.Clear();
        for (int k = 0; k < pairs.Count; k++)
        {
            if (!group.TryGetValue(pairs[k].User, out List<int>? list))
            {
                group[pairs[k].User] = list = [];
                _groupUsers.Add(pairs[k].User);
            }

            list.Add(k);
        }

        _groupStart.Clear();
        _groupPairs.Clear();
        foreach (int user in _groupUsers)
        {
            _groupStart.Add(_groupPairs.Count);
            _groupPairs.AddRange(group[user]);
        }

        _groupStart.Add(_groupPairs.Count);
        _pairs = pairs;
        _pairWeights = weights;
        _private = plan;
        if (_slot.Length < _items.Rows)
        {
            _slot = new int[_items.Rows];
            Array.Fill(_slot, -1);
        }

        int d = _options.Dimensions;
        if (_userGrad.Length < d)
        {
            _userGrad = new float[d];
        }
    }

    /// <summary>Leaves the private pass.</summary>
    internal void EndPrivate()
    {
        _private = null;
        _pairs = [];
        _pairWeights = [];
    }

    /// <summary>
    /// The private backward pass over the sampled user groups <paramref name="groups"/> (indices into the update's users):
    /// clipped per-user item gradients, noise on every item element, the users' own rows unclipped. Accumulates; no step.
    /// </summary>
    internal float PrivateBackward(ReadOnlySpan<int> groups)
    {
        PrivateUpdatePlan plan = _private!.Value;
        int d = _options.Dimensions, width = d + 1;
        float inv = 1f / _options.BatchSize;
        ReadOnlySpan<float> users = _users.Value.Span, items = _items.Value.Span, bias = _itemBias.Value.Span;
        Span<float> userGrad = _users.Gradient.Span, itemGrad = _items.Gradient.Span, biasGrad = _itemBias.Gradient.Span;
        LastPrivateTriples.Clear();
        LastPrivateNorms.Clear();
        double loss = 0;
        int counted = 0;
        foreach (int g in groups)
        {
            int user = _groupUsers[g];
            ReadOnlySpan<float> pu = users.Slice(user * d, d);
            Span<float> du = _userGrad.AsSpan(0, d);
            du.Clear();
            for (int k = _groupStart[g]; k < _groupStart[g + 1]; k++)
            {
                int pair = _groupPairs[k], i = _pairs[pair].Item, j = _random.Next(_items.Rows);
                LastPrivateTriples.Add((user, i, j));
                float w = _pairWeights.Length > 0 ? _pairWeights[pair] : 1f;
                ReadOnlySpan<float> qi = items.Slice(i * d, d), qj = items.Slice(j * d, d);
                double x = TensorPrimitives.Dot(pu, qi) - TensorPrimitives.Dot(pu, qj) + bias[i] - bias[j];

                // −w·log σ(x): d/dx = −w·σ(−x), written through exp of a non-positive number so it cannot overflow.
                double s = x >= 0 ? Math.Exp(-x) / (1 + Math.Exp(-x)) : 1 / (1 + Math.Exp(x));
                float gx = (float)(-w * s);
                loss += w * (x >= 0 ? Math.Log(1 + Math.Exp(-x)) : -x + Math.Log(1 + Math.Exp(x)));
                counted++;

                // dx/dp = q_i − q_j, dx/dq_i = p, dx/dq_j = −p, dx/db_i = 1, dx/db_j = −1.
                Kernels.Axpy(gx, qi, du);
                Kernels.Axpy(-gx, qj, du);
                Kernels.Axpy(gx, pu, Contribution(i, width)[..d]);
                Kernels.Axpy(-gx, pu, Contribution(j, width)[..d]);
                Contribution(i, width)[d] += gx;
                Contribution(j, width)[d] -= gx;
            }

            // The user's whole contribution to the shared tables is one vector: clip it as one.
            Span<float> all = _contrib.AsSpan(0, _contribRows.Count * width);
            double norm = Math.Sqrt(TensorPrimitives.SumOfSquares(all));
            LastPrivateNorms.Add(norm);
            float scale = inv * (float)(norm > plan.ClipNorm ? plan.ClipNorm / norm : 1);
            for (int r = 0; r < _contribRows.Count; r++)
            {
                int row = _contribRows[r];
                ReadOnlySpan<float> c = _contrib.AsSpan(r * width, width);
                Kernels.Axpy(scale, c[..d], itemGrad.Slice(row * d, d));
                biasGrad[row] += scale * c[d];
                _slot[row] = -1;
            }

            _contribRows.Clear();
            Kernels.Axpy(inv, du, userGrad.Slice(user * d, d));
            _users.MarkRowTouched(user);
        }

        // Noise on every element of the shared tables, touched or not.
        if (plan.NoiseStandardDeviation > 0)
        {
            double sd = (double)plan.NoiseStandardDeviation * inv;
            for (int e = 0; e < itemGrad.Length; e++)
            {
                itemGrad[e] += (float)(sd * Init.StandardNormal(plan.Generator));
            }

            for (int e = 0; e < biasGrad.Length; e++)
            {
                biasGrad[e] += (float)(sd * Init.StandardNormal(plan.Generator));
            }
        }

        for (int row = 0; row < _items.Rows; row++)
        {
            _items.MarkRowTouched(row);
            _itemBias.MarkRowTouched(row);
        }

        _lastBatch = _options.BatchSize;
        return counted > 0 ? (float)(loss / counted) : 0f;
    }

    /// <summary>The user's scratch contribution row for <paramref name="item"/> (item factors, then bias), zeroed on first use.</summary>
    private Span<float> Contribution(int item, int width)
    {
        int slot = _slot[item];
        if (slot < 0)
        {
            slot = _contribRows.Count;
            _contribRows.Add(item);
            _slot[item] = slot;
            if (_contrib.Length < (slot + 1) * width)
            {
                Array.Resize(ref _contrib, Math.Max(_contrib.Length * 2, (slot + 1) * width));
            }

            _contrib.AsSpan(slot * width, width).Clear();
        }

        return _contrib.AsSpan(slot * width, width);
    }
}

using BenchmarkDotNet.Attributes;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Nn.Sampling;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// One full training step (forward, loss, backward, optimizer) of the four model shapes the neural-engine
/// issue names. Each step must allocate nothing after warm-up; the Allocated column shows it. Steps end with
/// <see cref="Optimizer.StepAndZeroGrad"/>, which clears each gradient row right after using it, so every step
/// starts from zero gradients without a separate sweep.
/// </summary>
/// <remarks>
/// The item-scoring heads (SASRec's shared item embeddings, GRU4Rec's sampled softmax, the history bag)
/// gather item rows straight from the embedding table with <see cref="Kernels.GatherRows"/> and scatter
/// their gradients back with <see cref="Kernels.ScatterAddRows"/>, marking the touched rows so that the lazy
/// optimizers update only those rows.
/// </remarks>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private const int Seed = 2024;

    // ---- MLP 128 → 256 → 256 → 1, ReLU, batch 256, BCE, Adam ----
    private Sequential _mlp = null!;
    private Adam _mlpOptimizer = null!;
    private Tensor _mlpInput = null!;
    private float[] _mlpTargets = [];
    private Tensor _mlpGrad = null!;

    // ---- SASRec: 10 000 items, d = 64, T = 50, 2 blocks, 1 head, batch 128, BCE with one negative per position ----
    private const int SeqItems = 10_000, SeqDim = 64, SeqLength = 50, SeqBatch = 128;
    private Embedding _sasItems = null!;
    private PositionalEmbedding _sasPositions = null!;
    private TransformerBlock[] _sasBlocks = [];
    private LayerNorm _sasNorm = null!;
    private Adam _sasOptimizer = null!;
    private int[] _seqInputs = [], _seqTargets = [], _seqNegatives = [];
    private float[] _seqMask = [];
    private ItemHead _sasPositiveHead = null!, _sasNegativeHead = null!;
    private float[] _sasLogits = [], _sasLabels = [], _sasLogitGrad = [];
    private Tensor _sasHiddenGrad = null!;

    // ---- GRU4Rec: 10 000 items, d = 64, T = 50, batch 128, sampled softmax with 100 shared negatives ----
    private const int GruNegatives = 100;
    private Embedding _gruItems = null!;
    private Gru _gru = null!;
    private Adam _gruOptimizer = null!;
    private UniformSampler _gruSampler = null!;
    private int[] _gruNegativeIds = [];
    private float[] _gruNegativeLogQ = [], _gruPositiveLogQ = [];
    private ItemHead _gruPositiveHead = null!;
    private float[] _gruNegativeRows = [], _gruPositiveLogits = [], _gruNegativeLogits = [], _gruGradPositive = [], _gruGradNegative = [];
    private Tensor _gruHiddenGrad = null!;

    // ---- History bag: 50 000 × 64 table, mean of 20 history items, 1 positive + 100 candidates, CE, batch 256, lazy Adam ----
    private const int BagItems = 50_000, BagDim = 64, BagHistory = 20, BagCandidates = 101, BagBatch = 256;
    private Parameter _bagTable = null!;
    private Adam _bagOptimizer = null!;
    private int[] _bagHistoryIds = [], _bagCandidateIds = [], _bagTargets = [];
    private float[] _bagHistoryRows = [], _bagUsers = [], _bagCandidateRows = [], _bagLogits = [], _bagLogitGrad = [];
    private float[] _bagUserGrad = [], _bagCandidateGrad = [], _bagHistoryGrad = [];

    [GlobalSetup(Target = nameof(MlpStep))]
    public void SetupMlp()
    {
        var random = new Random(Seed);
        _mlp = new Sequential(new Linear(128, 256, random), new Relu(), new Linear(256, 256, random), new Relu(), new Linear(256, 1, random));
        ((Linear)_mlp[0]).ComputeInputGradient = false; // the input is data: no gradient needed
        _mlpOptimizer = new Adam(_mlp.Parameters, learningRate: 1e-3f);
        _mlpInput = Tensor.FromArray(Uniform(256 * 128, random), 256, 128);
        _mlpTargets = new float[256];
        for (int i = 0; i < _mlpTargets.Length; i++)
        {
            _mlpTargets[i] = random.Next(2);
        }

        _mlpGrad = new Tensor(256, 1);
        MlpStep();
    }

    /// <summary>Forward, BCE-with-logits, backward and Adam for a 128-256-256-1 ReLU MLP on a batch of 256.</summary>
    [Benchmark]
    public float MlpStep()
    {
        Tensor logits = _mlp.Forward(_mlpInput);
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(logits.Span, _mlpTargets, [], [], _mlpGrad.Span);
        _mlp.Backward(_mlpGrad);
        _mlpOptimizer.StepAndZeroGrad();
        return loss;
    }

    [GlobalSetup(Target = nameof(SasRecStep))]
    public void SetupSasRec()
    {
        var random = new Random(Seed);
        _sasItems = new Embedding(SeqItems + 1, SeqDim, random, paddingIndex: 0);
        _sasPositions = new PositionalEmbedding(SeqLength, SeqDim, random);
        _sasBlocks = [new TransformerBlock(SeqDim, 1, SeqDim, random, dropout: 0.2f), new TransformerBlock(SeqDim, 1, SeqDim, random, dropout: 0.2f)];
        _sasNorm = new LayerNorm(SeqDim);
        var parameters = new List<Parameter>();
        parameters.AddRange(_sasItems.Parameters);
        parameters.AddRange(_sasPositions.Parameters);
        foreach (TransformerBlock block in _sasBlocks)
        {
            parameters.AddRange(block.Parameters);
        }

        parameters.AddRange(_sasNorm.Parameters);
        _sasOptimizer = new Adam(parameters, learningRate: 1e-3f, lazy: true);
        MakeSequences(random);
        _sasPositiveHead = new ItemHead(_sasItems.Weight, SeqBatch * SeqLength);
        _sasNegativeHead = new ItemHead(_sasItems.Weight, SeqBatch * SeqLength);
        int n = SeqBatch * SeqLength;
        _sasLogits = new float[2 * n];
        _sasLogitGrad = new float[2 * n];
        _sasLabels = new float[2 * n];
        _sasLabels.AsSpan(0, n).Fill(1f);
        _sasHiddenGrad = new Tensor(SeqBatch, SeqLength, SeqDim);
        SasRecStep();
    }

    /// <summary>SASRec (Kang &amp; McAuley 2018): embeddings + positions, 2 Transformer blocks, BCE on the positive and one negative per position.</summary>
    [Benchmark]
    public float SasRecStep()
    {
        int n = SeqBatch * SeqLength;
        Tensor x = _sasItems.Forward(_seqInputs, SeqBatch, SeqLength);
        x = _sasPositions.Forward(x, _seqMask);
        foreach (TransformerBlock block in _sasBlocks)
        {
            x = block.Forward(x, _seqMask);
        }

        Tensor h = _sasNorm.Forward(x);
        // Scores against the shared item embeddings: logits[0..n) positives, [n..2n) negatives.
        _sasPositiveHead.Scores(h.Span, _seqTargets, _sasLogits.AsSpan(0, n));
        _sasNegativeHead.Scores(h.Span, _seqNegatives, _sasLogits.AsSpan(n, n));
        float loss = BinaryCrossEntropyWithLogitsLoss.Compute(_sasLogits, _sasLabels, [], Mask2(), _sasLogitGrad);

        _sasHiddenGrad.Span.Clear();
        _sasPositiveHead.Backward(h.Span, _sasLogitGrad.AsSpan(0, n), _sasHiddenGrad.Span);
        _sasNegativeHead.Backward(h.Span, _sasLogitGrad.AsSpan(n, n), _sasHiddenGrad.Span);
        Tensor g = _sasNorm.Backward(_sasHiddenGrad);
        for (int i = _sasBlocks.Length - 1; i >= 0; i--)
        {
            g = _sasBlocks[i].Backward(g);
        }

        g = _sasPositions.Backward(g);
        _sasItems.Backward(g);
        _sasOptimizer.StepAndZeroGrad();
        return loss;
    }

    [GlobalSetup(Target = nameof(Gru4RecStep))]
    public void SetupGru4Rec()
    {
        var random = new Random(Seed);
        _gruItems = new Embedding(SeqItems + 1, SeqDim, random, paddingIndex: 0);
        _gru = new Gru(SeqDim, SeqDim, random);
        var parameters = new List<Parameter>();
        parameters.AddRange(_gruItems.Parameters);
        parameters.AddRange(_gru.Parameters);
        _gruOptimizer = new Adam(parameters, learningRate: 1e-3f, lazy: true);
        MakeSequences(random);
        _gruSampler = new UniformSampler(SeqItems + 1, random);
        _gruNegativeIds = new int[GruNegatives];
        _gruNegativeLogQ = new float[GruNegatives];
        _gruPositiveLogQ = new float[SeqBatch * SeqLength];
        _gruPositiveHead = new ItemHead(_gruItems.Weight, SeqBatch * SeqLength);
        _gruNegativeRows = new float[GruNegatives * SeqDim];
        int n = SeqBatch * SeqLength;
        _gruPositiveLogits = new float[n];
        _gruGradPositive = new float[n];
        _gruNegativeLogits = new float[n * GruNegatives];
        _gruGradNegative = new float[n * GruNegatives];
        _gruHiddenGrad = new Tensor(SeqBatch, SeqLength, SeqDim);
        Gru4RecStep();
    }

    /// <summary>GRU4Rec-style next-item step: embeddings, GRU, sampled softmax over the positive and 100 shared uniform negatives.</summary>
    [Benchmark]
    public float Gru4RecStep()
    {
        int n = SeqBatch * SeqLength;
        Tensor x = _gruItems.Forward(_seqInputs, SeqBatch, SeqLength);
        Tensor h = _gru.Forward(x, _seqMask);

        _gruSampler.Sample(_gruNegativeIds);
        _gruSampler.LogProbabilities(_gruNegativeIds, _gruNegativeLogQ);
        _gruSampler.LogProbabilities(_seqTargets, _gruPositiveLogQ);
        _gruPositiveHead.Scores(h.Span, _seqTargets, _gruPositiveLogits);
        // Negative logits: (n, 64)·(100, 64)ᵀ in one GEMM.
        Kernels.GatherRows(_gruItems.Weight.Value.Span, SeqDim, _gruNegativeIds, _gruNegativeRows);
        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, GruNegatives, SeqDim, 1f, h.Span, SeqDim, _gruNegativeRows, SeqDim, 0f, _gruNegativeLogits, GruNegatives);
        float loss = SampledSoftmaxLoss.Compute(_gruPositiveLogits, _gruNegativeLogits, GruNegatives, _gruPositiveLogQ, _gruNegativeLogQ,
            _seqTargets, _gruNegativeIds, [], _seqMask, _gruGradPositive, _gruGradNegative);

        _gruHiddenGrad.Span.Clear();
        _gruPositiveHead.Backward(h.Span, _gruGradPositive, _gruHiddenGrad.Span);
        // dH += dNeg·E_neg ; dE_neg = dNegᵀ·H (into the negative rows' scratch, then scattered).
        Kernels.Gemm(Transpose.None, Transpose.None, n, SeqDim, GruNegatives, 1f, _gruGradNegative, GruNegatives, _gruNegativeRows, SeqDim, 1f, _gruHiddenGrad.Span, SeqDim);
        Kernels.Gemm(Transpose.Transpose, Transpose.None, GruNegatives, SeqDim, n, 1f, _gruGradNegative, GruNegatives, h.Span, SeqDim, 0f, _gruNegativeRows, SeqDim);
        ItemHead.ScatterRows(_gruItems.Weight, _gruNegativeIds, _gruNegativeRows);

        Tensor g = _gru.Backward(_gruHiddenGrad);
        _gruItems.Backward(g);
        _gruOptimizer.StepAndZeroGrad();
        return loss;
    }

    [GlobalSetup(Target = nameof(HistoryBagStep))]
    public void SetupHistoryBag()
    {
        var random = new Random(Seed);
        var table = new Tensor(BagItems, BagDim);
        Init.Normal(table.Span, 0f, 0.05f, random);
        _bagTable = new Parameter("items", table, sparseRows: true);
        _bagOptimizer = new Adam([_bagTable], learningRate: 1e-3f, lazy: true);
        _bagHistoryIds = new int[BagBatch * BagHistory];
        _bagCandidateIds = new int[BagBatch * BagCandidates];
        _bagTargets = new int[BagBatch]; // the positive is candidate 0 of each row
        for (int i = 0; i < _bagHistoryIds.Length; i++)
        {
            _bagHistoryIds[i] = random.Next(BagItems);
        }

        for (int i = 0; i < _bagCandidateIds.Length; i++)
        {
            _bagCandidateIds[i] = random.Next(BagItems);
        }

        _bagHistoryRows = new float[BagBatch * BagHistory * BagDim];
        _bagUsers = new float[BagBatch * BagDim];
        _bagCandidateRows = new float[BagBatch * BagCandidates * BagDim];
        _bagLogits = new float[BagBatch * BagCandidates];
        _bagLogitGrad = new float[BagBatch * BagCandidates];
        _bagUserGrad = new float[BagBatch * BagDim];
        HistoryBagStep();
    }

    /// <summary>
    /// History-bag recommender: user = mean of 20 history embeddings, softmax cross-entropy over 1 positive + 100
    /// sampled candidates per user, lazy Adam over only the rows the batch touched.
    /// </summary>
    [Benchmark]
    public float HistoryBagStep()
    {
        ReadOnlySpan<float> table = _bagTable.Value.Span;
        Kernels.GatherRows(table, BagDim, _bagHistoryIds, _bagHistoryRows);
        Kernels.GatherRows(table, BagDim, _bagCandidateIds, _bagCandidateRows);
        for (int b = 0; b < BagBatch; b++)
        {
            // u_b = mean of the history rows; logits_b = C_b · u_b.
            Span<float> user = _bagUsers.AsSpan(b * BagDim, BagDim);
            Kernels.SumColumns(_bagHistoryRows.AsSpan(b * BagHistory * BagDim, BagHistory * BagDim), BagHistory, BagDim, user);
            Kernels.Scale(user, 1f / BagHistory, user);
            Kernels.ScoreAll(_bagCandidateRows.AsSpan(b * BagCandidates * BagDim, BagCandidates * BagDim), user, _bagLogits.AsSpan(b * BagCandidates, BagCandidates));
        }

        float loss = Kernels.SoftmaxCrossEntropy(_bagLogits, BagBatch, BagCandidates, _bagTargets, _bagLogitGrad);
        Span<float> tableGrad = _bagTable.Gradient.Span;
        for (int b = 0; b < BagBatch; b++)
        {
            ReadOnlySpan<float> dLogits = _bagLogitGrad.AsSpan(b * BagCandidates, BagCandidates);
            ReadOnlySpan<float> candidates = _bagCandidateRows.AsSpan(b * BagCandidates * BagDim, BagCandidates * BagDim);
            ReadOnlySpan<float> user = _bagUsers.AsSpan(b * BagDim, BagDim);
            Span<float> dUser = _bagUserGrad.AsSpan(b * BagDim, BagDim);
            // dU = Cᵀ·dLogits; each candidate row c receives dLogits[c]·u, straight into the table gradient.
            Kernels.Gemv(Transpose.Transpose, BagCandidates, BagDim, 1f, candidates, BagDim, dLogits, 0f, dUser);
            for (int c = 0; c < BagCandidates; c++)
            {
                int id = _bagCandidateIds[b * BagCandidates + c];
                Kernels.Axpy(dLogits[c], user, tableGrad.Slice(id * BagDim, BagDim));
                _bagTable.MarkRowTouched(id);
            }

            // Each of the 20 history rows receives dU / 20 (the mean's derivative).
            for (int j = 0; j < BagHistory; j++)
            {
                int id = _bagHistoryIds[b * BagHistory + j];
                Kernels.Axpy(1f / BagHistory, dUser, tableGrad.Slice(id * BagDim, BagDim));
                _bagTable.MarkRowTouched(id);
            }
        }

        _bagOptimizer.StepAndZeroGrad();
        return loss;
    }

    private float[] _mask2 = [];

    /// <summary>The BCE mask over [positives; negatives]: padded positions count for neither.</summary>
    private float[] Mask2()
    {
        if (_mask2.Length == 0)
        {
            int n = _seqMask.Length;
            _mask2 = new float[2 * n];
            _seqMask.CopyTo(_mask2, 0);
            _seqMask.CopyTo(_mask2, n);
        }

        return _mask2;
    }

    /// <summary>Left-padded sequences with 10–50 real items; the target is the next item, the negative a random one.</summary>
    private void MakeSequences(Random random)
    {
        int n = SeqBatch * SeqLength;
        _seqInputs = new int[n];
        _seqTargets = new int[n];
        _seqNegatives = new int[n];
        _seqMask = new float[n];
        for (int b = 0; b < SeqBatch; b++)
        {
            int real = random.Next(10, SeqLength + 1);
            for (int t = SeqLength - real; t < SeqLength; t++)
            {
                int i = b * SeqLength + t;
                _seqInputs[i] = 1 + random.Next(SeqItems);
                _seqTargets[i] = 1 + random.Next(SeqItems);
                _seqNegatives[i] = 1 + random.Next(SeqItems);
                _seqMask[i] = 1f;
            }
        }
    }

    private static float[] Uniform(int length, Random random)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    /// <summary>
    /// Scores hidden rows against one item each from a shared embedding table (row-wise dot products) and
    /// backpropagates into both the hidden rows and the table's touched rows.
    /// </summary>
    private sealed class ItemHead(Parameter table, int rows)
    {
        private readonly float[] _rows = new float[rows * table.Value.RowLength];
        private readonly float[] _rowGrad = new float[rows * table.Value.RowLength];
        private int[] _ids = [];

        internal void Scores(ReadOnlySpan<float> hidden, int[] ids, Span<float> logits)
        {
            int d = table.Value.RowLength;
            _ids = ids;
            Kernels.GatherRows(table.Value.Span, d, ids, _rows);
            for (int i = 0; i < ids.Length; i++)
            {
                logits[i] = System.Numerics.Tensors.TensorPrimitives.Dot(hidden.Slice(i * d, d), _rows.AsSpan(i * d, d));
            }
        }

        internal void Backward(ReadOnlySpan<float> hidden, ReadOnlySpan<float> gradLogits, Span<float> gradHidden)
        {
            int d = table.Value.RowLength;
            for (int i = 0; i < _ids.Length; i++)
            {
                float g = gradLogits[i];
                // dh_i += g·e_i ; de_i = g·h_i
                Kernels.Axpy(g, _rows.AsSpan(i * d, d), gradHidden.Slice(i * d, d));
                Kernels.Scale(hidden.Slice(i * d, d), g, _rowGrad.AsSpan(i * d, d));
            }

            ScatterRows(table, _ids, _rowGrad);
        }

        internal static void ScatterRows(Parameter table, ReadOnlySpan<int> ids, ReadOnlySpan<float> rowGradients)
        {
            Kernels.ScatterAddRows(rowGradients, table.Value.RowLength, ids, table.Gradient.Span);
            foreach (int id in ids)
            {
                table.MarkRowTouched(id);
            }
        }
    }
}

using BenchmarkDotNet.Attributes;
using LifelongPrefs.Nn;
using LifelongPrefs.Nn.Losses;
using LifelongPrefs.Nn.Sampling;
using LifelongPrefs.Tensors;
using LifelongPrefs.Training;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// One full training step (forward, loss, backward, optimizer) of the four model shapes the neural-engine
/// issue names, the history bag in two designs (negatives shared per batch, or candidates per user). Each step must allocate nothing after warm-up; the Allocated column shows it. Steps end with
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

    // ---- History bag: 50 000 × 64 table, user = mean of 20 history items, batch 256, softmax CE, lazy Adam ----
    // HistoryBagStep: each user's positive + 100 negatives sampled once per batch and shared (sampled softmax).
    // HistoryBagPerUserCandidatesStep: 1 positive + 100 candidates drawn for every user separately.
    private const int BagItems = 50_000, BagDim = 64, BagHistory = 20, BagNegatives = 100, BagCandidates = 101, BagBatch = 256;
    private Embedding _bagItems = null!;
    private Adam _bagOptimizer = null!;
    private UniformSampler _bagSampler = null!;
    private ItemHead _bagPositiveHead = null!;
    private int[] _bagHistoryIds = [], _bagPositiveIds = [], _bagNegativeIds = [];
    private float[] _bagPositiveLogQ = [], _bagNegativeLogQ = [], _bagNegativeRows = [];
    private float[] _bagUsers = [], _bagUserGrad = [], _bagPositiveLogits = [], _bagNegativeLogits = [], _bagGradPositive = [], _bagGradNegative = [];
    private float[] _bagMask = [];
    private Tensor _bagHistoryGrad = null!;

    private Parameter _bagTable = null!;
    private int[] _bagCandidateIds = [], _bagTargets = [];
    private float[] _bagHistoryRows = [], _bagCandidateRows = [], _bagLogits = [], _bagLogitGrad = [];

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
        _bagItems = new Embedding(BagItems, BagDim, random);
        _bagOptimizer = new Adam(_bagItems.Parameters, learningRate: 1e-3f, lazy: true);
        _bagSampler = new UniformSampler(BagItems, random);
        _bagHistoryIds = RandomIds(BagBatch * BagHistory, random);
        _bagPositiveIds = RandomIds(BagBatch, random);
        _bagNegativeIds = new int[BagNegatives];
        _bagPositiveLogQ = new float[BagBatch];
        _bagNegativeLogQ = new float[BagNegatives];
        _bagNegativeRows = new float[BagNegatives * BagDim];
        _bagPositiveHead = new ItemHead(_bagItems.Weight, BagBatch);
        _bagUsers = new float[BagBatch * BagDim];
        _bagUserGrad = new float[BagBatch * BagDim];
        _bagPositiveLogits = new float[BagBatch];
        _bagGradPositive = new float[BagBatch];
        _bagNegativeLogits = new float[BagBatch * BagNegatives];
        _bagGradNegative = new float[BagBatch * BagNegatives];
        _bagMask = new float[BagBatch];
        Array.Fill(_bagMask, 1f);
        _bagHistoryGrad = new Tensor(BagBatch, BagHistory, BagDim);
        HistoryBagStep();
    }

    /// <summary>
    /// History-bag recommender: user = mean of 20 history embeddings, sampled softmax (logQ-corrected, accidental
    /// hits removed) over each user's positive and 100 uniform negatives drawn per batch and shared by its users,
    /// lazy Adam over only the rows the batch touched (≈ 5 200 of 50 000).
    /// </summary>
    [Benchmark]
    public float HistoryBagStep()
    {
        const int n = BagBatch;
        Tensor history = _bagItems.Forward(_bagHistoryIds, BagBatch, BagHistory);
        for (int b = 0; b < n; b++)
        {
            Kernels.SumColumns(history.Span.Slice(b * BagHistory * BagDim, BagHistory * BagDim), BagHistory, BagDim, _bagUsers.AsSpan(b * BagDim, BagDim));
        }

        Kernels.Scale(_bagUsers, 1f / BagHistory, _bagUsers);

        _bagSampler.Sample(_bagNegativeIds);
        _bagSampler.LogProbabilities(_bagNegativeIds, _bagNegativeLogQ);
        _bagSampler.LogProbabilities(_bagPositiveIds, _bagPositiveLogQ);
        _bagPositiveHead.Scores(_bagUsers, _bagPositiveIds, _bagPositiveLogits);
        Kernels.GatherRows(_bagItems.Weight.Value.Span, BagDim, _bagNegativeIds, _bagNegativeRows);
        Kernels.Gemm(Transpose.None, Transpose.Transpose, n, BagNegatives, BagDim, 1f, _bagUsers, BagDim, _bagNegativeRows, BagDim, 0f, _bagNegativeLogits, BagNegatives);
        float loss = SampledSoftmaxLoss.Compute(_bagPositiveLogits, _bagNegativeLogits, BagNegatives, _bagPositiveLogQ, _bagNegativeLogQ,
            _bagPositiveIds, _bagNegativeIds, [], _bagMask, _bagGradPositive, _bagGradNegative);

        Array.Clear(_bagUserGrad);
        _bagPositiveHead.Backward(_bagUsers, _bagGradPositive, _bagUserGrad);
        Kernels.Gemm(Transpose.None, Transpose.None, n, BagDim, BagNegatives, 1f, _bagGradNegative, BagNegatives, _bagNegativeRows, BagDim, 1f, _bagUserGrad, BagDim);
        Kernels.Gemm(Transpose.Transpose, Transpose.None, BagNegatives, BagDim, n, 1f, _bagGradNegative, BagNegatives, _bagUsers, BagDim, 0f, _bagNegativeRows, BagDim);
        ItemHead.ScatterRows(_bagItems.Weight, _bagNegativeIds, _bagNegativeRows);

        // The mean's derivative: each of a user's 20 history rows receives dU / 20.
        Span<float> historyGrad = _bagHistoryGrad.Span;
        for (int b = 0; b < n; b++)
        {
            Span<float> first = historyGrad.Slice(b * BagHistory * BagDim, BagDim);
            Kernels.Scale(_bagUserGrad.AsSpan(b * BagDim, BagDim), 1f / BagHistory, first);
            for (int j = 1; j < BagHistory; j++)
            {
                first.CopyTo(historyGrad.Slice(((b * BagHistory) + j) * BagDim, BagDim));
            }
        }

        _bagItems.Backward(_bagHistoryGrad);
        _bagOptimizer.StepAndZeroGrad();
        return loss;
    }

    [GlobalSetup(Target = nameof(HistoryBagPerUserCandidatesStep))]
    public void SetupHistoryBagPerUserCandidates()
    {
        var random = new Random(Seed);
        var table = new Tensor(BagItems, BagDim);
        Init.Normal(table.Span, 0f, 0.05f, random);
        _bagTable = new Parameter("items", table, sparseRows: true);
        _bagOptimizer = new Adam([_bagTable], learningRate: 1e-3f, lazy: true);
        _bagHistoryIds = RandomIds(BagBatch * BagHistory, random);
        _bagCandidateIds = RandomIds(BagBatch * BagCandidates, random);
        _bagTargets = new int[BagBatch]; // the positive is candidate 0 of each row
        _bagHistoryRows = new float[BagBatch * BagHistory * BagDim];
        _bagUsers = new float[BagBatch * BagDim];
        _bagCandidateRows = new float[BagBatch * BagCandidates * BagDim];
        _bagLogits = new float[BagBatch * BagCandidates];
        _bagLogitGrad = new float[BagBatch * BagCandidates];
        _bagUserGrad = new float[BagBatch * BagDim];
        HistoryBagPerUserCandidatesStep();
    }

    /// <summary>
    /// The history bag with 1 positive + 100 candidates drawn for every user (25 856 candidate rows per batch):
    /// the batch then touches ≈ 23 000 of the 50 000 rows, so "update only the touched rows" saves far less and
    /// the step is bound by memory traffic. Kept beside <see cref="HistoryBagStep"/> to show that cost.
    /// </summary>
    [Benchmark]
    public float HistoryBagPerUserCandidatesStep()
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
        for (int b = 0; b < BagBatch; b++)
        {
            ReadOnlySpan<float> dLogits = _bagLogitGrad.AsSpan(b * BagCandidates, BagCandidates);
            Span<float> candidates = _bagCandidateRows.AsSpan(b * BagCandidates * BagDim, BagCandidates * BagDim);
            ReadOnlySpan<float> user = _bagUsers.AsSpan(b * BagDim, BagDim);
            Span<float> dUser = _bagUserGrad.AsSpan(b * BagDim, BagDim);
            // dU = Cᵀ·dLogits; then the candidate rows' buffer is reused for their gradients dLogits[c]·u.
            Kernels.Gemv(Transpose.Transpose, BagCandidates, BagDim, 1f, candidates, BagDim, dLogits, 0f, dUser);
            for (int c = 0; c < BagCandidates; c++)
            {
                Kernels.Scale(user, dLogits[c], candidates.Slice(c * BagDim, BagDim));
            }

            // Each of the 20 history rows receives dU / 20 (the mean's derivative), likewise in the rows' buffer.
            Span<float> history = _bagHistoryRows.AsSpan(b * BagHistory * BagDim, BagHistory * BagDim);
            Kernels.Scale(dUser, 1f / BagHistory, history[..BagDim]);
            for (int j = 1; j < BagHistory; j++)
            {
                history[..BagDim].CopyTo(history.Slice(j * BagDim, BagDim));
            }
        }

        ItemHead.ScatterRows(_bagTable, _bagCandidateIds, _bagCandidateRows);
        ItemHead.ScatterRows(_bagTable, _bagHistoryIds, _bagHistoryRows);
        _bagOptimizer.StepAndZeroGrad();
        return loss;
    }

    private static int[] RandomIds(int count, Random random)
    {
        var ids = new int[count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(BagItems);
        }

        return ids;
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

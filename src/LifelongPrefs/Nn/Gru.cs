using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace LifelongPrefs.Nn;

/// <summary>
/// A single-layer gated recurrent unit (Cho et al., 2014, "Learning Phrase Representations using RNN
/// Encoder–Decoder for Statistical Machine Translation") over a padded batch of sequences, with full
/// backpropagation through time.
/// </summary>
/// <remarks>
/// <para>
/// <b>Equations</b> (PyTorch's variant, where the reset gate multiplies the recurrent projection including its
/// bias). With row vectors <c>x_t</c> (C) and <c>h_{t−1}</c> (H), gates in the order r, z, n along the 3H
/// columns of the weights:
/// </para>
/// <code>
/// r_t = σ(x_t·W_ir + b_ir + h_{t−1}·W_hr + b_hr)
/// z_t = σ(x_t·W_iz + b_iz + h_{t−1}·W_hz + b_hz)
/// n_t = tanh(x_t·W_in + b_in + r_t ⊙ (h_{t−1}·W_hn + b_hn))
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}          (real position)
/// h_t = h_{t−1}                                   (padded position)
/// </code>
/// <para>
/// The initial state is <c>h_{−1} = 0</c>. The output at every step is <c>h_t</c>, shape <c>(B, T, H)</c>. A padded
/// step <b>carries</b> the previous state unchanged and outputs it: with left padding the state therefore stays 0
/// through the padding and the first real item sees the same zero state as an unpadded sequence, so padding
/// changes nothing at real positions; with padding in the middle the state skips the hole.
/// </para>
/// <para>
/// <b>Parameters</b>: <c>weightInput</c> W_ih (C, 3H), <c>weightHidden</c> W_hh (H, 3H), <c>biasInput</c>
/// b_ih (3H) and <c>biasHidden</c> b_hh (3H), all initialised U(−1/√H, 1/√H) as in PyTorch.
/// </para>
/// <para>
/// <b>Cost.</b> The input projections of all B·T positions are one GEMM, (B·T, C)·(C, 3H); each step does one
/// (B, H)·(H, 3H) GEMM reading the previous states in place through a strided leading dimension. Backward mirrors
/// it: one GEMM per step for the state gradient, and one GEMM each for the input gradient and the two weight
/// gradients over all steps.
/// </para>
/// </remarks>
public sealed class Gru : SequenceLayer
{
    private readonly int _inputSize;
    private readonly int _hiddenSize;

    private readonly Workspace _inputGates = new();    // x·W_ih + b_ih: (B, T, 3H)
    private readonly Workspace _hiddenGates = new();   // h_{t−1}·W_hh + b_hh: (B, T, 3H)
    private readonly Workspace _gates = new();         // r, z, n after their non-linearities: (B, T, 3H)
    private readonly Workspace _previous = new();      // h_{t−1} for every step (row t holds the state before step t): (B, T, H)
    private readonly Workspace _output = new();        // h_t: (B, T, H)
    private readonly Workspace _gradInputGates = new();  // dL/d(pre-activation input gates): (B, T, 3H)
    private readonly Workspace _gradHiddenGates = new();  // dL/d(h_{t−1}·W_hh + b_hh): (B, T, 3H)
    private readonly Workspace _gradState = new();      // dL/dh_t for the step being processed: (B, H)
    private readonly Workspace _gradPrevious = new();   // dL/dh_{t−1} flowing to the earlier step: (B, H)
    private readonly Workspace _gradInput = new();      // (B, T, C)
    private readonly float[] _scratchA;
    private readonly float[] _scratchB;
    private readonly float[] _biasGrad;
    private Tensor? _input;
    private Tensor? _lastOutput;

    /// <summary>Creates a GRU with freshly initialised weights.</summary>
    /// <param name="inputSize">C, the number of input features; positive.</param>
    /// <param name="hiddenSize">H, the size of the hidden state (and of the output features); positive.</param>
    /// <param name="random">The seeded source of the initial weights.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public Gru(int inputSize, int hiddenSize, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentNullException.ThrowIfNull(random);
        _inputSize = inputSize;
        _hiddenSize = hiddenSize;
        int gates = 3 * hiddenSize;
        float limit = 1f / MathF.Sqrt(hiddenSize);
        WeightInput = AddParameter(new Parameter("weightInput", new Tensor(inputSize, gates)));
        WeightHidden = AddParameter(new Parameter("weightHidden", new Tensor(hiddenSize, gates)));
        BiasInput = AddParameter(new Parameter("biasInput", new Tensor(gates)));
        BiasHidden = AddParameter(new Parameter("biasHidden", new Tensor(gates)));
        Init.Uniform(WeightInput.Value.Span, limit, random);
        Init.Uniform(WeightHidden.Value.Span, limit, random);
        Init.Uniform(BiasInput.Value.Span, limit, random);
        Init.Uniform(BiasHidden.Value.Span, limit, random);
        _scratchA = new float[hiddenSize];
        _scratchB = new float[hiddenSize];
        _biasGrad = new float[gates];
    }

    /// <summary>Gets the number of input features C.</summary>
    public int InputSize => _inputSize;

    /// <summary>Gets the hidden-state size H (also the number of output features).</summary>
    public int HiddenSize => _hiddenSize;

    /// <summary>Gets W_ih, shape (C, 3H), gate columns in the order r, z, n.</summary>
    public Parameter WeightInput { get; }

    /// <summary>Gets W_hh, shape (H, 3H), gate columns in the order r, z, n.</summary>
    public Parameter WeightHidden { get; }

    /// <summary>Gets b_ih, shape (3H).</summary>
    public Parameter BiasInput { get; }

    /// <summary>Gets b_hh, shape (3H); its n part sits inside the reset gate's product.</summary>
    public Parameter BiasHidden { get; }

    /// <summary>Runs the GRU over every sequence of the batch from a zero initial state.</summary>
    /// <param name="input">The input, <c>(B, T, C)</c>.</param>
    /// <param name="mask"><c>B·T</c> entries (1 real, 0 padding; empty = all real). A padded step carries the state.</param>
    /// <returns>The hidden state after every step, <c>(B, T, H)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not <c>(B, T, C)</c>, or the mask has the wrong length or a value other than 0 and 1.</exception>
    public override Tensor Forward(Tensor input, ReadOnlySpan<float> mask)
    {
        (int batch, int steps) = ValidateInput(input, mask, _inputSize);
        int h = _hiddenSize, g3 = 3 * h, c = _inputSize, rows = batch * steps;
        ReadOnlySpan<float> m = StoreMask(mask, rows);
        _input = input;

        // inputGates: (B·T, 3H) = x (B·T, C) · W_ih (C, 3H) + b_ih, for every step at once.
        Span<float> inputGates = _inputGates.Get(batch, steps, g3).Span;
        Kernels.Gemm(Transpose.None, Transpose.None, rows, g3, c, 1f, input.Span, c,
            WeightInput.Value.Span, g3, 0f, inputGates, g3);
        Kernels.AddRowBias(BiasInput.Value.Span, inputGates, rows, g3);

        Span<float> hiddenGates = _hiddenGates.Get(batch, steps, g3).Span;
        Span<float> gates = _gates.Get(batch, steps, g3).Span;
        Span<float> previous = _previous.Get(batch, steps, h).Span;
        Tensor outputTensor = _output.Get(batch, steps, h);
        Span<float> output = outputTensor.Span;
        ReadOnlySpan<float> biasHidden = BiasHidden.Value.Span;
        ReadOnlySpan<float> weightHidden = WeightHidden.Value.Span;

        // An empty batch has no steps to run (and no rows for the strided views below).
        int stepsToRun = batch == 0 ? 0 : steps;
        for (int t = 0; t < stepsToRun; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                int p = b * steps + t;
                if (t == 0)
                {
                    previous.Slice(p * h, h).Clear(); // h_{−1} = 0
                }

                biasHidden.CopyTo(hiddenGates.Slice(p * g3, g3));
            }

            // hiddenGates[:, t]: (B, 3H) += h_{t−1} (B, H) · W_hh (H, 3H); rows of step t are T·3H apart, and the
            // previous states are read in place from previous[:, t] (rows T·H apart).
            Kernels.Gemm(Transpose.None, Transpose.None, batch, g3, h, 1f, previous[(t * h)..], steps * h,
                weightHidden, g3, 1f, hiddenGates[(t * g3)..], steps * g3);

            for (int b = 0; b < batch; b++)
            {
                int p = b * steps + t;
                Span<float> hOut = output.Slice(p * h, h);
                StepOrCarry(m[p] != 0f, inputGates.Slice(p * g3, g3), hiddenGates.Slice(p * g3, g3), previous.Slice(p * h, h),
                    gates.Slice(p * g3, g3), hOut, h);

                if (t + 1 < steps)
                {
                    hOut.CopyTo(previous.Slice((p + 1) * h, h));
                }
            }
        }

        _lastOutput = outputTensor;
        return outputTensor;
    }

    /// <summary>Backpropagates through time: accumulates the gradients of all four parameters and returns dL/dx.</summary>
    /// <param name="gradOutput">dL/d(output), <c>(B, T, H)</c>: the gradient reaching every step's state from above.</param>
    /// <returns>dL/d(input), <c>(B, T, C)</c> (owned by the layer).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="gradOutput"/> is not <c>(B, T, H)</c> of the last forward.</exception>
    /// <exception cref="InvalidOperationException">No forward pass has run yet.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ValidateGradOutput(gradOutput, _lastOutput);
        Tensor input = _input!;
        int batch = input.Shape[0], steps = input.Shape[1];
        int h = _hiddenSize, g3 = 3 * h, c = _inputSize, rows = batch * steps;
        ReadOnlySpan<float> m = CachedMask;
        ReadOnlySpan<float> dOut = gradOutput.Span;
        ReadOnlySpan<float> hiddenGates = _hiddenGates.Get(batch, steps, g3).Span;
        ReadOnlySpan<float> gates = _gates.Get(batch, steps, g3).Span;
        ReadOnlySpan<float> previous = _previous.Get(batch, steps, h).Span;
        ReadOnlySpan<float> weightHidden = WeightHidden.Value.Span;
        Span<float> dInputGates = _gradInputGates.Get(batch, steps, g3).Span;
        Span<float> dHiddenGates = _gradHiddenGates.Get(batch, steps, g3).Span;
        Span<float> dState = _gradState.Get(batch, h).Span;
        Span<float> dPrevious = _gradPrevious.Get(batch, h).Span;
        dPrevious.Clear(); // nothing flows back into the last step from the future

        for (int t = (batch == 0 ? 0 : steps) - 1; t >= 0; t--)
        {
            for (int b = 0; b < batch; b++)
            {
                int p = b * steps + t;
                Span<float> dh = dState.Slice(b * h, h);
                Span<float> dxg = dInputGates.Slice(p * g3, g3);
                Span<float> dhg = dHiddenGates.Slice(p * g3, g3);
                Span<float> dPrev = dPrevious.Slice(b * h, h);

                // dL/dh_t = the output's own gradient + what step t+1 sent back.
                Kernels.Add(dOut.Slice(p * h, h), dPrev, dh);
                if (m[p] == 0f)
                {
                    // Carried state: h_t = h_{t−1}, so the whole gradient passes through; no gate saw this step.
                    dh.CopyTo(dPrev);
                    dxg.Clear();
                    dhg.Clear();
                }
                else
                {
                    CellBackward(dh, gates.Slice(p * g3, g3), hiddenGates.Slice(p * g3, g3), previous.Slice(p * h, h),
                        dxg, dhg, dPrev, h);
                }
            }

            // dL/dh_{t−1} (B, H) += dHiddenGates[:, t] (B, 3H) · W_hhᵀ (3H, H). At t = 0 it would reach the constant
            // zero initial state, so it is not needed.
            if (t > 0)
            {
                Kernels.Gemm(Transpose.None, Transpose.Transpose, batch, h, g3, 1f, dHiddenGates[(t * g3)..], steps * g3,
                    weightHidden, g3, 1f, dPrevious, h);
            }
        }

        // Parameter gradients over all steps at once (accumulated, beta = 1).
        // dW_ih (C, 3H) += xᵀ (C, B·T) · dInputGates (B·T, 3H)
        Kernels.Gemm(Transpose.Transpose, Transpose.None, c, g3, rows, 1f, input.Span, c, dInputGates, g3,
            1f, WeightInput.Gradient.Span, g3);
        // dW_hh (H, 3H) += h_prevᵀ (H, B·T) · dHiddenGates (B·T, 3H); padded steps have zero rows in dHiddenGates.
        Kernels.Gemm(Transpose.Transpose, Transpose.None, h, g3, rows, 1f, previous, h, dHiddenGates, g3,
            1f, WeightHidden.Gradient.Span, g3);
        Kernels.SumColumns(dInputGates, rows, g3, _biasGrad);
        Kernels.Add(BiasInput.Gradient.Span, _biasGrad, BiasInput.Gradient.Span);
        Kernels.SumColumns(dHiddenGates, rows, g3, _biasGrad);
        Kernels.Add(BiasHidden.Gradient.Span, _biasGrad, BiasHidden.Gradient.Span);

        // dx (B·T, C) = dInputGates (B·T, 3H) · W_ihᵀ (3H, C)
        Tensor gradInput = _gradInput.Get(batch, steps, c);
        Kernels.Gemm(Transpose.None, Transpose.Transpose, rows, c, g3, 1f, dInputGates, g3,
            WeightInput.Value.Span, g3, 0f, gradInput.Span, c);
        return gradInput;
    }

    /// <summary>A real step runs the cell; a padded step carries <paramref name="hPrev"/> into <paramref name="hOut"/>.</summary>
    private static void StepOrCarry(bool real, ReadOnlySpan<float> xg, ReadOnlySpan<float> hg, ReadOnlySpan<float> hPrev,
        Span<float> gates, Span<float> hOut, int h)
    {
        if (real)
        {
            CellForward(xg, hg, hPrev, gates, hOut, h);
        }
        else
        {
            hPrev.CopyTo(hOut); // padded step: carry the state
        }
    }

    /// <summary>One GRU cell for one sequence: writes the gate activations and the new state.</summary>
    /// <param name="xg">x·W_ih + b_ih (3H).</param>
    /// <param name="hg">h_{t−1}·W_hh + b_hh (3H).</param>
    /// <param name="hPrev">h_{t−1} (H).</param>
    /// <param name="gates">Receives r, z, n (3H).</param>
    /// <param name="hOut">Receives h_t (H).</param>
    /// <param name="h">H.</param>
    private static void CellForward(ReadOnlySpan<float> xg, ReadOnlySpan<float> hg, ReadOnlySpan<float> hPrev,
        Span<float> gates, Span<float> hOut, int h)
    {
        Span<float> rz = gates[..(2 * h)];
        ReadOnlySpan<float> r = gates[..h];
        ReadOnlySpan<float> z = gates.Slice(h, h);
        Span<float> n = gates.Slice(2 * h, h);

        // r, z = σ(input part + hidden part)
        Kernels.Add(xg[..(2 * h)], hg[..(2 * h)], rz);
        Kernels.Sigmoid(rz, rz);
        // n = tanh(x·W_in + b_in + r ⊙ (h·W_hn + b_hn))
        TensorPrimitives.MultiplyAdd(r, hg.Slice(2 * h, h), xg.Slice(2 * h, h), n);
        Kernels.Tanh(n, n);
        // h_t = (1 − z) ⊙ n + z ⊙ h_{t−1} = n + z ⊙ (h_{t−1} − n): one subtraction and one fused multiply-add.
        Kernels.Subtract(hPrev, n, hOut);
        TensorPrimitives.MultiplyAdd(hOut, z, n, hOut);
    }

    /// <summary>
    /// Backward of one GRU cell for one sequence. Writes the gradients of the input and hidden gate
    /// pre-activations, and dL/dh_{t−1} through the direct path z ⊙ dh (the path through W_hh is added by the caller).
    /// </summary>
    private void CellBackward(ReadOnlySpan<float> dh, ReadOnlySpan<float> gates, ReadOnlySpan<float> hg,
        ReadOnlySpan<float> hPrev, Span<float> dxg, Span<float> dhg, Span<float> dPrev, int h)
    {
        ReadOnlySpan<float> r = gates[..h];
        ReadOnlySpan<float> z = gates.Slice(h, h);
        ReadOnlySpan<float> n = gates.Slice(2 * h, h);
        ReadOnlySpan<float> hn = hg.Slice(2 * h, h);
        Span<float> dr = dxg[..h];
        Span<float> dz = dxg.Slice(h, h);
        Span<float> dn = dxg.Slice(2 * h, h);
        Span<float> a = _scratchA;
        Span<float> s = _scratchB;

        // ∂h/∂z = h_{t−1} − n, then through σ: dz_pre = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z).
        Kernels.Subtract(hPrev, n, a);
        Kernels.Multiply(a, dh, a);
        Kernels.SigmoidBackward(z, a, dz);
        // ∂h/∂n = 1 − z, then through tanh: dn_pre = dh ⊙ (1 − z) ⊙ (1 − n²). It is also the gradient of x·W_in + b_in.
        TensorPrimitives.Subtract(1f, z, a);
        Kernels.Multiply(a, dh, a);
        Kernels.TanhBackward(n, a, dn);
        // ∂n_pre/∂r = h·W_hn + b_hn, then through σ: dr_pre = dn_pre ⊙ hn ⊙ r(1 − r).
        Kernels.Multiply(dn, hn, s);
        Kernels.SigmoidBackward(r, s, dr);
        // The hidden pre-activations of r and z get the same gradients as the input ones; the n part is scaled by r.
        dxg[..(2 * h)].CopyTo(dhg);
        Kernels.Multiply(dn, r, dhg.Slice(2 * h, h));
        // Direct path of h_t = … + z ⊙ h_{t−1}.
        Kernels.Multiply(dh, z, dPrev);
    }

    /// <summary>The scratch floats <see cref="Infer"/> needs for a (batch, steps) input with hidden size <paramref name="hiddenSize"/>.</summary>
    internal static int InferScratchLength(int batch, int steps, int hiddenSize) => (batch * steps * 3 * hiddenSize) + (batch * 7 * hiddenSize);

    /// <summary>
    /// The stateless inference twin of <see cref="Forward"/>: runs the GRU from a zero state over a padded batch with
    /// the given weights, writing every step's state into the caller's <paramref name="destination"/> and its
    /// intermediates into <paramref name="scratch"/> (nothing is cached, so any number of threads may call it at once).
    /// Bit-identical to <see cref="Forward"/>: the same GEMMs on the same shapes (only the leading dimensions of the
    /// per-step buffers differ, which changes no arithmetic) and the same cell.
    /// </summary>
    /// <param name="input">x: (batch, steps, inputSize).</param>
    /// <param name="mask">batch·steps entries (1 real, 0 padding: the state is carried).</param>
    /// <param name="weightInput">W_ih: (inputSize, 3H).</param>
    /// <param name="weightHidden">W_hh: (H, 3H).</param>
    /// <param name="biasInput">b_ih: (3H).</param>
    /// <param name="biasHidden">b_hh: (3H).</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="inputSize">C.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="scratch">At least <see cref="InferScratchLength"/> floats.</param>
    /// <param name="destination">Receives h_t for every step: (batch, steps, H).</param>
    internal static void Infer(ReadOnlySpan<float> input, ReadOnlySpan<float> mask, ReadOnlySpan<float> weightInput,
        ReadOnlySpan<float> weightHidden, ReadOnlySpan<float> biasInput, ReadOnlySpan<float> biasHidden,
        int batch, int steps, int inputSize, int hiddenSize, Span<float> scratch, Span<float> destination)
    {
        int h = hiddenSize, g3 = 3 * h, c = inputSize, rows = batch * steps;
        if (rows == 0)
        {
            return;
        }

        Span<float> inputGates = scratch[..(rows * g3)];
        Span<float> hiddenGates = scratch.Slice(rows * g3, batch * g3);
        Span<float> gates = scratch.Slice((rows * g3) + (batch * g3), batch * g3);
        Span<float> previous = scratch.Slice((rows * g3) + (2 * batch * g3), batch * h);

        // inputGates: (B·T, 3H) = x (B·T, C) · W_ih (C, 3H) + b_ih, for every step at once.
        Kernels.Gemm(Transpose.None, Transpose.None, rows, g3, c, 1f, input[..(rows * c)], c, weightInput, g3, 0f, inputGates, g3);
        Kernels.AddRowBias(biasInput, inputGates, rows, g3);
        previous.Clear(); // h_{−1} = 0
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                biasHidden.CopyTo(hiddenGates.Slice(b * g3, g3));
            }

            // hiddenGates (B, 3H) += h_{t−1} (B, H) · W_hh (H, 3H), accumulated onto b_hh as the forward pass does.
            Kernels.Gemm(Transpose.None, Transpose.None, batch, g3, h, 1f, previous, h, weightHidden, g3, 1f, hiddenGates, g3);
            for (int b = 0; b < batch; b++)
            {
                int p = b * steps + t;
                Span<float> hOut = destination.Slice(p * h, h);
                StepOrCarry(mask[p] != 0f, inputGates.Slice(p * g3, g3), hiddenGates.Slice(b * g3, g3), previous.Slice(b * h, h),
                    gates.Slice(b * g3, g3), hOut, h);
                hOut.CopyTo(previous.Slice(b * h, h));
            }
        }
    }
}

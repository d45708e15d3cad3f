using BenchmarkDotNet.Attributes;
using LifelongPrefs.Tensors;

namespace LifelongPrefs.Benchmarks;

/// <summary>
/// Loss and gradient of softmax cross-entropy over a (256, 10 000) batch of logits, the output layer of
/// a next-item model scoring a 10 000-item catalogue.
/// </summary>
/// <remarks>
/// Baseline: <see cref="ScalarLoop"/>, the way one writes it without thinking about SIMD: per row a
/// max pass, an exp-and-sum pass that stores the exponentials into the gradient, and a scaling pass.
/// It is a fair plain implementation (no exp computed twice), not a strawman.
/// </remarks>
[MemoryDiagnoser]
public class SoftmaxCrossEntropyBenchmarks
{
    private const int Rows = 256;
    private const int Columns = 10_000;
    private const int Seed = 1729;

    private float[] _logits = [];
    private int[] _targets = [];
    private float[] _gradient = [];

    [GlobalSetup(Target = nameof(ScalarLoop))]
    public void SetupScalar() => Setup();

    [GlobalSetup(Target = nameof(Fused))]
    public void SetupFused()
    {
        Setup();

        // Check the fused kernel against the scalar loop once, before timing, so a broken kernel fails
        // its row instead of reporting a meaningless time. Both are float, but they sum in different
        // orders and use different exp implementations, hence the relative tolerances.
        float expectedLoss = ScalarLoop();
        float[] expectedGradient = (float[])_gradient.Clone();
        _gradient.AsSpan().Fill(float.NaN);
        float loss = Fused();

        if (!(Math.Abs(loss - expectedLoss) <= 1e-4 * Math.Abs(expectedLoss)))
        {
            throw new InvalidOperationException($"Fused loss {loss} differs from the scalar loop's {expectedLoss}.");
        }

        for (int i = 0; i < expectedGradient.Length; i++)
        {
            if (!(Math.Abs(_gradient[i] - expectedGradient[i]) <= 1e-10 + (1e-3 * Math.Abs(expectedGradient[i]))))
            {
                throw new InvalidOperationException(
                    $"Fused gradient[{i / Columns},{i % Columns}] = {_gradient[i]} but the scalar loop gives {expectedGradient[i]}.");
            }
        }
    }

    /// <summary>LifelongPrefs' fused, vectorised softmax + cross-entropy + gradient.</summary>
    [Benchmark]
    public float Fused() => Kernels.SoftmaxCrossEntropy(_logits, Rows, Columns, _targets, _gradient);

    /// <summary>Straightforward per-row scalar loop with <see cref="MathF"/>.</summary>
    [Benchmark(Baseline = true)]
    public float ScalarLoop()
    {
        float[] logits = _logits, gradient = _gradient;
        int[] targets = _targets;
        float inverseRows = 1f / Rows;
        float totalLoss = 0f;

        for (int r = 0; r < Rows; r++)
        {
            int offset = r * Columns;

            // Subtract the row max so exp cannot overflow.
            float max = float.NegativeInfinity;
            for (int j = 0; j < Columns; j++)
            {
                max = MathF.Max(max, logits[offset + j]);
            }

            float sum = 0f;
            for (int j = 0; j < Columns; j++)
            {
                float e = MathF.Exp(logits[offset + j] - max);
                gradient[offset + j] = e;
                sum += e;
            }

            // loss_r = log Σ exp(x - max) - (x_target - max)
            int target = targets[r];
            totalLoss += MathF.Log(sum) - (logits[offset + target] - max);

            // d(mean loss)/dx = (softmax(x) - onehot(target)) / Rows
            float scale = inverseRows / sum;
            for (int j = 0; j < Columns; j++)
            {
                gradient[offset + j] *= scale;
            }

            gradient[offset + target] -= inverseRows;
        }

        return totalLoss * inverseRows;
    }

    private void Setup()
    {
        var random = new Random(Seed);

        // Logits of the spread a trained model produces (a few units), not tiny values that would make
        // every exp close to 1.
        _logits = new float[Rows * Columns];
        for (int i = 0; i < _logits.Length; i++)
        {
            _logits[i] = (random.NextSingle() * 8f) - 4f;
        }

        _targets = new int[Rows];
        for (int r = 0; r < Rows; r++)
        {
            _targets[r] = random.Next(Columns);
        }

        _gradient = new float[Rows * Columns];
    }
}

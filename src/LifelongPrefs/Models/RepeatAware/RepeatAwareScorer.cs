namespace LifelongPrefs.Models;

/// <summary>
/// The scoring of <see cref="RepeatAware"/> (features for every item, the MLP and the repeat gate through the
/// inference twins), and its immutable snapshot: copies of the weights, the co-occurrence model and the popularity.
/// </summary>
internal sealed class RepeatAwareScorer(ParameterValues parameters, IScorer knn, float[] popularity, float maxPopularity,
    int items, float decay) : FrozenScorer
{
    private const int F = RepeatAwareFeatures.Count;
    private readonly ScratchPool<Scratch> _pool = NewPool(decay);

    /// <inheritdoc/>
    public override int ItemCount => items;

    /// <inheritdoc/>
    public override void Score(int user, ReadOnlySpan<Interaction> history, Span<float> scores) =>
        Score(parameters, knn, popularity, maxPopularity, items, _pool, history, scores);

    /// <summary>A pool of per-call scratch for a model with per-basket decay <paramref name="decay"/>.</summary>
    internal static ScratchPool<Scratch> NewPool(float decay) => new(() => new Scratch(decay));

    /// <summary>
    /// <c>score_i = mlp(f_i) + bought_i · gate(c)</c> for every item, with the features, hidden layers and gate in
    /// scratch rented from <paramref name="pool"/>.
    /// </summary>
    /// <param name="parameters">The MLP's three layers (weight, bias each), then the gate's weight and bias.</param>
    /// <param name="knn">The co-occurrence scorer behind the explore features.</param>
    /// <param name="popularity">Positive events per item.</param>
    /// <param name="maxPopularity">The largest entry of <paramref name="popularity"/>.</param>
    /// <param name="items">The catalog size.</param>
    /// <param name="pool">Where the call's scratch comes from.</param>
    /// <param name="history">The user's visible events.</param>
    /// <param name="scores">Receives one logit per item.</param>
    internal static void Score(ParameterValues parameters, IScorer knn, ReadOnlySpan<float> popularity, float maxPopularity,
        int items, ScratchPool<Scratch> pool, ReadOnlySpan<Interaction> history, Span<float> scores)
    {
        RecommenderGuard.Scoring(history, scores, items);
        if (items == 0)
        {
            return;
        }

        int h = parameters[1].Length, columns = RepeatAwareFeatures.UserColumns;
        Scratch scratch = pool.Rent();
        try
        {
            scratch.Ensure(items, h);
            Span<float> x = scratch.Input.AsSpan(0, items * F);
            Span<float> hidden1 = scratch.Hidden1.AsSpan(0, items * h), hidden2 = scratch.Hidden2.AsSpan(0, items * h);
            scratch.Features.Compute(history, knn, popularity, maxPopularity, items, x);

            // mlp: Linear(F→h) → ReLU → Linear(h→h) → ReLU → Linear(h→1), each ReLU in place.
            Linear.Infer(x, parameters[0], parameters[1], items, F, h, hidden1);
            Relu.Infer(hidden1, hidden1);
            Linear.Infer(hidden1, parameters[2], parameters[3], items, h, h, hidden2);
            Relu.Infer(hidden2, hidden2);
            Span<float> logits = scratch.Logits.AsSpan(0, items);
            Linear.Infer(hidden2, parameters[4], parameters[5], items, h, 1, logits);

            // The gate reads the user-level columns (the same on every row) once.
            Span<float> gate = stackalloc float[1];
            Linear.Infer(x.Slice(RepeatAwareFeatures.UserColumn, columns), parameters[6], parameters[7], 1, columns, 1, gate);
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = logits[i] + x[i * F + RepeatAwareFeatures.BoughtColumn] * gate[0];
            }
        }
        finally
        {
            pool.Return(scratch);
        }
    }

    /// <summary>One call's buffers: a feature builder with its own arrays, the feature matrix and the hidden layers.</summary>
    internal sealed class Scratch(float decay)
    {
        internal RepeatAwareFeatures Features { get; } = new(decay);

        internal float[] Input { get; private set; } = [];

        internal float[] Hidden1 { get; private set; } = [];

        internal float[] Hidden2 { get; private set; } = [];

        internal float[] Logits { get; private set; } = [];

        /// <summary>Grows the buffers for <paramref name="items"/> items and hidden width <paramref name="hidden"/>.</summary>
        internal void Ensure(int items, int hidden)
        {
            if (Logits.Length < items || Hidden1.Length < items * hidden)
            {
                Input = new float[items * F];
                Hidden1 = new float[items * hidden];
                Hidden2 = new float[items * hidden];
                Logits = new float[items];
            }
        }
    }
}

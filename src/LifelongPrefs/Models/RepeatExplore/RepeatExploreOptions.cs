namespace LifelongPrefs.Models;

/// <summary>
/// Hyper-parameters of <see cref="RepeatExplore"/>; the defaults are the one setting used for every dataset. The seed
/// (<see cref="ModelOptions.Seed"/>) draws the initial embeddings and every sampled negative.
/// </summary>
public sealed class RepeatExploreOptions : ModelOptions
{
    /// <summary>Width of the user and item embeddings.</summary>
    /// <value>Default 64.</value>
    public int Dimensions { get; init; } = 64;

    /// <summary>Adam's learning rate for the embedding rows (lazy: only the rows a step touches move).</summary>
    /// <remarks>A state saved under another value loads (the rows and moments mean the same) and goes on learning with this one.</remarks>
    /// <value>Default 0.007 (0.01 until 2026-12-03); in (0, 1].</value>
    [ToleratedOnLoad]
    public float LearningRate { get; init; } = 0.007f;

    /// <summary>Adam's learning rate for the gate's weights.</summary>
    /// <remarks>A state saved under another value loads and goes on learning with this one.</remarks>
    /// <value>Default 3e-4 (the gate sees every basket; a faster rate makes it chase the latest ones); in (0, 1].</value>
    [ToleratedOnLoad]
    public float GateLearningRate { get; init; } = 3e-4f;

    /// <summary>
    /// Negative items drawn per basket, shared by its targets (the sampled softmax and the gate), in proportion to
    /// recent purchases with a 10% uniform share and weighted by the inverse of their probability (log-Q correction).
    /// </summary>
    /// <remarks>
    /// A state saved under another value loads (the tables do not depend on it) and goes on learning with this one.
    /// </remarks>
    /// <value>Default 96 (64 until 2026-12-03).</value>
    [ToleratedOnLoad]
    public int Negatives { get; init; } = 96;

    /// <summary>
    /// Consecutive baskets of one <see cref="RepeatExplore.Update"/> (or <see cref="RepeatExplore.Fit"/>) that share
    /// one draw of <see cref="Negatives"/> negatives; 1 draws afresh for every basket.
    /// </summary>
    /// <remarks>
    /// A draw's rows (output row, Adam moments, statistics) are random rows of tables far larger than the caches at a
    /// large catalog; the baskets after the first find them in the cache, and the writer copies fewer copy-on-write
    /// chunks per version. Each basket still takes its own steps on those rows, with the importance weights of the
    /// draw. A draw never outlives the call that made it. A state saved under another value loads and goes on learning
    /// with this one.
    /// </remarks>
    /// <value>Default 3 (1 until 2026-12-04). At a million users and 100,000 items (the load generator) 1 learned
    /// 12,900–14,000 events per learner CPU-second, 3 and 4 15,900–23,600 (the machine drifted ±25%), 16 23,700.
    /// On Online Retail, monthly NDCG@20 for 1 / 2 / 3 / 4 / 16: 0.1057 / 0.1052 / 0.1035 / 0.1025 / 0.0999 (ItemKNN
    /// retrained monthly 0.0934); next basket all / explore 0.3190 / 0.0922 for 1, 0.3188 / 0.0892 for 3. At least 1.</value>
    [ToleratedOnLoad]
    [Persistence.OmittedWhen(1)]
    public int NegativeReuse { get; init; } = 3;

    /// <summary>The user's own earlier items that enter the gate's softmax per basket (sampled when the user has more).</summary>
    /// <remarks>A state saved under another value loads and goes on learning with this one.</remarks>
    /// <value>Default 256.</value>
    [ToleratedOnLoad]
    public int OwnCandidates { get; init; } = 256;

    /// <summary>The user's most recent distinct items whose input embeddings are averaged into the user vector.</summary>
    /// <remarks>
    /// A state saved under another value loads (the tables do not depend on it) and goes on with this one. The window
    /// decides how much of a user's past the exploration score sees: 20 distinct items are about one Online Retail
    /// basket (21 lines on average), while what a customer goes on to explore over a month follows more of their history.
    /// </remarks>
    /// <value>Default 100 (20 until 2026-12-03: on Online Retail 100 raised the monthly new-item NDCG@20 from 0.0935 to
    /// 0.1007 and next-basket explore from 0.0797 to 0.0905; 200 and 1,000 gave no more).</value>
    [ToleratedOnLoad]
    public int ContextItems { get; init; } = 100;

    /// <summary>The user's most recent distinct items whose co-occurrence rows feed the co-occurrence score.</summary>
    /// <remarks>A state saved under another value loads and goes on with this one.</remarks>
    /// <value>Default 50.</value>
    [ToleratedOnLoad]
    public int CooccurrenceItems { get; init; } = 50;

    /// <summary>Per-basket decay of the time-decayed purchase frequency, in (0, 1).</summary>
    /// <value>Default 0.9.</value>
    public float Decay { get; init; } = 0.9f;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimensions, nameof(Dimensions));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Dimensions, 4096, nameof(Dimensions));
        RecommenderGuard.LearningRate(LearningRate, nameof(LearningRate));
        RecommenderGuard.LearningRate(GateLearningRate, nameof(GateLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(NegativeReuse, nameof(NegativeReuse));
        ArgumentOutOfRangeException.ThrowIfNegative(OwnCandidates, nameof(OwnCandidates));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ContextItems, nameof(ContextItems));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CooccurrenceItems, nameof(CooccurrenceItems));
        ValidateLimits();
        if (!(Decay > 0 && Decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Decay), Decay, $"'{nameof(Decay)}' must lie strictly between 0 and 1.");
        }
    }
}

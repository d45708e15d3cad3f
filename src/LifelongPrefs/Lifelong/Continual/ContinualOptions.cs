using LifelongPrefs.Privacy;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The continual-learning strategies a <see cref="ContinualLearner"/> applies to every update: replay, online EWC,
/// distillation from the previous version and recency weighting. Each is switched off by its zero (or infinite) value
/// and they compose freely. The defaults are the library's default strategy: a 20,000-event reservoir stratified by
/// user, replayed at one pair per five new ones, and online EWC with λ = 3·10⁻⁴ (no distillation, no recency weighting).
/// </summary>
/// <remarks>
/// The defaults were chosen on the bundled Online Retail stream under the monthly continual protocol (2011-01 … 2011-12,
/// BPR-MF d = 64, 10 update epochs, seeds 42, 43, 44): mean forward NDCG@20 0.0871 against naive fine-tuning's 0.0866 and
/// monthly retraining's 0.0821, backward transfer on never-rebought targets 45% of naive's, at 7–8% of retraining's
/// training CPU (10–13% before the EWC hook's one-pass kernel; the tables are in <c>Lifelong/README.md</c>).
/// </remarks>
public sealed class ContinualOptions
{
    /// <summary>Gets options with every strategy switched off: plain fine-tuning on the new events.</summary>
    /// <remarks>A new object on every read: the options are mutable, so a shared instance could be changed by anyone.</remarks>
    public static ContinualOptions Naive => new()
    {
        ReplayCapacity = 0,
        EwcStrength = 0,
        DistillationWeight = 0,
        RecencyHalfLife = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Gets or sets how many past events the replay reservoir keeps (sampled over the whole stream); 0 disables replay.</summary>
    /// <value>Default 20,000; 0 to 100,000,000.</value>
    public int ReplayCapacity { get; set; } = 20_000;

    /// <summary>Gets or sets how many replayed training examples join each update per new one.</summary>
    /// <value>Default 0.2; 0 to 100.</value>
    public double ReplayRatio { get; set; } = 0.2;

    /// <summary>Gets or sets how many of each user's most recent events are replay candidates besides the reservoir; 0 for none.</summary>
    /// <value>Default 0; 0 to 10,000.</value>
    public int ReplayRecentPerUser { get; set; }

    /// <summary>Gets or sets how the reservoir weighs the stream's events.</summary>
    /// <value>Default <see cref="ReplayStratification.ByUser"/> (every shopper's past about equally represented).</value>
    public ReplayStratification ReplayStratification { get; set; } = ReplayStratification.ByUser;

    /// <summary>Gets or sets λ of the online EWC penalty <c>(λ/2)·Σ F·(θ − θ*)²</c>; 0 disables it.</summary>
    /// <value>Default 3·10⁻⁴; finite and non-negative. Its scale follows the Fisher's (the per-pass sum of squared summed-batch gradients): around 10⁻⁴ suits BPR-MF on shop data.</value>
    public float EwcStrength { get; set; } = 3e-4f;

    /// <summary>Gets or sets the factor by which the Fisher estimate of earlier updates decays at each update, in (0, 1].</summary>
    /// <value>Default 0.9.</value>
    public float FisherDecay { get; set; } = 0.9f;

    /// <summary>Gets or sets the weight of the distillation term (KL from the previous version's scores); 0 disables it.</summary>
    /// <value>Default 0; finite and non-negative.</value>
    public float DistillationWeight { get; set; }

    /// <summary>Gets or sets the softmax temperature of the distillation term.</summary>
    /// <value>Default 2; positive and finite.</value>
    public float DistillationTemperature { get; set; } = 2;

    /// <summary>
    /// Gets or sets how many of the teacher's top items per distilled user the distillation term compares (a quarter as many
    /// random items join them); while the catalog holds fewer items than that, distillation is skipped.
    /// </summary>
    /// <value>Default 50; 1 to 10,000.</value>
    public int DistillationCandidates { get; set; } = 50;

    /// <summary>Gets or sets the half-life of the time-decayed example weights (by the event's age at the update); infinite for none.</summary>
    /// <value>Default infinite; positive or <see cref="Timeout.InfiniteTimeSpan"/>.</value>
    public TimeSpan RecencyHalfLife { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Gets or sets the seed of the learner's own random choices (the reservoir's keys, replay draws, sampled distillation candidates); the model's seed drives the rest.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>A copy (every option is a value).</summary>
    internal ContinualOptions Copy() => (ContinualOptions)MemberwiseClone();

    /// <summary>
    /// Gets or sets differentially private updates (DP-SGD on the shared item tables, with an RDP accountant); null or
    /// <see cref="DpOptions.Enabled"/> false for ordinary updates. Cannot be combined with distillation.
    /// </summary>
    /// <value>Default null.</value>
    [Persistence.OmittedWhen(null)]
    public DpOptions? DifferentialPrivacy { get; set; }

    internal void Validate()
    {
        const string Owner = "ContinualOptions";
        if (DifferentialPrivacy is { Enabled: true } dp)
        {
            dp.Validate();
            if (DistillationWeight > 0)
            {
                // The distillation term adds a gradient per user to the item rows that no clipping bounds.
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"ContinualOptions.DistillationWeight is {DistillationWeight} while DifferentialPrivacy is enabled; distillation's unclipped per-user gradient would void the guarantee, so set it to 0."),
                    nameof(DistillationWeight));
            }
        }

        OptionCheck.Range(ReplayCapacity, 0, 100_000_000, Owner, nameof(ReplayCapacity));
        OptionCheck.Range(ReplayRatio, 0, 100, Owner, nameof(ReplayRatio));
        OptionCheck.Range(ReplayRecentPerUser, 0, 10_000, Owner, nameof(ReplayRecentPerUser));
        OptionCheck.Range(EwcStrength, 0, float.MaxValue, Owner, nameof(EwcStrength));
        OptionCheck.Range(DistillationWeight, 0, float.MaxValue, Owner, nameof(DistillationWeight));
        OptionCheck.Range(DistillationCandidates, 1, 10_000, Owner, nameof(DistillationCandidates));
        if (!(FisherDecay > 0 && FisherDecay <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FisherDecay), FisherDecay, $"ContinualOptions.FisherDecay is {FisherDecay}; it must lie in (0, 1].");
        }

        if (!(DistillationTemperature > 0 && float.IsFinite(DistillationTemperature)))
        {
            throw new ArgumentOutOfRangeException(nameof(DistillationTemperature), DistillationTemperature,
                $"ContinualOptions.DistillationTemperature is {DistillationTemperature}; it must be positive and finite.");
        }

        OptionCheck.Defined(ReplayStratification, Owner, nameof(ReplayStratification));

        if (!(RecencyHalfLife > TimeSpan.Zero || RecencyHalfLife == Timeout.InfiniteTimeSpan))
        {
            throw new ArgumentOutOfRangeException(nameof(RecencyHalfLife), RecencyHalfLife,
                $"ContinualOptions.RecencyHalfLife is {RecencyHalfLife}; it must be positive or infinite.");
        }
    }
}

/// <summary>How the replay reservoir weighs the stream's events (<see cref="ContinualOptions.ReplayStratification"/>).</summary>
public enum ReplayStratification
{
    /// <summary>Every event equally likely to be kept.</summary>
    Uniform = 0,

    /// <summary>Every user about equally represented (an event's weight is one over its user's event count).</summary>
    ByUser = 1,

    /// <summary>Rare items favoured (an event's weight is one over its item's event count).</summary>
    ByItemPopularity = 2,
}

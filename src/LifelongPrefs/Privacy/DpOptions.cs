using System.Globalization;

namespace LifelongPrefs.Privacy;

/// <summary>
/// Differentially private updates (DP-SGD) of the continual learner's shared item tables: each user's contribution to a
/// step is clipped to <see cref="ClipNorm"/> in L2 and Gaussian noise of standard deviation σ·<see cref="ClipNorm"/> is
/// added to every element of the item factors and biases. What ε does and does not protect is in <c>Privacy/DIFFERENTIAL-PRIVACY.md</c>.
/// </summary>
/// <remarks>
/// σ is <see cref="NoiseMultiplier"/>, or, when <see cref="TargetEpsilon"/> is positive, the smallest σ that keeps
/// <see cref="PlannedUpdates"/> updates within (<see cref="TargetEpsilon"/>, <see cref="Delta"/>). Every step samples
/// each user of the update independently with probability <see cref="SamplingRate"/> (Poisson sampling, which the
/// accountant assumes), and an update runs ⌈update epochs / q⌉ steps: a number that depends on no data. The learner
/// copies these options when it is created; changing them later changes nothing.
/// </remarks>
public sealed class DpOptions
{
    /// <summary>Gets or sets whether updates are differentially private.</summary>
    /// <value>Default false (updates are exactly the non-private ones).</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets C, the L2 bound of one user's gradient contribution to the item tables in one step.</summary>
    /// <value>Default 1; positive, at most 10⁶.</value>
    public float ClipNorm { get; set; } = 1;

    /// <summary>Gets or sets σ, the noise standard deviation over <see cref="ClipNorm"/> (used when <see cref="TargetEpsilon"/> is 0).</summary>
    /// <value>Default 1; positive, at most 10⁶.</value>
    public double NoiseMultiplier { get; set; } = 1;

    /// <summary>Gets or sets the ε to spend over <see cref="PlannedUpdates"/> updates; 0 to use <see cref="NoiseMultiplier"/> as given.</summary>
    /// <value>Default 0; non-negative and finite.</value>
    public double TargetEpsilon { get; set; }

    /// <summary>Gets or sets δ of the target (and the δ the learner's reports default to).</summary>
    /// <value>Default 10⁻⁵; in (0, 1). Choose it below one over the number of users.</value>
    public double Delta { get; set; } = 1e-5;

    /// <summary>Gets or sets q, the probability with which each user of an update joins each step.</summary>
    /// <value>Default 0.05; in (0, 1].</value>
    public double SamplingRate { get; set; } = 0.05;

    /// <summary>Gets or sets the number of updates <see cref="TargetEpsilon"/> is spread over; later updates spend beyond it (and the reports say so).</summary>
    /// <value>Default 365; 1 to 10⁷.</value>
    public int PlannedUpdates { get; set; } = 365;

    /// <summary>Gets or sets the RDP-to-(ε, δ) conversion of the target and the reports.</summary>
    /// <value>Default <see cref="RdpConversion.Tight"/>.</value>
    public RdpConversion Conversion { get; set; } = RdpConversion.Tight;

    /// <summary>A copy, so that later changes to this instance reach no learner.</summary>
    internal DpOptions Clone() => (DpOptions)MemberwiseClone();

    /// <summary>Checks every range; the message names the option and its value.</summary>
    internal void Validate()
    {
        if (!(ClipNorm > 0 && ClipNorm <= 1e6f))
        {
            throw Bad(nameof(ClipNorm), ClipNorm, "positive and at most 1e6");
        }

        if (!(NoiseMultiplier > 0 && NoiseMultiplier <= 1e6))
        {
            throw Bad(nameof(NoiseMultiplier), NoiseMultiplier, "positive and at most 1e6");
        }

        if (!(TargetEpsilon >= 0 && double.IsFinite(TargetEpsilon)))
        {
            throw Bad(nameof(TargetEpsilon), TargetEpsilon, "non-negative and finite");
        }

        if (!(Delta > 0 && Delta < 1))
        {
            throw Bad(nameof(Delta), Delta, "in (0, 1)");
        }

        if (!(SamplingRate > 0 && SamplingRate <= 1))
        {
            throw Bad(nameof(SamplingRate), SamplingRate, "in (0, 1]");
        }

        if (PlannedUpdates is < 1 or > 10_000_000)
        {
            throw Bad(nameof(PlannedUpdates), PlannedUpdates, "from 1 to 10,000,000");
        }

        if (Conversion is not (RdpConversion.Classic or RdpConversion.Tight))
        {
            throw Bad(nameof(Conversion), Conversion, "a defined RdpConversion");
        }
    }

    private static ArgumentOutOfRangeException Bad(string name, object value, string rule) =>
        new(name, value, string.Create(CultureInfo.InvariantCulture, $"DpOptions.{name} is {value}; it must be {rule}."));
}

namespace LifelongPrefs.Lifelong;

/// <summary>The privacy the tracker's differentially private updates have spent (<see cref="ContinualOptions.DifferentialPrivacy"/>).</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>
    /// The ε the learner's private updates have spent so far at <paramref name="delta"/> (see
    /// <see cref="ContinualLearner.PrivacySpent"/>): it bounds what the shared item tables reveal about any one
    /// shopper, and nothing else the tracker keeps (histories, popularity, co-occurrence, each shopper's own row).
    /// </summary>
    /// <param name="delta">δ in (0, 1).</param>
    /// <returns>ε ≥ 0; +∞ when the learner is not a private <see cref="ContinualLearner"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not in (0, 1).</exception>
    /// <remarks>Thread-safe: may run alongside every other member.</remarks>
    public double PrivacySpent(double delta)
    {
        if (_model is ContinualLearner continual)
        {
            return continual.PrivacySpent(delta);
        }

        if (!(delta > 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"δ is {delta}; it must lie in (0, 1)."));
        }

        return double.PositiveInfinity;
    }
}

using System.Buffers;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Lifelong;

/// <summary>Training examples for <see cref="InterestForecaster.Fit"/>: feature rows and target distributions, stored flat.</summary>
/// <param name="categoryCount">The number of categories C.</param>
internal sealed class ForecastExamples(int categoryCount)
{
    private readonly List<float> _features = [];
    private readonly List<float> _targets = [];

    /// <summary>Gets the number of categories.</summary>
    internal int CategoryCount { get; } = categoryCount > 0 ? categoryCount : throw new ArgumentOutOfRangeException(nameof(categoryCount), categoryCount, $"'{nameof(categoryCount)}' must be at least 1 but was {categoryCount}.");

    /// <summary>Gets the number of examples.</summary>
    internal int Count { get; private set; }

    /// <summary>Adds one example (both spans are copied).</summary>
    /// <param name="features">The <see cref="InterestForecaster.FeatureCount"/> × C rows from <see cref="InterestForecaster.Features"/>.</param>
    /// <param name="target">The distribution the user engaged with over the horizon.</param>
    /// <exception cref="ArgumentException">A length is wrong, or a value is not finite.</exception>
    internal void Add(ReadOnlySpan<float> features, ReadOnlySpan<float> target)
    {
        if (features.Length != InterestForecaster.FeatureCount * CategoryCount)
        {
            throw new ArgumentException($"'{nameof(features)}' must hold {InterestForecaster.FeatureCount} × {CategoryCount} values but holds {features.Length}.", nameof(features));
        }

        if (target.Length != CategoryCount)
        {
            throw new ArgumentException($"'{nameof(target)}' must hold {CategoryCount} values but holds {target.Length}.", nameof(target));
        }

        foreach (float f in features)
        {
            if (!float.IsFinite(f))
            {
                throw new ArgumentException($"'{nameof(features)}' holds {f}; every value must be finite.", nameof(features));
            }
        }

        InterestProfiles.CheckDistribution(target, CategoryCount, nameof(target));
        _features.AddRange(features);
        _targets.AddRange(target);
        Count++;
    }

    /// <summary>Gets example n's feature rows (valid until the next <see cref="Add"/>).</summary>
    /// <param name="n">The example index.</param>
    /// <returns>The rows.</returns>
    internal ReadOnlySpan<float> FeaturesOf(int n)
    {
        int width = InterestForecaster.FeatureCount * CategoryCount;
        return CollectionsMarshal.AsSpan(_features).Slice(n * width, width);
    }

    /// <summary>Gets example n's target distribution (valid until the next <see cref="Add"/>).</summary>
    /// <param name="n">The example index.</param>
    /// <returns>The target.</returns>
    internal ReadOnlySpan<float> TargetOf(int n) => CollectionsMarshal.AsSpan(_targets).Slice(n * CategoryCount, CategoryCount);
}

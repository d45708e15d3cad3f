using System.Globalization;

namespace LifelongPrefs.Lifelong;

/// <summary>
/// The range and enum checks the tracker's option classes share (<see cref="TrackerOptions"/>, <see cref="ContinualOptions"/>,
/// <see cref="DriftOptions"/>); every message names the option by its path, e.g. <c>TrackerOptions.Drift.SampleEvery</c>.
/// </summary>
internal static class OptionCheck
{
    /// <summary>Throws unless <paramref name="value"/> lies in [<paramref name="min"/>, <paramref name="max"/>] (NaN never does).</summary>
    /// <param name="value">The option's value.</param>
    /// <param name="min">The smallest allowed value.</param>
    /// <param name="max">The largest allowed value.</param>
    /// <param name="owner">The options' path, e.g. <c>TrackerOptions.Drift</c>.</param>
    /// <param name="name">The option's name.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside the range.</exception>
    internal static void Range(double value, double min, double max, string owner, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value,
                string.Create(CultureInfo.InvariantCulture, $"{owner}.{name} is {value}; it must lie in [{min}, {max}]."));
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is a defined member of its enum.</summary>
    /// <typeparam name="TEnum">The enum.</typeparam>
    /// <param name="value">The option's value.</param>
    /// <param name="owner">The options' path.</param>
    /// <param name="name">The option's name.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value is not defined.</exception>
    internal static void Defined<TEnum>(TEnum value, string owner, string name)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"{owner}.{name} is {Convert.ToInt64(value, CultureInfo.InvariantCulture)}, which is not a defined {typeof(TEnum).Name}.");
        }
    }
}

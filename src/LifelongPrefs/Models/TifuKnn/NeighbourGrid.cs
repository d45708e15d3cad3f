using System.Globalization;
using LifelongPrefs.Data;

namespace LifelongPrefs.Models;

/// <summary>
/// What <see cref="TifuKnn"/> and <see cref="UpCf"/> share around their maths: the options' grid checks, the users'
/// histories with one stored row per user, and the grid search on the validation basket.
/// </summary>
internal static class NeighbourGrid
{
    /// <summary>Throws unless <paramref name="values"/> is a non-empty list whose every value passes <paramref name="valid"/>.</summary>
    internal static void Each<T>(IReadOnlyList<T> values, string name, Func<T, bool> valid, string range)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0)
        {
            throw new ArgumentException($"'{name}' needs at least one candidate value.", name);
        }

        foreach (T value in values)
        {
            if (!valid(value))
            {
                throw new ArgumentOutOfRangeException(name, value, $"Every value of '{name}' must be {range} but one was {value}.");
            }
        }
    }

    /// <summary>The values in the invariant culture, comma-separated (for the options' fingerprint).</summary>
    internal static string Text<T>(IReadOnlyList<T> values)
        where T : IFormattable => string.Join(",", values.Select(v => v.ToString(null, CultureInfo.InvariantCulture)));

    /// <summary>The distinct users of <paramref name="events"/>, ascending.</summary>
    internal static int[] UsersOf(IReadOnlyList<Interaction> events)
    {
        var users = new HashSet<int>();
        for (int i = 0; i < events.Count; i++)
        {
            users.Add(events[i].User);
        }

        return [.. users.Order()];
    }
}

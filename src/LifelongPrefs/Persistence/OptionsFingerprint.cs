using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Reflection;
using System.Text;

namespace LifelongPrefs.Persistence;

/// <summary>
/// The canonical text of a model's options and its 64-bit fingerprint, written into every state header so that a
/// state is loaded only into a model created with the same options.
/// </summary>
/// <remarks>
/// The text lists every public instance property as <c>Name=value</c>, one per line, sorted by name (ordinal), with
/// values formatted in the invariant culture (floats in their shortest round-trip form, enums by name). It depends
/// only on the properties, so it is the same whether the options are a record or a class with <c>init</c>
/// properties, and whatever order the properties are declared in. A property marked
/// <see cref="NotFingerprintedAttribute"/> is left out, and one marked <see cref="OmittedWhenAttribute"/> is left out while
/// it holds that attribute's value (<see langword="null"/> for an optional feature that is off).
/// </remarks>
internal static class OptionsFingerprint
{
    /// <summary>Returns the canonical text of <paramref name="options"/>' public instance properties.</summary>
    /// <typeparam name="T">The options type (an anonymous type works for models whose options are loose arguments).</typeparam>
    /// <param name="options">The options.</param>
    /// <returns>The text.</returns>
    internal static string Canonical<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(T options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var values = new List<KeyValuePair<string, object?>>();
        foreach (PropertyInfo property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.IsDefined(typeof(NotFingerprintedAttribute), inherit: true))
            {
                continue;
            }

            object? value = property.GetValue(options);
            if (property.GetCustomAttribute<OmittedWhenAttribute>(inherit: true) is { } omitted && omitted.Matches(property, value))
            {
                continue;
            }

            values.Add(new(property.Name, value));
        }

        return CanonicalOf(values);
    }

    /// <summary>
    /// Returns the canonical text of named values, exactly as <see cref="Canonical{T}"/> writes properties of those
    /// names and values (sorted by name, ordinal): for options whose fingerprinted values are assembled, not declared.
    /// </summary>
    /// <param name="values">The names (unique) and values.</param>
    /// <returns>The text.</returns>
    internal static string CanonicalOf(IEnumerable<KeyValuePair<string, object?>> values)
    {
        var text = new StringBuilder();
        foreach (KeyValuePair<string, object?> value in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            text.Append(value.Key).Append('=').Append(Format(value.Value)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Returns the XxHash64 of the UTF-8 bytes of <paramref name="canonical"/>.</summary>
    /// <param name="canonical">A text made by <see cref="Canonical{T}"/>.</param>
    /// <returns>The fingerprint.</returns>
    internal static ulong Of(string canonical) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(canonical));

    /// <summary>
    /// Describes how two canonical texts differ (<c>Dimensions: saved 8, this model 16</c>), at most a few
    /// properties, for the message of a rejected load.
    /// </summary>
    /// <param name="saved">The text in the state.</param>
    /// <param name="current">The text of the loading model's options.</param>
    /// <returns>The differences, separated by "; ".</returns>
    internal static string Difference(string saved, string current)
    {
        Dictionary<string, string> before = Parse(saved), after = Parse(current);
        var differences = new List<string>();
        foreach (string name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            string a = before.GetValueOrDefault(name, "(absent)"), b = after.GetValueOrDefault(name, "(absent)");
            if (a != b)
            {
                differences.Add($"{name}: saved {a}, this model {b}");
            }
        }

        return differences.Count == 0 ? "the options texts differ" : string.Join("; ", differences.Take(8));
    }

    /// <summary>Returns the names of <typeparamref name="T"/>'s public instance properties marked <see cref="ToleratedOnLoadAttribute"/>.</summary>
    /// <typeparam name="T">The options type.</typeparam>
    /// <returns>The names (in no particular order).</returns>
    internal static string[] Tolerated<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>() =>
        [.. typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.IsDefined(typeof(ToleratedOnLoadAttribute), inherit: true)).Select(p => p.Name)];

    /// <summary>
    /// Whether two canonical texts list the same options with the same values once the <paramref name="tolerated"/>
    /// names are set aside (each may then hold them with any value, or not at all).
    /// </summary>
    /// <param name="saved">The text in the state.</param>
    /// <param name="current">The text of the loading model's options.</param>
    /// <param name="tolerated">The option names whose values may differ.</param>
    /// <returns><see langword="true"/> when the rest agrees exactly.</returns>
    internal static bool AgreeExcept(string saved, string current, IReadOnlyCollection<string> tolerated)
    {
        Dictionary<string, string> before = Parse(saved), after = Parse(current);
        foreach (string name in tolerated)
        {
            before.Remove(name);
            after.Remove(name);
        }

        return before.Count == after.Count && before.All(p => after.TryGetValue(p.Key, out string? value) && value == p.Value);
    }

    private static Dictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[line[..equals]] = line[(equals + 1)..];
            }
        }

        return values;
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        Enum e => e.ToString(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary>
/// Leaves an option out of <see cref="OptionsFingerprint"/>: for options that only steer how <c>Fit</c> trains from
/// scratch (so a saved state means the same whatever their value), added after states were saved with the option
/// absent. Older states then still load, and the option can change without invalidating them.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
internal sealed class NotFingerprintedAttribute : Attribute
{
}

/// <summary>
/// Leaves an option out of <see cref="OptionsFingerprint"/> while it holds <see cref="Value"/>: for options added after
/// states were saved without them, where that value means exactly the behaviour those states were saved with — an
/// optional feature's <see langword="null"/> (off), or the value that reproduces the older learner. A model created
/// with it then writes the very bytes the older code wrote; any other value is fingerprinted as usual, so a state saved
/// with a feature on loads only where it is on with the same settings.
/// </summary>
/// <param name="value">The value that stands for the behaviour before the option existed (of the property's type, or null).</param>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
internal sealed class OmittedWhenAttribute(object? value) : Attribute
{
    /// <summary>Gets the value for which the option is left out.</summary>
    internal object? Value => value;

    /// <summary>Whether <paramref name="current"/>, the value of <paramref name="property"/>, is <see cref="Value"/>.</summary>
    /// <exception cref="InvalidOperationException">
    /// <see cref="Value"/> is not of the property's type (<c>[OmittedWhen(1)]</c> on a <see cref="float"/> would never
    /// match, silently changing every fingerprint), or is null for a property that cannot hold null.
    /// </exception>
    internal bool Matches(PropertyInfo property, object? current)
    {
        Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        bool fits = value is null
            ? !property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null
            : value.GetType() == type;
        if (!fits)
        {
            throw new InvalidOperationException(
                $"[OmittedWhen({value ?? "null"})] on {property.DeclaringType?.Name}.{property.Name}: the value must be a {type.Name}"
                + (property.PropertyType.IsValueType ? "." : " or null."));
        }

        return Equals(current, value);
    }
}

/// <summary>
/// Lets a state saved under another value of this option load (it stays in the fingerprint text, so the state still
/// names the value it was saved with): for options that steer only how later steps learn or how much of a history a
/// score reads — a window length, a number of sampled negatives — so the saved tables mean the same whatever their
/// value, and the loading model simply goes on with its own. This is what lets such an option's default change
/// without making every saved state unreadable.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
internal sealed class ToleratedOnLoadAttribute : Attribute
{
}

using System.Runtime.InteropServices;

namespace LifelongPrefs.Data;

/// <summary>
/// Interns field text: looks a span up without allocating and makes a string only the first time a value is seen,
/// so a log with half a million rows but a few thousand distinct ids allocates a few thousand strings.
/// </summary>
internal sealed class StringTable
{
    private readonly Dictionary<string, int> _indices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _strings = [];

    internal StringTable() => _lookup = _indices.GetAlternateLookup<ReadOnlySpan<char>>();

    internal int Count => _strings.Count;

    internal string this[int index] => _strings[index];

    /// <summary>Returns the dense index of <paramref name="text"/>, adding it on first sight.</summary>
    internal int Intern(ReadOnlySpan<char> text)
    {
        if (_lookup.TryGetValue(text, out int index))
        {
            return index;
        }

        string value = new(text);
        index = _strings.Count;
        _strings.Add(value);
        CollectionsMarshal.GetValueRefOrAddDefault(_indices, value, out _) = index;
        return index;
    }

    /// <summary>Returns the interned string equal to <paramref name="text"/>.</summary>
    internal string Get(ReadOnlySpan<char> text) => _strings[Intern(text)];
}

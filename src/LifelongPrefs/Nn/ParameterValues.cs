namespace LifelongPrefs.Nn;

/// <summary>
/// The values of an ordered list of parameters, read either live from the parameters (a view: it sees every later
/// training step and growth) or from a frozen copy taken once (a snapshot: later training never reaches it). The
/// inference twins (<c>Infer</c> on the layers) read their weights through it, so one scoring path serves a model's
/// own reads and the immutable scorers it hands out.
/// </summary>
/// <remarks>
/// A small struct of references: passing it by value allocates nothing. Reading is thread-safe as long as nobody
/// writes the live parameters at the same time (the models document that training is exclusive).
/// </remarks>
internal readonly struct ParameterValues
{
    private readonly IReadOnlyList<Parameter>? _live;
    private readonly float[][]? _frozen;
    private readonly int _offset;

    private ParameterValues(IReadOnlyList<Parameter>? live, float[][]? frozen, int offset)
    {
        _live = live;
        _frozen = frozen;
        _offset = offset;
    }

    /// <summary>Gets the number of parameters from this view's first one to the end of the list.</summary>
    internal int Count => (_live?.Count ?? _frozen?.Length ?? 0) - _offset;

    /// <summary>Gets the current values of parameter <paramref name="index"/> (counted from this view's first).</summary>
    internal ReadOnlySpan<float> this[int index] =>
        _live is not null ? _live[_offset + index].Value.Span : _frozen![_offset + index];

    /// <summary>A view over <paramref name="parameters"/> as they are at each read (no copy).</summary>
    internal static ParameterValues Live(IReadOnlyList<Parameter> parameters) => new(parameters, null, 0);

    /// <summary>A copy of the current values of <paramref name="parameters"/>, independent of later training.</summary>
    internal static ParameterValues Freeze(IReadOnlyList<Parameter> parameters)
    {
        var copy = new float[parameters.Count][];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = parameters[i].Value.Span.ToArray();
        }

        return new(null, copy, 0);
    }

    /// <summary>The same values, starting at parameter <paramref name="count"/> of this view (a composite layer's own parameters).</summary>
    internal ParameterValues Skip(int count) => new(_live, _frozen, _offset + count);
}

namespace LifelongPrefs.Models;

/// <summary>
/// Reads a history as baskets for the two neighbourhood baselines (<see cref="TifuKnn"/>, <see cref="UpCf"/>): a
/// basket is a run of consecutive positive events with one <see cref="Interaction.BasketKey"/> (the order
/// <see cref="UserHistories.EventsOf"/> and the protocols hand histories over in), and each basket counts an item once
/// however many lines it has. The same walk builds the stored users' vectors and the vector of the history a call
/// scores, so the two always agree.
/// </summary>
internal static class BasketWalk
{
    /// <summary>The number of baskets among the positive events of <paramref name="history"/>.</summary>
    internal static int Count(ReadOnlySpan<Interaction> history)
    {
        int count = 0;
        long last = 0;
        foreach (ref readonly Interaction e in history)
        {
            if (RecommenderGuard.IsPositive(e) && (count == 0 || e.BasketKey != last))
            {
                count++;
                last = e.BasketKey;
            }
        }

        return count;
    }
}

/// <summary>
/// Walks the distinct (basket, item) pairs of a history in order, skipping items outside the catalog; the per-item
/// marks that drop a basket's repeated lines live in a <see cref="SparseVector"/>'s scratch.
/// </summary>
internal ref struct BasketItems
{
    private readonly ReadOnlySpan<Interaction> _history;
    private readonly SparseVector _marks;
    private int _at;
    private int _basket;
    private long _key;

    internal BasketItems(ReadOnlySpan<Interaction> history, SparseVector marks)
    {
        _history = history;
        _marks = marks;
        _basket = -1;
    }

    /// <summary>Moves to the next distinct item of a basket; false at the end of the history.</summary>
    internal bool Next(out int basket, out int item)
    {
        while (_at < _history.Length)
        {
            ref readonly Interaction e = ref _history[_at++];
            if (!RecommenderGuard.IsPositive(e))
            {
                continue;
            }

            if (_basket < 0 || e.BasketKey != _key)
            {
                _basket++;
                _key = e.BasketKey;
                _marks.NextBasket();
            }

            if ((uint)e.Item < (uint)_marks.Length && _marks.FirstInBasket(e.Item))
            {
                basket = _basket;
                item = e.Item;
                return true;
            }
        }

        basket = item = -1;
        return false;
    }
}

/// <summary>
/// A dense float vector over the catalog that remembers which entries it touched, so clearing it and listing its
/// non-zeros cost the number of touched entries, not the catalog size: per-call scratch (never shared between calls).
/// </summary>
internal sealed class SparseVector(int length)
{
    private readonly float[] _values = new float[length];
    private readonly int[] _touched = new int[length];
    private readonly bool[] _isTouched = new bool[length];

    // Per item, the tag of the last basket that listed it; a fresh tag per basket drops its repeated lines without a clear.
    private readonly int[] _basketTag = new int[length];
    private int _tag;

    /// <summary>Gets the catalog size.</summary>
    internal int Length => _values.Length;

    /// <summary>Gets the number of touched entries.</summary>
    internal int Count { get; private set; }

    /// <summary>Gets the touched entries, in the order they were first touched.</summary>
    internal ReadOnlySpan<int> Touched => _touched.AsSpan(0, Count);

    /// <summary>Gets the dense values (zero where untouched).</summary>
    internal ReadOnlySpan<float> Values => _values;

    /// <summary>Adds <paramref name="value"/> to entry <paramref name="item"/> (zero still marks it touched).</summary>
    internal void Add(int item, float value)
    {
        if (!_isTouched[item])
        {
            _isTouched[item] = true;
            _touched[Count++] = item;
        }

        _values[item] += value;
    }

    /// <summary>Whether entry <paramref name="item"/> was touched since the last clear.</summary>
    internal bool IsTouched(int item) => _isTouched[item];

    /// <summary>Sorts the touched list ascending (so rows built from it are canonical).</summary>
    internal void SortTouched() => _touched.AsSpan(0, Count).Sort();

    /// <summary>Copies the touched entries into new ascending arrays (a stored row).</summary>
    internal (int[] Items, float[] Values) ToRow(bool positiveOnly)
    {
        SortTouched();
        int n = 0;
        foreach (int item in Touched)
        {
            n += !positiveOnly || _values[item] > 0f ? 1 : 0;
        }

        var items = new int[n];
        var values = new float[n];
        n = 0;
        foreach (int item in Touched)
        {
            if (!positiveOnly || _values[item] > 0f)
            {
                items[n] = item;
                values[n++] = _values[item];
            }
        }

        return (items, values);
    }

    /// <summary>Zeroes the touched entries.</summary>
    internal void Clear()
    {
        foreach (int item in Touched)
        {
            _values[item] = 0f;
            _isTouched[item] = false;
        }

        Count = 0;
    }

    /// <summary>Starts a new basket for <see cref="FirstInBasket"/>.</summary>
    internal void NextBasket()
    {
        if (++_tag == int.MaxValue)
        {
            Array.Clear(_basketTag);
            _tag = 1;
        }
    }

    /// <summary>True the first time <paramref name="item"/> appears in the current basket.</summary>
    internal bool FirstInBasket(int item)
    {
        if (_basketTag[item] == _tag)
        {
            return false;
        }

        _basketTag[item] = _tag;
        return true;
    }
}

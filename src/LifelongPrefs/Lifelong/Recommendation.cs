using System.Collections;

namespace LifelongPrefs.Lifelong;

/// <summary>Why an item was recommended.</summary>
public enum RecommendationReason
{
    /// <summary>The user has bought or used the item before and is likely to again (a repeat).</summary>
    Repeat = 0,

    /// <summary>The model ranks the item high for this user, who has not bought it (an exploration).</summary>
    Personalized = 1,

    /// <summary>The item is popular in the recent window (cold start: the user has too little history).</summary>
    Trending = 2,

    /// <summary>The item is popular overall (cold start, after the trending items ran out).</summary>
    Popular = 3,
}

/// <summary>One recommended item.</summary>
/// <param name="ItemId">The shop's item id.</param>
/// <param name="Score">The score it was ranked by (higher is better; comparable only within one list).</param>
/// <param name="Reason">Why it is in the list.</param>
public readonly record struct Recommendation(string ItemId, float Score, RecommendationReason Reason);

/// <summary>
/// A ranked list of recommendations, best first, with the model version that answered. Immutable.
/// </summary>
public sealed class RecommendationList : IReadOnlyList<Recommendation>
{
    private readonly Recommendation[] _items;

    internal RecommendationList(Recommendation[] items, long modelVersion, bool coldStart, int historyLength)
    {
        _items = items;
        ModelVersion = modelVersion;
        IsColdStart = coldStart;
        HistoryLength = historyLength;
    }

    /// <summary>Gets the published model version that scored the list (0: no model yet, cold start only).</summary>
    public long ModelVersion { get; }

    /// <summary>Gets whether the cold-start path answered (unknown user, too little history, or no model yet).</summary>
    public bool IsColdStart { get; }

    /// <summary>Gets how many of the user's events the answer saw (the live history at the time of the call).</summary>
    public int HistoryLength { get; }

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public Recommendation this[int index] => _items[index];

    /// <inheritdoc/>
    public IEnumerator<Recommendation> GetEnumerator() => ((IEnumerable<Recommendation>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

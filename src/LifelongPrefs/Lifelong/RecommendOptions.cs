namespace LifelongPrefs.Lifelong;

/// <summary>Filters for one <see cref="PreferenceTracker.Recommend(string, int, RecommendOptions?)"/> call.</summary>
public sealed class RecommendOptions
{
    /// <summary>Gets the options every call without its own uses.</summary>
    public static RecommendOptions Default { get; } = new();

    /// <summary>
    /// Gets whether items the user has already bought are left out. Switch it off where re-buys matter (groceries,
    /// supplies): in retail logs they are the strongest single signal, and the learner ranks them as repeats.
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool ExcludePurchased { get; init; } = true;

    /// <summary>Gets whether items the user dismissed within <see cref="TrackerOptions.DismissalDuration"/> are left out.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool ExcludeDismissed { get; init; } = true;

    /// <summary>Gets the only items that may be recommended (e.g. what is in stock); <see langword="null"/> allows every item.</summary>
    /// <value>Default <see langword="null"/>. Unknown ids in the set are ignored. A <see cref="HashSet{T}"/> is read without
    /// allocating; another set type costs its enumerator per call.</value>
    public IReadOnlySet<string>? Candidates { get; init; }

    /// <summary>
    /// Gets the only category whose items may be recommended (a category registered with
    /// <see cref="PreferenceTracker.RegisterItem"/>); <see langword="null"/> allows every category.
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? Category { get; init; }
}

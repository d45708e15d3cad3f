namespace LifelongPrefs.Models;

/// <summary>
/// A learner that takes item descriptions, so that an item it has never seen bought can still be scored from its text
/// (the tracker's <c>RegisterItem</c> and event texts, and the monthly protocol's catalog, reach a model through it).
/// </summary>
/// <remarks>
/// Called by the model's single writer (the tracker's learner thread, before the <see cref="IRecommender.Update"/> of
/// the batch in which the description arrived), never alongside a read-modify call. A later text of the same item
/// replaces the earlier one.
/// </remarks>
internal interface IItemTextLearner
{
    /// <summary>Records <paramref name="text"/> as item <paramref name="item"/>'s description.</summary>
    /// <param name="item">The item index (non-negative; it may lie beyond the model's current catalog).</param>
    /// <param name="text">The description (only its first characters are read; see the implementation).</param>
    void AddItemText(int item, string text);
}

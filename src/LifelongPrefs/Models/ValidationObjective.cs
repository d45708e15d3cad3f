namespace LifelongPrefs.Models;

/// <summary>
/// The validation-basket metric a model's hyper-parameter search maximises: NDCG@20 over all items (the next-basket
/// protocol) or over the items the user never bought before (its explore variant). A model tuned for one variant is
/// evaluated on that variant, as the next-basket literature reports each variant with its own setting.
/// </summary>
public enum ValidationObjective
{
    /// <summary>NDCG@20 of the held-out basket over all items (repeat purchases count).</summary>
    AllItems = 0,

    /// <summary>
    /// NDCG@20 over the items new to the user: everything in the user's history is excluded from the ranking and from
    /// the held-out basket, and users whose basket holds no new item are skipped.
    /// </summary>
    Explore = 1,
}

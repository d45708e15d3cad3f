namespace LifelongPrefs.Models;

/// <summary>
/// A learner that can erase one user (right to erasure): the seam the tracker's <c>Forget</c> calls on its learner
/// thread between micro-batches.
/// </summary>
/// <remarks>
/// After <see cref="ForgetUser"/> the model holds nothing keyed by the user: their embedding row and its optimizer
/// moments are reset to the values of a user never seen, their per-user statistics are gone, and their part of the
/// counts shared with others (co-occurrence, per-item user counts) is taken out. What the shared parameters (item
/// embeddings, biases, gates) learned from the user's events stays: those are updates mixed with everyone else's and
/// cannot be separated out short of retraining without the user (see <c>src/LifelongPrefs/Privacy/README.md</c>).
/// The user's index stays reserved: later events under that index would train a fresh user. Writer only.
/// </remarks>
internal interface IForgettingModel
{
    /// <summary>Erases user <paramref name="user"/>; an index the model never grew to is a no-op.</summary>
    /// <param name="user">The user index.</param>
    void ForgetUser(int user);

    /// <summary>Copies the user's embedding row as the model holds (and saves) it, for erasure checks; empty when out of range.</summary>
    /// <param name="user">The user index.</param>
    /// <returns>A copy of the row.</returns>
    float[] UserRow(int user);
}

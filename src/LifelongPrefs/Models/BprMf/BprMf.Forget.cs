namespace LifelongPrefs.Models;

/// <summary>Erasing one user (right to erasure): <see cref="IForgettingModel"/>.</summary>
public sealed partial class BprMf
{
    /// <inheritdoc/>
    /// <remarks>
    /// Zeroes the user's factor row (a fresh row would be a random draw, and drawing it would shift every later draw of
    /// the seeded stream), returns its Adam moments to their initial values and empties the user's set of seen items,
    /// so the user counts as untrained (the scorer folds in their history instead). The item factors and biases keep
    /// what they learned from the user's pairs.
    /// </remarks>
    void IForgettingModel.ForgetUser(int user)
    {
        if ((uint)user >= (uint)_users.Rows)
        {
            return;
        }

        int d = _options.Dimensions;
        _users.Value.Span.Slice(user * d, d).Clear();
        _optimizer.ResetRow(0, user); // "users" is the optimizer's parameter 0 (NewTables)
        _seen.ClearUser(user);
    }

    /// <inheritdoc/>
    float[] IForgettingModel.UserRow(int user) =>
        (uint)user < (uint)_users.Rows ? _users.Value.Span.Slice(user * _options.Dimensions, _options.Dimensions).ToArray() : [];
}

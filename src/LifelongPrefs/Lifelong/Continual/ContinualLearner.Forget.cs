namespace LifelongPrefs.Lifelong;

/// <summary>Erasing one user (right to erasure) from the model and every continual-learning state around it.</summary>
public sealed partial class ContinualLearner : IForgettingModel
{
    /// <inheritdoc/>
    /// <remarks>
    /// Erases the user from the wrapped model, then from the strategies' state: their row of the EWC Fisher information
    /// and of the anchor θ* (a copy of their embedding), their events in the replay reservoir and recent window, and
    /// the distillation teacher (re-taken from the erased model, so no copy of their old row remains).
    /// </remarks>
    void IForgettingModel.ForgetUser(int user)
    {
        if (_model is IForgettingModel forgetting)
        {
            forgetting.ForgetUser(user);
        }

        _ewc?.ForgetUser(user);
        _replay?.ForgetUser(user);
        if (_teacher is not null)
        {
            PublishTeacher();
        }
    }

    /// <inheritdoc/>
    float[] IForgettingModel.UserRow(int user) => _model is IForgettingModel forgetting ? forgetting.UserRow(user) : [];
}

namespace LifelongPrefs.Models;

/// <summary>Argument checks shared by the recommenders.</summary>
internal static class RecommenderGuard
{
    /// <summary>Throws unless <paramref name="value"/> is positive and finite (a learning rate, say).</summary>
    internal static void PositiveFinite(float value, string name)
    {
        if (!(value > 0f) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be positive and finite but was {value}.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is non-negative and finite (a penalty or decay weight).</summary>
    internal static void NonNegativeFinite(float value, string name)
    {
        if (!(value >= 0f) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be non-negative and finite but was {value}.");
        }
    }

    /// <summary>
    /// The checks every learned model's options share, under the option names they all use: the epoch cap and update
    /// passes (non-negative), patience (positive), validation users (non-negative), the growth limits and a learning
    /// rate in (0, 1] (see <see cref="LearningRate"/>).
    /// </summary>
    internal static void TrainingBudget(int maxEpochs, int updateEpochs, int patience, int validationUsers, int maxUsers,
        int maxItems, float learningRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEpochs, "MaxEpochs");
        ArgumentOutOfRangeException.ThrowIfNegative(updateEpochs, "UpdateEpochs");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience, "Patience");
        ArgumentOutOfRangeException.ThrowIfNegative(validationUsers, "ValidationUsers");
        GrowthGuard.Limit(maxUsers, "MaxUsers");
        GrowthGuard.Limit(maxItems, "MaxItems");
        LearningRate(learningRate, "LearningRate");
    }

    /// <summary>
    /// Throws unless <paramref name="value"/> is a learning rate in (0, 1]. Every model steps with Adam, whose step per
    /// parameter is bounded by about the learning rate whatever the gradient (Kingma and Ba, ICLR 2015, section 2.1),
    /// so a rate of at most 1 keeps every parameter finite, while a huge one (1e30 passed the old "positive, finite"
    /// check) overflows the weights to infinity and then NaN in one or two steps.
    /// </summary>
    internal static void LearningRate(float value, string name)
    {
        if (!(value > 0f) || !(value <= 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in (0, 1] but was {value}.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is a defined member of its enum (a loss, say).</summary>
    internal static void Defined<TEnum>(TEnum value, string name)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' is not a defined {typeof(TEnum).Name}.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> lies in [0, 1) (a dropout rate).</summary>
    internal static void Rate(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in [0, 1) but was {value}.");
        }
    }

    /// <summary>
    /// The largest user count the baselines accept (the learned models pass their options' <c>MaxUsers</c>, whose
    /// default is the same): an id map past it is far more likely a bug than a shop.
    /// </summary>
    internal const int DefaultMaxUsers = 10_000_000;

    /// <summary>The largest item count the baselines accept (the learned models pass their options' <c>MaxItems</c>).</summary>
    internal const int DefaultMaxItems = 10_000_000;

    /// <summary>Throws unless both counts lie in [0, their maximum]: checked before anything is allocated.</summary>
    internal static void Counts(int userCount, int itemCount, int maxUsers = DefaultMaxUsers, int maxItems = DefaultMaxItems)
    {
        if ((uint)userCount > (uint)maxUsers)
        {
            throw new ArgumentOutOfRangeException(nameof(userCount), userCount, $"'{nameof(userCount)}' must be in [0, {maxUsers}] but was {userCount}.");
        }

        if ((uint)itemCount > (uint)maxItems)
        {
            throw new ArgumentOutOfRangeException(nameof(itemCount), itemCount, $"'{nameof(itemCount)}' must be in [0, {maxItems}] but was {itemCount}.");
        }
    }

    /// <summary>Throws unless the counts lie within their maxima and did not shrink.</summary>
    internal static void Grown(int userCount, int itemCount, int previousUsers, int previousItems,
        int maxUsers = DefaultMaxUsers, int maxItems = DefaultMaxItems)
    {
        Counts(userCount, itemCount, maxUsers, maxItems);
        if (userCount < previousUsers)
        {
            throw new ArgumentException($"'{nameof(userCount)}' shrank from {previousUsers} to {userCount}; id maps only grow.", nameof(userCount));
        }

        if (itemCount < previousItems)
        {
            throw new ArgumentException($"'{nameof(itemCount)}' shrank from {previousItems} to {itemCount}; id maps only grow.", nameof(itemCount));
        }
    }

    /// <summary>Validates every event before the model changes anything.</summary>
    internal static void Events(IReadOnlyList<Interaction> events, int userCount, int itemCount, string name)
    {
        ArgumentNullException.ThrowIfNull(events, name);
        for (int i = 0; i < events.Count; i++)
        {
            Interaction e = events[i];
            if ((uint)e.User >= (uint)userCount || (uint)e.Item >= (uint)itemCount)
            {
                throw new ArgumentException(
                    $"{name}[{i}] has user {e.User} and item {e.Item}, outside the {userCount} users and {itemCount} items given.", name);
            }

            if (InteractionRules.Problem(e) is string problem)
            {
                throw new ArgumentException($"{name}[{i}] is invalid: {problem}.", name);
            }
        }
    }

    /// <summary>
    /// Validates the arguments of a scoring call: <paramref name="scores"/> holds exactly one slot per item, and every
    /// history event obeys <see cref="InteractionRules"/> (items outside the catalog are allowed: models ignore items
    /// they do not know, but a negative index is rejected).
    /// </summary>
    internal static void Scoring(ReadOnlySpan<Interaction> history, Span<float> scores, int itemCount)
    {
        ScoreLength(scores, itemCount);
        for (int i = 0; i < history.Length; i++)
        {
            if (history[i].Item < 0)
            {
                throw new ArgumentException($"history[{i}] has a negative item index {history[i].Item}.", nameof(history));
            }

            if (InteractionRules.Problem(history[i]) is string problem)
            {
                throw new ArgumentException($"history[{i}] is invalid: {problem}.", nameof(history));
            }
        }
    }

    internal static void ScoreLength(Span<float> scores, int itemCount)
    {
        if (scores.Length != itemCount)
        {
            throw new ArgumentException($"'{nameof(scores)}' has length {scores.Length} but the model scores {itemCount} items.", nameof(scores));
        }
    }

    /// <summary>Whether an event counts as positive feedback (a purchase, add-to-cart, click, view or good rating).</summary>
    internal static bool IsPositive(in Interaction e) => e.Kind != EventKind.Return && e.Quantity > 0f;
}

namespace LifelongPrefs.Lifelong;

/// <summary>
/// One published state of the learner: immutable, so a reader that took it answers from it alone however long the
/// call runs and however many newer versions appear meanwhile.
/// </summary>
/// <param name="Number">The version number: 0 before anything was learned, then 1, 2, … in publishing order.</param>
/// <param name="Scorer">The model's snapshot scorer (<see langword="null"/> in version 0).</param>
/// <param name="Trending">Per item: the time-decayed interaction weight at <paramref name="StreamTicks"/>.</param>
/// <param name="Totals">Per item: the undecayed interaction weight.</param>
/// <param name="EventsLearned">Events the learner had trained on when it published this version.</param>
/// <param name="StreamTicks">The time of the newest event learned (UTC ticks).</param>
internal sealed record PublishedVersion(long Number, IScorer? Scorer, float[] Trending, float[] Totals, long EventsLearned, long StreamTicks)
{
    /// <summary>The version a new tracker starts with.</summary>
    internal static PublishedVersion Empty { get; } = new(0, null, [], [], 0, 0);

    /// <summary>Gets the number of items the model can score (0 in version 0).</summary>
    internal int ModelItems => Scorer?.ItemCount ?? 0;
}

/// <summary>One entry of the learning queue: an event (or a dismissal) and the catalog size when it arrived.</summary>
/// <param name="Event">The event; for a dismissal only its user, item and time matter.</param>
/// <param name="Users">The number of users known when it was queued (so growth does not depend on timing).</param>
/// <param name="Items">The number of items known when it was queued.</param>
/// <param name="Negative">Whether this is a dismissal (a negative example) rather than an event.</param>
/// <param name="Text">An item description for the learner (then only the event's item matters), or <see langword="null"/>.</param>
/// <param name="Log">The user's log, for the drift monitor's prequential test (<see langword="null"/> when not needed).</param>
/// <param name="Position">The event's position in <paramref name="Log"/> (<see cref="UserLog.Appended"/> just before it was appended):
/// the history the user had when it arrived is the log's events before it.</param>
/// <param name="Voided">Whether the entry was voided while queued (its user was forgotten): the learner skips it.</param>
internal readonly record struct QueuedEvent(Data.Interaction Event, int Users, int Items, bool Negative, string? Text = null,
    UserLog? Log = null, long Position = 0, bool Voided = false);

namespace LifelongPrefs.Lifelong;

/// <summary>What a shopper did with a recommended item (see <see cref="PreferenceTracker.Feedback"/>).</summary>
public enum FeedbackOutcome
{
    /// <summary>The item was shown; counted, and nothing is learned from it alone.</summary>
    Shown = 0,

    /// <summary>The shopper clicked it: observed as a <see cref="Data.EventKind.Click"/> event.</summary>
    Clicked = 1,

    /// <summary>The shopper bought it: observed as a <see cref="Data.EventKind.Purchase"/> event.</summary>
    Bought = 2,

    /// <summary>
    /// The shopper dismissed it: hidden from that user for <see cref="TrackerOptions.DismissalDuration"/> and taught
    /// to the learner as a negative example in its next update.
    /// </summary>
    Dismissed = 3,
}

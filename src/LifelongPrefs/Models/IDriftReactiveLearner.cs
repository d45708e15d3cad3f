namespace LifelongPrefs.Models;

/// <summary>
/// An online learner whose step size can be scaled from outside while it learns: the seam through which the tracker's
/// drift monitor raises the learning rate for a while after it detects a change (<c>Lifelong/Drift/</c>).
/// </summary>
/// <remarks>
/// Set only by the thread that calls <see cref="IRecommender.Update"/>, between updates. A scale of 1 must leave every
/// step bit-identical to a learner that was never scaled. The scale is transient: it is not model state and is not
/// saved with it.
/// </remarks>
internal interface IDriftReactiveLearner
{
    /// <summary>Gets or sets the factor applied to every learning rate of the following updates.</summary>
    /// <value>Default 1; positive and finite (the caller validates).</value>
    float LearningRateScale { get; set; }
}

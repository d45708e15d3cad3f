namespace LifelongPrefs.Training;

/// <summary>A learning rate as a function of the optimizer's step count.</summary>
/// <remarks>
/// Set on <see cref="Optimizer.Schedule"/>; step <c>n</c> (counted from 0, skipped steps not counted) then uses
/// <c>GetLearningRate(n)</c>. Implementations must be pure (the same step gives the same rate) and must not
/// allocate, since they are called on every step.
/// </remarks>
public interface ILearningRateSchedule
{
    /// <summary>Returns the learning rate of the step that follows <paramref name="stepCount"/> applied steps.</summary>
    /// <param name="stepCount">The number of steps already applied (<see cref="Optimizer.StepCount"/>), i.e. the
    /// 0-based index of the step about to be taken; non-negative.</param>
    /// <returns>A finite, non-negative learning rate.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepCount"/> is negative.</exception>
    float GetLearningRate(long stepCount);
}

/// <summary>The same learning rate at every step.</summary>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    /// <summary>Creates a constant schedule.</summary>
    /// <param name="learningRate">The rate; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, NaN or infinite.</exception>
    public ConstantSchedule(float learningRate)
    {
        Optimizer.ValidateLearningRate(learningRate, nameof(learningRate));
        LearningRate = learningRate;
    }

    /// <summary>Gets the rate.</summary>
    public float LearningRate { get; }

    /// <inheritdoc/>
    public float GetLearningRate(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        return LearningRate;
    }
}

/// <summary>
/// Step decay: the rate is multiplied by <see cref="Gamma"/> every <see cref="StepSize"/> steps,
/// <c>lr · gamma^⌊step / stepSize⌋</c> (PyTorch's <c>StepLR</c>).
/// </summary>
public sealed class StepSchedule : ILearningRateSchedule
{
    /// <summary>Creates a step-decay schedule.</summary>
    /// <param name="learningRate">The initial rate; finite and non-negative.</param>
    /// <param name="stepSize">The number of steps between decays; positive.</param>
    /// <param name="gamma">The factor applied at each decay; finite and positive (usually &lt; 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, NaN or infinite.</exception>
    public StepSchedule(float learningRate, long stepSize, float gamma)
    {
        Optimizer.ValidateLearningRate(learningRate, nameof(learningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        Optimizer.RequireFinitePositive(gamma, nameof(gamma));
        LearningRate = learningRate;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Gets the initial rate.</summary>
    public float LearningRate { get; }

    /// <summary>Gets the number of steps between decays.</summary>
    public long StepSize { get; }

    /// <summary>Gets the decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    /// <remarks>With <see cref="Gamma"/> &gt; 1 the rate grows; it is capped at <see cref="float.MaxValue"/> so it stays finite.</remarks>
    public float GetLearningRate(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        double rate = LearningRate * Math.Pow(Gamma, stepCount / StepSize);
        return (float)Math.Min(rate, float.MaxValue);
    }
}

/// <summary>
/// Cosine annealing from <see cref="LearningRate"/> to <see cref="MinLearningRate"/> over
/// <see cref="TotalSteps"/> steps, then constant at the minimum:
/// <c>min + (lr − min)·(1 + cos(π·min(step, total)/total))/2</c> (Loshchilov &amp; Hutter's SGDR without restarts).
/// </summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    /// <summary>Creates a cosine schedule.</summary>
    /// <param name="learningRate">The rate at step 0; finite and non-negative.</param>
    /// <param name="totalSteps">The step at which the minimum is reached; positive.</param>
    /// <param name="minLearningRate">The final rate; finite, in [0, <paramref name="learningRate"/>] (default 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, NaN or infinite.</exception>
    public CosineSchedule(float learningRate, long totalSteps, float minLearningRate = 0f)
    {
        Optimizer.ValidateLearningRate(learningRate, nameof(learningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        Optimizer.RequireFiniteNonNegative(minLearningRate, nameof(minLearningRate));
        if (minLearningRate > learningRate)
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate,
                $"'minLearningRate' ({minLearningRate}) must not exceed 'learningRate' ({learningRate}).");
        }

        LearningRate = learningRate;
        TotalSteps = totalSteps;
        MinLearningRate = minLearningRate;
    }

    /// <summary>Gets the rate at step 0.</summary>
    public float LearningRate { get; }

    /// <summary>Gets the number of steps of the annealing.</summary>
    public long TotalSteps { get; }

    /// <summary>Gets the final rate.</summary>
    public float MinLearningRate { get; }

    /// <inheritdoc/>
    public float GetLearningRate(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        double progress = (double)Math.Min(stepCount, TotalSteps) / TotalSteps;
        return (float)(MinLearningRate + ((LearningRate - (double)MinLearningRate) * 0.5 * (1.0 + Math.Cos(Math.PI * progress))));
    }
}

/// <summary>
/// Linear warm-up in front of another schedule: during the first <see cref="WarmupSteps"/> steps the rate rises
/// linearly, <c>inner(0) · (step + 1) / warmupSteps</c>, reaching the inner schedule's initial rate at the last
/// warm-up step; afterwards the inner schedule runs, shifted so that it starts from its own step 0:
/// <c>inner(step − warmupSteps)</c>.
/// </summary>
/// <remarks>
/// The first step uses <c>inner(0) / warmupSteps</c> rather than exactly 0, so no step is wasted. Shifting the
/// inner schedule means a <see cref="CosineSchedule"/> wrapped in a warm-up anneals over its full length after
/// the warm-up, rather than losing its first <see cref="WarmupSteps"/> steps.
/// </remarks>
public sealed class WarmupSchedule : ILearningRateSchedule
{
    /// <summary>Creates a warm-up in front of <paramref name="inner"/>.</summary>
    /// <param name="inner">The schedule that follows the warm-up.</param>
    /// <param name="warmupSteps">The length of the warm-up; non-negative (0 means no warm-up).</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupSteps"/> is negative.</exception>
    public WarmupSchedule(ILearningRateSchedule inner, long warmupSteps)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        Inner = inner;
        WarmupSteps = warmupSteps;
    }

    /// <summary>Gets the schedule that follows the warm-up.</summary>
    public ILearningRateSchedule Inner { get; }

    /// <summary>Gets the number of warm-up steps.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc/>
    public float GetLearningRate(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        if (stepCount >= WarmupSteps)
        {
            return Inner.GetLearningRate(stepCount - WarmupSteps);
        }

        return (float)((double)Inner.GetLearningRate(0) * (stepCount + 1) / WarmupSteps);
    }
}

namespace LifelongPrefs.Training;

/// <summary>
/// The outcome of <see cref="Optimizer.Step"/>: either the update was applied, or it was skipped because a
/// gradient held NaN or infinity (and then which parameter was at fault).
/// </summary>
/// <remarks>A value type, so that reporting the outcome of a step allocates nothing.</remarks>
public readonly record struct StepResult
{
    private StepResult(bool applied, float learningRate, long stepCount, Parameter? nonFiniteParameter, int nonFiniteParameterIndex)
    {
        Applied = applied;
        LearningRate = learningRate;
        StepCount = stepCount;
        NonFiniteParameter = nonFiniteParameter;
        NonFiniteParameterIndex = nonFiniteParameterIndex;
    }

    /// <summary>Gets a value indicating whether the update was applied.</summary>
    public bool Applied { get; }

    /// <summary>Gets a value indicating whether the step was skipped because of a non-finite gradient.</summary>
    public bool Skipped => !Applied;

    /// <summary>Gets the learning rate the step used.</summary>
    /// <value>0 when the step was skipped.</value>
    public float LearningRate { get; }

    /// <summary>Gets the optimizer's <see cref="Optimizer.StepCount"/> after this step.</summary>
    /// <value>Unchanged from before the call when the step was skipped.</value>
    public long StepCount { get; }

    /// <summary>Gets the first parameter (in the optimizer's order) whose gradient held NaN or infinity.</summary>
    /// <value>Null when the step was applied.</value>
    public Parameter? NonFiniteParameter { get; }

    /// <summary>
    /// Gets the index of <see cref="NonFiniteParameter"/> in <see cref="Optimizer.Parameters"/>. For an optimizer
    /// built over <see cref="Module.Parameters"/> this is also the index in <see cref="Module.NamedParameters"/>,
    /// which gives the dotted path.
    /// </summary>
    /// <value>−1 when the step was applied.</value>
    public int NonFiniteParameterIndex { get; }

    /// <summary>Gets the local name of <see cref="NonFiniteParameter"/>.</summary>
    /// <value>Null when the step was applied.</value>
    public string? NonFiniteParameterName => NonFiniteParameter?.Name;

    /// <summary>Describes the outcome.</summary>
    /// <returns>A short message.</returns>
    public override string ToString() => Applied
        ? $"Step {StepCount} applied with learning rate {LearningRate}."
        : $"Step skipped: parameter {NonFiniteParameterIndex} ('{NonFiniteParameterName}') has a NaN or infinite gradient; step count stays {StepCount}.";

    internal static StepResult AppliedAt(float learningRate, long stepCount) => new(true, learningRate, stepCount, null, -1);

    internal static StepResult SkippedAt(Parameter parameter, int index, long stepCount) => new(false, 0f, stepCount, parameter, index);
}

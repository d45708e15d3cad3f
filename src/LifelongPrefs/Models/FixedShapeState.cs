namespace LifelongPrefs.Models;

/// <summary>
/// The swap-in step of a loaded state shared by the models whose network has a fixed shape (PropensityMLP,
/// RepeatAware): the parameters are written in place rather than rebuilt, so their optimizer and generator stay the
/// same objects and only take the saved values.
/// </summary>
internal static class FixedShapeState
{
    /// <summary>
    /// Copies the validated <paramref name="values"/> into <paramref name="named"/>'s parameters (gradients cleared),
    /// applies the saved optimizer moments and sets the generator's state.
    /// </summary>
    internal static void Apply(KeyValuePair<string, Parameter>[] named, float[][] values, SavedOptimizer moments, Optimizer optimizer,
        SeededRandom random, int[] randomState)
    {
        for (int p = 0; p < named.Length; p++)
        {
            values[p].CopyTo(named[p].Value.Value.Span);
            named[p].Value.ZeroGradient();
        }

        moments.ApplyTo(optimizer, named);
        random.SetState(randomState);
    }
}

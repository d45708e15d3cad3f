namespace LifelongPrefs.Persistence;

/// <summary>An optimizer's saved state buffers keyed by parameter path, and its step count.</summary>
/// <param name="Buffers">For each parameter path, one array per state slot.</param>
/// <param name="Steps">The applied-step count.</param>
internal sealed record SavedOptimizer(Dictionary<string, float[][]> Buffers, long Steps)
{
    /// <summary>Copies the buffers into <paramref name="optimizer"/> by path and restores its step count.</summary>
    /// <param name="optimizer">An optimizer of the saved type whose parameters already have the saved shapes.</param>
    /// <param name="named">The paths of its parameters.</param>
    internal void ApplyTo(Optimizer optimizer, IEnumerable<KeyValuePair<string, Parameter>> named)
    {
        Dictionary<Parameter, string> paths = OptimizerNames.Paths(named);
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            float[][] slots = Buffers[paths[optimizer.Parameters[i]]];
            for (int slot = 0; slot < slots.Length; slot++)
            {
                slots[slot].CopyTo(optimizer.GetState(i, slot));
            }
        }

        optimizer.RestoreStepCount(Steps);
    }
}

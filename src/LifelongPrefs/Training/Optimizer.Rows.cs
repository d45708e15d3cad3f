namespace LifelongPrefs.Training;

/// <summary>Per-row state resets (erasing a user's row).</summary>
public abstract partial class Optimizer
{
    /// <summary>
    /// Returns one row of one parameter's state to its initial value in every slot (erasing a user: their row's moments
    /// become a never-trained row's). A row beyond the state's current size is already initial.
    /// </summary>
    internal void ResetRow(int parameterIndex, int row)
    {
        int width = _parameters[parameterIndex].Value.RowLength;
        for (int s = 0; s < _stateSlots; s++)
        {
            float[] state = _state[parameterIndex][s];
            long start = (long)row * width;
            if (start + width <= state.Length)
            {
                state.AsSpan((int)start, width).Fill(_initialState);
            }
        }
    }
}

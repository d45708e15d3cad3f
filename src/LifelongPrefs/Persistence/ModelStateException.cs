namespace LifelongPrefs.Persistence;

/// <summary>
/// A saved model state could not be read: not a state, another container version, another model type, other
/// options, corrupted, truncated or inconsistent. The model the state was loaded into is unchanged.
/// </summary>
public sealed class ModelStateException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ModelStateException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong with the data.</param>
    public ModelStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed it.</summary>
    /// <param name="message">What is wrong with the data.</param>
    /// <param name="innerException">The underlying error (e.g. end of stream).</param>
    public ModelStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

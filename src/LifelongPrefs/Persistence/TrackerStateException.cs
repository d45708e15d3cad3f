namespace LifelongPrefs.Persistence;

/// <summary>
/// A tracker's saved state could not be used: the checkpoint or a journal segment is corrupted, truncated, crafted,
/// from other options, or the journal has a gap. The tracker being opened is not created.
/// </summary>
public sealed class TrackerStateException : IOException
{
    /// <summary>Creates the exception.</summary>
    public TrackerStateException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong with the files (it names the file and the position).</param>
    public TrackerStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed it.</summary>
    /// <param name="message">What is wrong with the files.</param>
    /// <param name="innerException">The underlying error (e.g. a <see cref="ModelStateException"/>).</param>
    public TrackerStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

using LifelongPrefs.Persistence;

namespace LifelongPrefs.Lifelong;

/// <summary>A drift detector of the library whose state a tracker checkpoint carries (<see cref="Adwin"/>, <see cref="PageHinkley"/>).</summary>
internal interface IPersistentDetector
{
    /// <summary>Adds the detector's state as sections named <c>prefix.*</c>.</summary>
    /// <param name="writer">The container being built.</param>
    /// <param name="prefix">The sections' common name.</param>
    void WriteState(ModelStateWriter writer, string prefix);

    /// <summary>Takes and checks the sections <see cref="WriteState"/> wrote; the returned action applies them (nothing changes before).</summary>
    /// <param name="reader">The container being read.</param>
    /// <param name="prefix">The sections' common name.</param>
    /// <returns>The action that swaps the state in.</returns>
    /// <exception cref="ModelStateException">A section is missing or malformed, or the state is inconsistent.</exception>
    Action ReadState(ModelStateReader reader, string prefix);
}

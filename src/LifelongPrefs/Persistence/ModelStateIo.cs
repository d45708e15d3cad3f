namespace LifelongPrefs.Persistence;

/// <summary>
/// The one save/load path of every model: a model supplies its header, a method that adds its sections and a
/// method that validates a reader's sections and returns the action that swaps them in; this class does the rest
/// (stream I/O, the unused-section check, and applying only after everything was validated).
/// </summary>
internal static class ModelStateIo
{
    /// <summary>Writes a model's state to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="header">The model's header.</param>
    /// <param name="write">Adds the model's sections.</param>
    internal static void Save(Stream stream, ModelStateHeader header, Action<ModelStateWriter> write) => Capture(header, write).WriteTo(stream);

    /// <summary>As <see cref="Save"/>, with asynchronous writes.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="header">The model's header.</param>
    /// <param name="write">Adds the model's sections.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>The write.</returns>
    internal static Task SaveAsync(Stream stream, ModelStateHeader header, Action<ModelStateWriter> write, CancellationToken cancellationToken) =>
        Capture(header, write).WriteToAsync(stream, cancellationToken);

    /// <summary>Reads a state for a model, lets it validate the sections, rejects unused ones, then applies it.</summary>
    /// <param name="stream">A readable stream positioned at the state.</param>
    /// <param name="header">The loading model's header.</param>
    /// <param name="model">The loading model's display name.</param>
    /// <param name="read">Validates the sections and returns the action that applies them; must not change the model.</param>
    internal static void Load(Stream stream, ModelStateHeader header, string model, Func<ModelStateReader, Action> read) =>
        Apply(ModelStateReader.Read(stream, header, model), read);

    /// <summary>As <see cref="Load"/>, with asynchronous reads.</summary>
    /// <param name="stream">A readable stream positioned at the state.</param>
    /// <param name="header">The loading model's header.</param>
    /// <param name="model">The loading model's display name.</param>
    /// <param name="read">Validates the sections and returns the action that applies them.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <returns>The load.</returns>
    internal static async Task LoadAsync(Stream stream, ModelStateHeader header, string model, Func<ModelStateReader, Action> read,
        CancellationToken cancellationToken) =>
        Apply(await ModelStateReader.ReadAsync(stream, header, model, cancellationToken).ConfigureAwait(false), read);

    private static ModelStateWriter Capture(ModelStateHeader header, Action<ModelStateWriter> write)
    {
        var writer = new ModelStateWriter(header);
        write(writer);
        return writer;
    }

    private static void Apply(ModelStateReader reader, Func<ModelStateReader, Action> read)
    {
        Action apply = read(reader);
        reader.EnsureAllConsumed();
        apply();
    }
}

using System.Diagnostics.CodeAnalysis;

namespace LifelongPrefs.Nn;

/// <summary>
/// A node of a model: owns named parameters and named child modules, and carries the training/inference
/// mode that dropout and batch-norm read.
/// </summary>
/// <remarks>
/// Parameter paths are dotted like PyTorch's (<c>blocks.0.attention.query.weight</c>); they are stable as
/// long as the model is built the same way, which is what checkpoints and regularisers key on.
/// </remarks>
[SuppressMessage("Naming", "CA1716:Identifiers should not match keywords",
    Justification = "'Module' is the established name for this concept (PyTorch, TorchSharp); the library targets C# consumers.")]
public abstract class Module
{
    private readonly List<Parameter> _parameters = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];
    private Parameter[]? _allParameters;
    private bool _training = true;

    /// <summary>
    /// Gets or sets a value indicating whether the module is in training mode (the default) rather than
    /// inference mode. Setting it sets every descendant.
    /// </summary>
    public bool Training
    {
        get => _training;
        set
        {
            _training = value;
            foreach (var child in _children)
            {
                child.Value.Training = value;
            }
        }
    }

    /// <summary>Gets every parameter of this module and its descendants, in registration order.</summary>
    public IReadOnlyList<Parameter> Parameters => _allParameters ??= [.. NamedParameters().Select(p => p.Value)];

    /// <summary>Gets the direct children with their local names.</summary>
    public IReadOnlyList<KeyValuePair<string, Module>> Children => _children;

    /// <summary>Enumerates every parameter with its dotted path, depth first in registration order.</summary>
    /// <returns>Pairs of path and parameter.</returns>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters()
    {
        foreach (Parameter parameter in _parameters)
        {
            yield return new(parameter.Name, parameter);
        }

        foreach (var child in _children)
        {
            foreach (var inner in child.Value.NamedParameters())
            {
                yield return new(child.Key + "." + inner.Key, inner.Value);
            }
        }
    }

    /// <summary>Clears the gradients of every parameter (only the touched rows of sparse ones).</summary>
    public void ZeroGrad()
    {
        // An indexed loop: foreach over the interface would allocate an enumerator on every step.
        IReadOnlyList<Parameter> parameters = Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].ZeroGradient();
        }
    }

    /// <summary>Registers a parameter of this module.</summary>
    /// <param name="parameter">The parameter; its name must be unique within this module.</param>
    /// <returns><paramref name="parameter"/>, for field initialisation.</returns>
    /// <exception cref="ArgumentException">The name is already used by a parameter or child of this module.</exception>
    protected Parameter AddParameter(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        EnsureUnique(parameter.Name);
        _parameters.Add(parameter);
        InvalidateParameterCache();
        return parameter;
    }

    /// <summary>Registers a child module under <paramref name="name"/>; it takes this module's mode.</summary>
    /// <typeparam name="T">The child's type.</typeparam>
    /// <param name="name">The local name; unique within this module, without '.'.</param>
    /// <param name="module">The child.</param>
    /// <returns><paramref name="module"/>, for field initialisation.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains '.', or is already used.</exception>
    protected T AddModule<T>(string name, T module)
        where T : Module
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(module);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Module name '{name}' must not contain '.', which separates module paths.", nameof(name));
        }

        EnsureUnique(name);
        module.Training = _training;
        module._parentCacheOwner = this;
        _children.Add(new(name, module));
        InvalidateParameterCache();
        return module;
    }

    private Module? _parentCacheOwner;

    /// <summary>Forgets the flattened parameter list here and in every ancestor (after registration or growth of the tree).</summary>
    private void InvalidateParameterCache()
    {
        for (Module? m = this; m is not null; m = m._parentCacheOwner)
        {
            m._allParameters = null;
        }
    }

    private void EnsureUnique(string name)
    {
        if (_parameters.Exists(p => p.Name == name) || _children.Exists(c => c.Key == name))
        {
            throw new ArgumentException($"The name '{name}' is already registered in {GetType().Name}.", nameof(name));
        }
    }
}

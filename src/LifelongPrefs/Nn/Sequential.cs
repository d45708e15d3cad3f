using System.Globalization;

namespace LifelongPrefs.Nn;

/// <summary>
/// A chain of layers: the output of each is the input of the next. Backward runs the chain in reverse.
/// </summary>
/// <remarks>
/// Children are registered under their positions <c>"0"</c>, <c>"1"</c>, …, so parameter paths read like
/// PyTorch's (<c>0.weight</c>, <c>2.bias</c>). Setting <see cref="Module.Training"/> on the container sets it on
/// every layer. Each layer validates its own input; a shape error in a later layer is reported after the
/// earlier layers have already run their forward pass (their caches, and a batch norm's running statistics,
/// reflect that partial pass), since shapes are only known layer by layer.
/// </remarks>
public sealed class Sequential : Layer
{
    private readonly Layer[] _layers;
    private bool _hasForward;

    /// <summary>Creates a chain of <paramref name="layers"/>, applied in order.</summary>
    /// <param name="layers">At least one layer; each distinct (a layer caches its own forward pass, so it cannot appear twice).</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> or one of its elements is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty or contains the same instance twice.</exception>
    public Sequential(params Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("A Sequential needs at least one layer.", nameof(layers));
        }

        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i] is null)
            {
                throw new ArgumentNullException(nameof(layers), $"layers[{i}] is null.");
            }

            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(layers[i], layers[j]))
                {
                    throw new ArgumentException(
                        $"layers[{i}] is the same instance as layers[{j}]; each position needs its own layer.", nameof(layers));
                }
            }
        }

        _layers = (Layer[])layers.Clone();
        for (int i = 0; i < _layers.Length; i++)
        {
            AddModule(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
        }
    }

    /// <summary>Gets the number of layers.</summary>
    public int Count => _layers.Length;

    /// <summary>Gets the layer at <paramref name="index"/>.</summary>
    /// <param name="index">Position in the chain, in [0, <see cref="Count"/>).</param>
    /// <returns>The layer.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public Layer this[int index] => _layers[index];

    /// <summary>Runs every layer's forward pass in order.</summary>
    /// <param name="input">Input of the first layer.</param>
    /// <returns>Output of the last layer (owned by it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">A layer rejects its input (see that layer's documentation).</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Tensor x = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            x = _layers[i].Forward(x);
        }

        _hasForward = true;
        return x;
    }

    /// <summary>Runs every layer's backward pass in reverse order, each accumulating its parameter gradients.</summary>
    /// <param name="gradOutput">Gradient with respect to the last output; same shape as it.</param>
    /// <returns>Gradient with respect to the input of the first layer (owned by it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="gradOutput"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="gradOutput"/> does not have the shape of the last output (rejected by the last layer before
    /// any gradient is written).
    /// </exception>
    /// <exception cref="InvalidOperationException">No forward pass has been run.</exception>
    public override Tensor Backward(Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (!_hasForward)
        {
            throw CoreLayerChecks.NoForward(nameof(Sequential));
        }

        Tensor g = gradOutput;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            g = _layers[i].Backward(g);
        }

        return g;
    }
}

namespace LifelongPrefs.Nn;

/// <summary>
/// A reusable tensor slot: returns a tensor of the requested shape, reusing the previous one when the shape
/// is unchanged and the previous storage when it is large enough, so steady-state steps allocate nothing.
/// </summary>
/// <remarks>The returned tensor's contents are unspecified (whatever the last user left) unless cleared.</remarks>
internal sealed class Workspace
{
    private float[] _storage = [];
    private Tensor? _view;

    /// <summary>Gets a (rows, columns) tensor.</summary>
    internal Tensor Get(int rows, int columns)
    {
        if (_view is { Rank: 2 } v && v.Shape[0] == rows && v.Shape[1] == columns)
        {
            return v;
        }

        return Create([rows, columns]);
    }

    /// <summary>Gets a (d0, d1, d2) tensor.</summary>
    internal Tensor Get(int d0, int d1, int d2)
    {
        if (_view is { Rank: 3 } v && v.Shape[0] == d0 && v.Shape[1] == d1 && v.Shape[2] == d2)
        {
            return v;
        }

        return Create([d0, d1, d2]);
    }

    /// <summary>Gets a tensor shaped like <paramref name="like"/>.</summary>
    internal Tensor GetLike(Tensor like) => like.Rank switch
    {
        2 => Get(like.Shape[0], like.Shape[1]),
        3 => Get(like.Shape[0], like.Shape[1], like.Shape[2]),
        _ => GetAnyRank(like),
    };

    private Tensor GetAnyRank(Tensor like)
    {
        if (_view is not null && _view.Shape.SequenceEqual(like.Shape))
        {
            return _view;
        }

        return Create(like.Shape.ToArray());
    }

    private Tensor Create(int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }

        if (_storage.Length < count)
        {
            _storage = new float[count];
        }

        // A view over the front of the storage: the storage keeps its capacity for larger shapes later.
        _view = Tensor.FromArray(_storage, [_storage.Length]).Slice(0, (int)count).Reshape(shape);
        return _view;
    }
}

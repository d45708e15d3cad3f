using LifelongPrefs.Tensors;

namespace LifelongPrefs.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void New_tensor_is_zero_filled_with_its_shape()
    {
        var t = new Tensor(2, 3, 4);
        Assert.Equal([2, 3, 4], t.Shape.ToArray());
        Assert.Equal(3, t.Rank);
        Assert.Equal(24, t.Length);
        Assert.Equal(2, t.Rows);
        Assert.Equal(12, t.RowLength);
        Assert.All(t.Span.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal("Tensor[2, 3, 4]", t.ToString());
    }

    [Fact]
    public void Views_share_storage_with_the_original()
    {
        float[] data = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var t = Tensor.FromArray(data, 4, 3);
        Assert.Equal(5f, t[1, 2]);

        Tensor rows = t.Slice(1, 2);
        Assert.Equal([3f, 4, 5, 6, 7, 8], rows.Span.ToArray());
        rows[0, 0] = -1f;
        Assert.Equal(-1f, data[3]);

        Tensor flat = t.Reshape(2, 6);
        Assert.Equal([6f, 7, 8, 9, 10, 11], flat.Row(1).ToArray());
        flat.Row(1)[0] = 42f;
        Assert.Equal(42f, t[2, 0]);

        Tensor copy = t.Clone();
        copy.Fill(0f);
        Assert.Equal(42f, t[2, 0]);
    }

    [Fact]
    public void Bad_shapes_and_indices_are_rejected_with_names()
    {
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => new Tensor()).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentOutOfRangeException>(() => new Tensor(3, -1)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3)).ParamName);
        var t = new Tensor(4, 3);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => t.Reshape(5, 2)).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => t[4, 0]).ParamName);
        Assert.Equal("column", Assert.Throws<ArgumentOutOfRangeException>(() => t[0, 3]).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(2, 3)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => t.Row(-1)).ParamName);
        Assert.Throws<InvalidOperationException>(() => new Tensor(2, 2, 2)[0, 0]);
    }
}

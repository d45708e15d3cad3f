namespace LifelongPrefs.Models;

public sealed partial class TifuKnn
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.TifuKnn, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the vectors are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer) => _core.Write(writer, (w, s) =>
    {
        w.AddInts("setting.counts", [s.Neighbors, s.Groups]);
        w.AddFloats("setting.weights", [s.WithinGroupDecay, s.GroupDecay, s.Alpha]);
    });

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader) => _core.Read(reader, _options, r =>
    {
        int[] counts = r.Ints("setting.counts", 2);
        float[] weights = r.Floats("setting.weights", 3);
        var setting = new TifuKnnSetting(counts[0], counts[1], weights[0], weights[1], weights[2]);
        r.Require(setting.Neighbors is >= 1 and <= 100_000 && setting.Groups >= 1
            && setting.WithinGroupDecay is > 0f and <= 1f && setting.GroupDecay is > 0f and <= 1f && setting.Alpha is >= 0f and <= 1f,
            $"the saved setting {setting} is out of range");
        return setting;
    });
}

namespace LifelongPrefs.Models;

public sealed partial class UpCf
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.UpCf, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the profiles are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer) => _core.Write(writer, (w, s) =>
    {
        w.AddInts("setting.counts", [s.Recency, s.Locality]);
        w.AddFloats("setting.asymmetry", [s.Asymmetry]);
    });

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader) => _core.Read(reader, _options, r =>
    {
        int[] counts = r.Ints("setting.counts", 2);
        var setting = new UpCfSetting(counts[0], r.Floats("setting.asymmetry", 1)[0], counts[1]);
        r.Require(setting.Recency >= 1 && setting.Asymmetry is >= 0f and <= 1f && setting.Locality is >= 1 and <= 100,
            $"the saved setting {setting} is out of range");
        return setting;
    });
}

namespace LifelongPrefs.Models;

public sealed partial class UpCf
{
    private protected override ModelStateHeader StateHeader => new(ModelTypeId.UpCf, 1, _options.Canonical());

    /// <inheritdoc/>
    /// <remarks>The histories and the chosen setting; the profiles are rebuilt from them on load (they are a function of both).</remarks>
    private protected override void WriteState(ModelStateWriter writer)
    {
        UpCfSetting s = _version.Setting;
        NeighbourModel.WriteCounts(writer, _users, ItemCount, ValidationNdcg);
        writer.AddInts("setting.counts", [s.Recency, s.Locality]);
        writer.AddFloats("setting.asymmetry", [s.Asymmetry]);
        HistoryViews.Write(writer, "history", _histories, _users);
    }

    /// <inheritdoc/>
    private protected override Action ReadState(ModelStateReader reader)
    {
        (int users, int items, double ndcg) = NeighbourModel.ReadCounts(reader, _options.MaxUsers, _options.MaxItems);
        int[] counts = reader.Ints("setting.counts", 2);
        var setting = new UpCfSetting(counts[0], reader.Floats("setting.asymmetry", 1)[0], counts[1]);
        reader.Require(setting.Recency >= 1 && setting.Asymmetry is >= 0f and <= 1f && setting.Locality is >= 1 and <= 100,
            $"the saved setting {setting} is out of range");
        UserHistories histories = HistoryViews.Read(reader, "history", users, items);
        UpCfProfiles profiles = Build(histories, users, items, setting.Recency, out int[]?[] bought, out int[]?[] popularItems, out float[]?[] popularValues);
        return () =>
        {
            (_histories, _users, _bought, _popularItems, _popularValues, ValidationNdcg) = (histories, users, bought, popularItems, popularValues, ndcg);
            _version = new UpCfScorer(profiles, items, setting);
        };
    }
}
